"""A robustness record's threat model and run environment, in the words an auditor reads.

Everything is derived from the record's own fields: structured ones (`steps`, `restarts`,
`step_size`, `knowledge`, `target_mode`, `loss`) where a record has them, else the engine's
`attack_description` line (`robustness.engine.attacks.AttackSpec.describe`), whose shapes are:

* "pgd Linf, loss CE, 10 steps, α=0.25·ε, random start, untargeted" (fgsm, pgd, pgd-l2, cw-linf, apgd-*)
* "torchattacks AutoAttack standard, n_classes=4, APGD 10 steps" / "APGD-CE only (2 classes), 10 steps, …"
* "APGD-CE + APGD-T (n_classes=4), 100 steps each, torchattacks (pyautoattack not installed)"

What a record does not say is printed as "not recorded", never filled in from the attack's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from governance.thresholds import EPSILON_LABEL_TOLERANCE, format_epsilon

KIND_NAMES = {"fgsm": "FGSM", "pgd": "PGD", "pgd-l2": "PGD", "cw-linf": "CW-margin PGD", "apgd-ce": "APGD-CE",
              "apgd-t": "APGD-T"}
GRADIENT_KINDS = frozenset({*KIND_NAMES, "autoattack", "aa-apgd", "aa-standard"})
WHITE_BOX = "white-box"
LOSS_NAMES = {"CE": "cross-entropy loss"}
_SPEC = re.compile(r"^(?P<kind>[a-z0-9-]+) (?P<norm>Linf|L2), loss (?P<loss>[^,]+), (?P<steps>\d+) steps, "
                   r"α=(?P<alpha>min\([^)]*\)|[^,]+), (?P<start>random start|no random start), (?P<goal>[\w-]+)$")
_AUTOATTACK = re.compile(r"AutoAttack standard, n_classes=(?P<classes>\d+), APGD (?P<steps>\d+) steps")
_AUTOATTACK_TWO = re.compile(r"^APGD-CE only \(2 classes\), (?P<steps>\d+) steps")
_ENSEMBLE = re.compile(r"^(?P<parts>APGD-CE(?: \+ APGD-T \(n_classes=\d+\))?), (?P<steps>\d+) steps each")
# The engine's descriptions of the APGD family since the standard AutoAttack preset (their words
# are already plain: each comma-separated part becomes one phrase).
_APGD_FAMILY = (
    ("aa-standard", re.compile(r"^AutoAttack standard")),
    ("aa-apgd", re.compile(r"^AutoAttack screening")),
    ("autoattack", re.compile(r"^torchattacks AutoAttack (?:'standard' at its defaults|at 2 classes)")),
    ("apgd-ce", re.compile(r"^APGD-CE (?:Linf|L2), ")),
    ("apgd-t", re.compile(r"^APGD-T (?:Linf|L2), ")),
)
_NAME_STEPS = re.compile(r"^(?P<name>[A-Za-z-]+?)-(?P<steps>\d+)$")


def norm_label(norm: str) -> str:
    return {"Linf": "L∞", "L2": "L2"}.get(norm, norm or "norm not recorded")


def fraction_label(value: float) -> str:
    """A step size as ε is shown (`governance.thresholds.format_epsilon`: "1/255", else decimals), and a
    quarter of a 255th as "0.25/255" (α = 0.25·ε at ε = 1/255)."""
    scaled = value * 255
    label = format_epsilon(value)
    if "/" not in label and abs(scaled * 4 - round(scaled * 4)) < EPSILON_LABEL_TOLERANCE:
        return f"{scaled:g}/255"
    return label


def _step_size(alpha: str, eps: float) -> str:
    """The engine's α rule at this ε: "0.25·ε" → "α = 0.25·ε = 1/255"; "min(0.00392157, ε)" likewise."""
    if alpha == "adaptive":
        return "adaptive step size (APGD)"
    fraction = re.fullmatch(r"([\d.]+)·ε", alpha)
    if fraction:
        return f"step size α = {alpha} = {fraction_label(float(fraction.group(1)) * eps)}"
    capped = re.fullmatch(r"min\(([\d.eE-]+), ε\)", alpha)
    if capped:
        value = float(capped.group(1))
        return f"step size α = min({fraction_label(value)}, ε) = {fraction_label(min(value, eps))}"
    return f"step size α = {alpha}"


def _structured(item: Mapping[str, Any], eps: float) -> list[str] | None:
    """A record that states its parameters as fields (steps, restarts, step_size …)."""
    if "steps" not in item:
        return None
    parts = [f"{item.get('target_mode', 'untargeted')} {item.get('attack_kind') or item.get('attack')} "
             f"with {item['steps']} steps"]
    restarts = item.get("restarts")
    parts.append(f"{restarts} restart{'s' if restarts != 1 else ''}" if restarts is not None
                 else "restarts not recorded")
    step = item.get("step_size")
    if isinstance(step, int | float):
        parts.append(f"step size α = {fraction_label(float(step))}")
    elif step:
        parts.append(_step_size(str(step), eps))
    if item.get("loss"):
        parts.append(LOSS_NAMES.get(str(item["loss"]), f"loss {item['loss']}"))
    return parts


def _described(description: str, eps: float) -> tuple[str | None, list[str]]:
    """The attack kind and the words for the engine's description line (kind None: not understood)."""
    spec = _SPEC.match(description)
    if spec:
        kind = spec["kind"]
        start = "1 restart (random start)" if spec["start"] == "random start" else \
            "1 run from the clean image (no random start)"
        alpha = "adaptive" if kind.startswith("apgd") else spec["alpha"]
        # torchattacks' FGSM takes one step of size ε whatever α the spec carries.
        step = f"one step of size ε = {fraction_label(eps)}" if kind == "fgsm" else _step_size(alpha, eps)
        return kind, [f"{spec['goal']} {KIND_NAMES.get(kind, kind)} with {spec['steps']} "
                      f"step{'s' if spec['steps'] != '1' else ''}", start, step,
                      LOSS_NAMES.get(spec["loss"], f"loss {spec['loss']}")]
    for kind, pattern in _APGD_FAMILY:
        if pattern.match(description):
            phrases = re.split(r", (?![^()]*\))", description.removesuffix(", torchattacks"))
            return kind, [phrase.strip() for phrase in phrases]
    auto = _AUTOATTACK.search(description)
    if auto:
        return "autoattack", [f"AutoAttack standard (APGD-CE, APGD-T, FAB-T, Square) over {auto['classes']} classes",
                              f"APGD {auto['steps']} steps", "1 restart each", "adaptive step size (APGD)"]
    two = _AUTOATTACK_TWO.match(description)
    if two:
        return "autoattack", [f"AutoAttack reduced to APGD-CE (2 classes) with {two['steps']} steps", "1 restart",
                              "adaptive step size (APGD)"]
    ensemble = _ENSEMBLE.match(description)
    if ensemble:
        return "aa-apgd", [f"{ensemble['parts']} with {ensemble['steps']} steps each", "1 restart each",
                           "adaptive step size (APGD)"]
    named = _NAME_STEPS.match(description)
    if named:
        return None, [f"{named['name']} with {named['steps']} steps", "restarts not recorded",
                      "step size not recorded"]
    return None, [f"parameters not recorded ({description or 'no description'})"]


def threat_model_words(item: Mapping[str, Any]) -> str:
    """One result entry (attack × ε) as "white-box, L∞, ε = 4/255, untargeted PGD with 10 steps, …"."""
    eps = float(item.get("eps") or 0.0)
    eps_label = str(item.get("eps_label") or fraction_label(eps))
    description = str(item.get("attack_description") or "")
    structured = _structured(item, eps)
    kind, parts = (str(item.get("attack_kind") or ""), structured) if structured is not None \
        else _described(description, eps)
    knowledge = item.get("knowledge") or (WHITE_BOX if kind in GRADIENT_KINDS else "attacker knowledge not recorded")
    library = str(item.get("attack_library") or "library not recorded")
    return ", ".join([str(knowledge), norm_label(str(item.get("threat_model") or "")), f"ε = {eps_label}", *parts]) \
        + f" — {item.get('attack') or 'attack'}, {library}"


def threat_models(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every result entry of a record (`governance.thresholds.RobustnessRecordDict`) with its threat model
    in words, in the record's order."""
    items = record.get("results")
    return [{"attack": str(item.get("attack") or "attack"),
             "eps_label": str(item.get("eps_label") or fraction_label(float(item.get("eps") or 0.0))),
             "words": threat_model_words(item)}
            for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def run_environment(record: Mapping[str, Any], provenance: Mapping[str, Any]) -> dict[str, Any]:
    """Where and with what the numbers were made: the record's own fields first, then the run's provenance."""
    def first(key: str) -> Any:
        value = record.get(key)
        return value if value not in (None, "", {}) else provenance.get(key)

    versions = first("versions") or {}
    return {
        "device": first("device") or "not recorded", "seed": first("seed"),
        "versions": ", ".join(f"{name} {value}" for name, value in sorted(versions.items()))
        if isinstance(versions, Mapping) else str(versions),
        "dataset": first("dataset") or "not recorded", "data_sha256": provenance.get("data_sha256") or "",
        "model_sha256": provenance.get("model_sha256") or "", "n_examples": first("n_examples"),
        "batch_size": record.get("batch_size"),
    }
