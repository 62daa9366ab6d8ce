"""Adversarial attacks with the field's conventions, wrapped around torchattacks 3.5.1.

Conventions (reference §1, §6, §8): images in [0, 1] float32; resize and normalisation
live inside the classifier (so `set_normalization_used` is never called); ε is a fraction
of the [0, 1] range, never part of a preset, shown as "4/255" with its norm; attacks run in
fp32 with autocast off; every adversarial batch is asserted inside the ε-ball and [0, 1].

Randomness: each attack call runs inside `torch.random.fork_rng` seeded from
(seed, batch index), so a batch gets the same perturbation whichever shard evaluates it,
and the caller's global RNG is left untouched (torchattacks' APGD reseeds it globally).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import torch
import torchattacks
from torch import Tensor, nn
from torchattacks.attack import Attack

from robustness.engine.errors import EngineError

AttackKind = Literal["fgsm", "pgd", "pgd-l2", "cw-linf", "apgd-ce", "apgd-t", "autoattack", "aa-apgd", "aa-standard"]
Norm = Literal["Linf", "L2"]
StepRule = Literal["fraction-of-eps", "min-of-value-and-eps", "adaptive"]
TargetMode = Literal["untargeted", "least-likely", "random"]

ATTACK_KINDS: tuple[str, ...] = (
    "fgsm", "pgd", "pgd-l2", "cw-linf", "apgd-ce", "apgd-t", "autoattack", "aa-apgd", "aa-standard")
ADAPTIVE_KINDS = frozenset({"apgd-ce", "apgd-t", "autoattack", "aa-apgd", "aa-standard"})
# The reference AutoAttack (Croce & Hein 2020, RobustBench's "standard" version): APGD-CE and
# APGD-T (DLR-targeted) at 100 iterations, FAB-T at 100, Square at 5,000 queries, 1 restart each.
# torchattacks' own AutoAttack runs its parts at their 10-step defaults instead.
REFERENCE_AA_STEPS = 100
REFERENCE_SQUARE_QUERIES = 5000
BALL_TOLERANCE = 1e-6
ANCHORAGE_ATTACK_VERSION = "anchorage-1"
# Reference AutoAttack runs APGD-T against the top-9 classes; torchattacks targets
# n_classes - 1 classes, so capping n_classes at 10 reproduces the reference's 9 targets.
APGD_T_MAX_CLASSES = 10


class AttackConfigError(EngineError):
    """An attack name, preset, parameter or ε is not valid."""


@dataclass(frozen=True)
class AttackSpec:
    """What an attack does, independent of ε (ε is always a separate list).

    step_rule "fraction-of-eps": α = step_value · ε; "min-of-value-and-eps": α = min(step_value, ε);
    "adaptive": APGD chooses its own step size. kappa is the CW margin confidence.
    """

    kind: AttackKind
    steps: int = 10
    step_rule: StepRule = "fraction-of-eps"
    step_value: float = 0.25
    random_start: bool = True
    norm: Norm = "Linf"
    kappa: float = 50.0
    target_mode: TargetMode = "untargeted"
    preset: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ATTACK_KINDS:
            raise AttackConfigError(f"unknown attack {self.kind!r}; choose one of {', '.join(ATTACK_KINDS)}")
        if self.steps < 1:
            raise AttackConfigError(f"attack steps must be >= 1, got {self.steps}")
        if self.kind == "pgd-l2" and self.norm != "L2":
            object.__setattr__(self, "norm", "L2")
        if self.target_mode != "untargeted" and self.kind not in ("fgsm", "pgd", "pgd-l2"):
            raise AttackConfigError(f"targeted mode {self.target_mode!r} is only supported for fgsm/pgd/pgd-l2")

    @property
    def name(self) -> str:
        """The preset name where this is one, else a descriptive name such as "pgd-7"."""
        if self.preset is not None:
            return self.preset
        suffix = "" if self.kind == "fgsm" else f"-{self.steps}"
        target = "" if self.target_mode == "untargeted" else f"-targeted-{self.target_mode}"
        return f"{self.kind}{suffix}{target}"

    def step_size(self, eps: float) -> float | None:
        """α for this ε (None where the attack adapts its own step size)."""
        if self.step_rule == "adaptive" or self.kind in ADAPTIVE_KINDS:
            return None
        if self.step_rule == "fraction-of-eps":
            return self.step_value * eps
        return min(self.step_value, eps)

    def library(self) -> str:
        """Which implementation runs the attack, with its version (for the record)."""
        if self.kind == "cw-linf":
            return f"anchorage cw-linf margin PGD ({ANCHORAGE_ATTACK_VERSION})"
        return f"torchattacks {torchattacks.__version__}"

    def describe(self, n_classes: int) -> str:
        """One line for records: the parts that decide the numbers."""
        targets = min(n_classes, APGD_T_MAX_CLASSES) - 1
        if self.kind == "aa-apgd":
            if n_classes < 3:
                return (f"AutoAttack screening: APGD-CE only (2 classes), {self.steps} steps, adaptive step, "
                        "torchattacks")
            return (f"AutoAttack screening (not the standard version): APGD-CE + APGD-T (DLR-targeted, "
                    f"{targets} target classes), {self.steps} steps each, adaptive step, 1 restart, torchattacks")
        if self.kind == "aa-standard":
            if n_classes < 3:
                return (f"AutoAttack standard at 2 classes: APGD-CE {REFERENCE_AA_STEPS} steps + Square "
                        f"{REFERENCE_SQUARE_QUERIES} queries (the targeted parts need 3 classes), torchattacks")
            return (f"AutoAttack standard (RobustBench-comparable): APGD-CE {REFERENCE_AA_STEPS} steps, APGD-T "
                    f"(DLR-targeted, {targets} targets) {REFERENCE_AA_STEPS} steps, FAB-T ({targets} targets) "
                    f"{REFERENCE_AA_STEPS} steps, Square {REFERENCE_SQUARE_QUERIES} queries, 1 restart each, "
                    "adaptive step, torchattacks")
        if self.kind == "autoattack":
            if n_classes < 3:
                return "torchattacks AutoAttack at 2 classes: APGD-CE only, 10 steps, adaptive step"
            return (f"torchattacks AutoAttack 'standard' at its defaults: APGD-CE, APGD-T ({n_classes - 1} targets) "
                    "and FAB-T at 10 steps, Square 5000 queries (the reference runs 100 steps: "
                    "use autoattack-standard)")
        if self.kind == "apgd-ce":
            return f"APGD-CE {self.norm}, {self.steps} steps, adaptive step, 1 restart, torchattacks"
        if self.kind == "apgd-t":
            return (f"APGD-T {self.norm}, DLR-targeted loss, {targets} target classes, {self.steps} steps, "
                    "adaptive step, 1 restart, torchattacks")
        rule = {"fraction-of-eps": f"{self.step_value:g}·ε", "min-of-value-and-eps": f"min({self.step_value:.6g}, ε)"}
        alpha = rule.get(self.step_rule, "adaptive")
        loss = f"CW margin κ={self.kappa:g}" if self.kind == "cw-linf" else "CE"
        start = "random start" if self.random_start else "no random start"
        return f"{self.kind} {self.norm}, loss {loss}, {self.steps} steps, α={alpha}, {start}, {self.target_mode}"


ONE_OVER_255 = 1.0 / 255.0
PRESETS: dict[str, AttackSpec] = {
    "screen-pgd10": AttackSpec("pgd", 10, "fraction-of-eps", 0.25, True, preset="screen-pgd10"),
    "agft-pgd20": AttackSpec("pgd", 20, "min-of-value-and-eps", ONE_OVER_255, True, preset="agft-pgd20"),
    "tecoa-pgd100": AttackSpec("pgd", 100, "min-of-value-and-eps", ONE_OVER_255, True, preset="tecoa-pgd100"),
    "cw-linf": AttackSpec("cw-linf", 10, "fraction-of-eps", 0.25, True, kappa=50.0, preset="cw-linf"),
    "aa-apgd": AttackSpec("aa-apgd", 100, "adaptive", 0.0, False, preset="aa-apgd"),
    "autoattack-standard": AttackSpec("aa-standard", REFERENCE_AA_STEPS, "adaptive", 0.0, False,
                                      preset="autoattack-standard"),
}
# How the forms and the run page name each preset.
PRESET_LABELS: dict[str, str] = {
    "screen-pgd10": "Screening PGD-10 (α = ε/4, random start)",
    "agft-pgd20": "PGD-20 as AGFT reports it (α = min(1/255, ε))",
    "tecoa-pgd100": "PGD-100 as TeCoA reports it (α = min(1/255, ε))",
    "cw-linf": "CW L∞ (margin loss κ = 50, 10 steps)",
    "aa-apgd": "AutoAttack screening: APGD-CE + APGD-T, 100 steps (fast; not comparable to RobustBench)",
    "autoattack-standard": "AutoAttack standard: APGD-CE, APGD-T, FAB-T, Square (RobustBench-comparable; slow)",
}


def preset(name: str) -> AttackSpec:
    """A named preset from the reference's §8.2 "Anchorage's presets" table."""
    try:
        return PRESETS[name]
    except KeyError:
        raise AttackConfigError(f"unknown attack preset {name!r}; presets: {', '.join(PRESETS)}") from None


def parse_attack(text: str) -> AttackSpec:
    """A preset name ("screen-pgd10") or free parameters ("pgd:steps=7,alpha=0.25", "fgsm",
    "pgd-l2:steps=20", "cw-linf:kappa=10"). alpha is a fraction of ε; alpha_max=1/255 means min(1/255, ε)."""
    if text in PRESETS:
        return PRESETS[text]
    kind, _, params = text.partition(":")
    fields: dict[str, object] = {}
    for item in filter(None, params.split(",")):
        key, _, value = item.partition("=")
        if key == "steps":
            fields["steps"] = int(value)
        elif key == "alpha":
            fields.update(step_rule="fraction-of-eps", step_value=float(Fraction(value)))
        elif key == "alpha_max":
            fields.update(step_rule="min-of-value-and-eps", step_value=float(Fraction(value)))
        elif key == "kappa":
            fields["kappa"] = float(value)
        elif key == "random_start":
            fields["random_start"] = value.lower() in ("1", "true", "yes")
        elif key == "target":
            fields["target_mode"] = value
        else:
            raise AttackConfigError(f"unknown attack parameter {key!r} in {text!r}")
    if kind == "fgsm":
        fields.setdefault("steps", 1)
        fields.setdefault("random_start", False)
    try:
        return AttackSpec(kind, **fields)  # type: ignore[arg-type]  # parsed fields; TypeError below
    except TypeError as error:
        raise AttackConfigError(f"bad attack {text!r}: {error}") from error


# ε is a fraction of the [0, 1] pixel range in (0, 1], shown as "k/255" when ε·255 lies within this many
# 255ths of a whole k. The Django side's rule is `governance.thresholds` (the engine imports nothing of
# ours); tests/governance/test_epsilon_rule.py proves the two agree on every k/255 and on the edges.
EPSILON_LABEL_TOLERANCE = 1e-4


def parse_epsilon(text: str | float) -> float:
    """ε as a fraction of the [0, 1] range from "4/255", "0.0157" or a float; must be in (0, 1]."""
    try:
        value = float(Fraction(text.strip())) if isinstance(text, str) else float(text)
    except (TypeError, ValueError, ZeroDivisionError) as error:
        raise AttackConfigError(f"cannot read ε {text!r}: write it as k/255 or a fraction such as 0.0157") from error
    if not 0.0 < value <= 1.0:  # also refuses NaN
        raise AttackConfigError(f"ε must lie in (0, 1] (a fraction of the pixel range), got {text!r}")
    return value


def format_epsilon(eps: float) -> str:
    """ "4/255" where ε·255 is within the label tolerance of a whole number ≥ 1, else the decimal fraction."""
    k = eps * 255.0
    if round(k) >= 1 and abs(k - round(k)) < EPSILON_LABEL_TOLERANCE:
        return f"{round(k)}/255"
    return f"{eps:.6g}"


def threat_model_label(eps: float, norm: Norm) -> str:
    """ε with its norm, as shown to users: "L∞ 4/255"."""
    return f"{'L∞' if norm == 'Linf' else 'L2'} {format_epsilon(eps)}"


def batch_seed(seed: int, batch_index: int) -> int:
    """A 63-bit seed for one batch, a pure function of (seed, batch index)."""
    return int(np.random.SeedSequence([seed, batch_index]).generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1)


class CWLinf(Attack):  # type: ignore[misc]  # torchattacks ships no type information
    """L∞ PGD on the Carlini-Wagner margin loss, as the CLIP papers mean by "CW".

    Maximises -relu(z_y - max_{j≠y} z_j + κ) (TeCoA's κ = 50): every example keeps being
    pushed until the wrong class leads by κ. torchattacks' `CW` is the L2 attack instead.
    """

    def __init__(
        self, model: nn.Module, eps: float, alpha: float, steps: int, kappa: float = 50.0, random_start: bool = True
    ) -> None:
        super().__init__("CWLinf", model)
        self.eps, self.alpha, self.steps, self.kappa, self.random_start = eps, alpha, steps, kappa, random_start
        self.supported_mode = ["default"]

    def margin_objective(self, logits: Tensor, labels: Tensor) -> Tensor:
        """Per-example objective to maximise, shape (N,)."""
        true = logits.gather(1, labels[:, None]).squeeze(1)
        others = logits.masked_fill(nn.functional.one_hot(labels, logits.shape[1]).bool(), float("-inf"))
        return -torch.relu(true - others.max(1).values + self.kappa)

    def forward(self, images: Tensor, labels: Tensor) -> Tensor:
        images = images.clone().detach().to(self.device)
        labels = labels.clone().detach().to(self.device)
        adv = images.clone()
        if self.random_start:
            adv = (adv + torch.empty_like(adv).uniform_(-self.eps, self.eps)).clamp(0, 1)
        for _ in range(self.steps):
            adv.requires_grad_(True)
            objective = self.margin_objective(self.get_logits(adv), labels).sum()
            grad = torch.autograd.grad(objective, adv)[0]
            adv = adv.detach() + self.alpha * grad.sign()
            adv = (images + (adv - images).clamp(-self.eps, self.eps)).clamp(0, 1).detach()
        return adv


def build_attack(model: nn.Module, spec: AttackSpec, eps: float, n_classes: int, seed: int) -> Attack:
    """The torchattacks object for one (spec, ε); `seed` feeds the APGD family's own seeding."""
    alpha = spec.step_size(eps)
    if spec.kind == "fgsm":
        attack: Attack = torchattacks.FGSM(model, eps=eps)
    elif spec.kind == "pgd":
        attack = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=spec.steps, random_start=spec.random_start)
    elif spec.kind == "pgd-l2":
        attack = torchattacks.PGDL2(model, eps=eps, alpha=alpha, steps=spec.steps, random_start=spec.random_start)
    elif spec.kind == "cw-linf":
        assert alpha is not None
        attack = CWLinf(model, eps=eps, alpha=alpha, steps=spec.steps, kappa=spec.kappa, random_start=spec.random_start)
    elif spec.kind == "apgd-ce":
        attack = torchattacks.APGD(model, norm=spec.norm, eps=eps, steps=spec.steps, loss="ce", seed=seed)
    elif spec.kind == "apgd-t":
        _require_three_classes(spec, n_classes)
        attack = _apgd_t(model, spec.norm, eps, spec.steps, n_classes, seed)
    elif spec.kind == "autoattack":
        attack = _autoattack(model, spec, eps, n_classes, seed)
    elif spec.kind == "aa-standard":
        attack = _autoattack_standard(model, spec, eps, n_classes, seed)
    else:
        attack = _apgd_ensemble(model, spec, eps, n_classes, seed)
    if spec.target_mode == "least-likely":
        attack.set_mode_targeted_least_likely(quiet=True)
    elif spec.target_mode == "random":
        attack.set_mode_targeted_random(quiet=True)
    return attack


def _require_three_classes(spec: AttackSpec, n_classes: int) -> None:
    if n_classes < 3:
        raise AttackConfigError(f"{spec.name} is a targeted attack and needs at least 3 classes, got {n_classes}")


class _APGDT(torchattacks.APGDT):  # type: ignore[misc]  # torchattacks ships no type information
    """torchattacks' APGD-T with the targeted DLR loss defined at 3 classes too.

    DLR-T = −(z_y − z_t) / (z_π1 − ½(z_π3 + z_π4) + 1e-12), with π the classes sorted by logit;
    at 3 classes there is no π4 and torchattacks indexes past the end (IndexError). There we use
    z_π3 for both terms, z_π1 − z_π3: the same scale-invariant denominator over the classes that exist.
    """

    def dlr_loss_targeted(self, x: Tensor, y: Tensor, y_target: Tensor) -> Tensor:
        if x.shape[1] >= 4:
            loss: Tensor = super().dlr_loss_targeted(x, y, y_target)
            return loss
        ordered = x.sort(dim=1).values
        rows = torch.arange(x.shape[0], device=x.device)
        return -(x[rows, y] - x[rows, y_target]) / (ordered[:, -1] - ordered[:, -3] + 1e-12)


def _apgd_t(model: nn.Module, norm: Norm, eps: float, steps: int, n_classes: int, seed: int) -> Attack:
    return _APGDT(model, norm=norm, eps=eps, steps=steps, seed=seed, n_classes=min(n_classes, APGD_T_MAX_CLASSES))


def _autoattack(model: nn.Module, spec: AttackSpec, eps: float, n_classes: int, seed: int) -> Attack:
    if n_classes < 3:  # APGD-T and FAB-T need >= 3 classes: AutoAttack is APGD-CE alone there
        return torchattacks.APGD(model, norm=spec.norm, eps=eps, steps=10, loss="ce", seed=seed)
    attack = torchattacks.AutoAttack(model, norm=spec.norm, eps=eps, version="standard", n_classes=n_classes, seed=seed)
    parts = attack._autoattack.attacks
    parts[1] = _APGDT(model, norm=spec.norm, eps=eps, seed=parts[1].seed, n_classes=n_classes, n_restarts=1)
    return attack


def _autoattack_standard(model: nn.Module, spec: AttackSpec, eps: float, n_classes: int, seed: int) -> Attack:
    """The reference's standard AutoAttack: its four parts at its iteration counts, run in turn
    on the examples still correctly classified (torchattacks.MultiAttack keeps the first success)."""
    steps = spec.steps
    parts: list[Attack] = [torchattacks.APGD(model, norm=spec.norm, eps=eps, steps=steps, loss="ce", seed=seed,
                                             n_restarts=1)]
    if n_classes >= 3:
        targets = min(n_classes, APGD_T_MAX_CLASSES)
        parts.append(_APGDT(model, norm=spec.norm, eps=eps, steps=steps, seed=seed, n_classes=targets, n_restarts=1))
        parts.append(torchattacks.FAB(model, norm=spec.norm, eps=eps, steps=steps, seed=seed, multi_targeted=True,
                                      n_classes=targets, n_restarts=1))
    parts.append(torchattacks.Square(model, norm=spec.norm, eps=eps, n_queries=REFERENCE_SQUARE_QUERIES, seed=seed,
                                     n_restarts=1))
    return torchattacks.MultiAttack(parts)


def _apgd_ensemble(model: nn.Module, spec: AttackSpec, eps: float, n_classes: int, seed: int) -> Attack:
    apgd_ce = torchattacks.APGD(model, norm=spec.norm, eps=eps, steps=spec.steps, loss="ce", seed=seed)
    if n_classes < 3:
        return apgd_ce
    return torchattacks.MultiAttack([apgd_ce, _apgd_t(model, spec.norm, eps, spec.steps, n_classes, seed)])


def run_attack(
    model: nn.Module, images: Tensor, labels: Tensor, spec: AttackSpec, eps: float, *, n_classes: int, seed: int
) -> Tensor:
    """Adversarial images for one batch: (N,3,H,W) in [0,1] → same shape, inside the ε-ball and [0,1].

    Runs in fp32 with autocast off and gradients on (callers may be under no_grad), with the
    global RNG forked and seeded by `seed`, so the result is a function of (inputs, seed).
    """
    assert images.dtype == torch.float32, f"attacks run in fp32, got {images.dtype}"
    assert images.min() >= 0 and images.max() <= 1, "images must lie in [0, 1]"
    if eps == 0.0:
        return images.clone()
    devices = [images.device.index or 0] if images.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.enable_grad(), _autocast_off(images.device):
        torch.manual_seed(seed)
        attack = build_attack(model, spec, eps, n_classes, seed % (2**31))
        adversarial: Tensor = attack(images, labels).detach()
    assert_in_ball(adversarial, images, eps, spec.norm)
    return adversarial


def _autocast_off(device: torch.device) -> torch.autocast:
    device_type = device.type if device.type in ("cuda", "cpu") else "cpu"
    return torch.autocast(device_type=device_type, enabled=False)


def assert_in_ball(adversarial: Tensor, images: Tensor, eps: float, norm: Norm) -> None:
    """Raise AssertionError unless every example lies in its ε-ball (with 1e-6 slack) and in [0, 1]."""
    delta = (adversarial - images).flatten(1)
    size = delta.abs().max(1).values if norm == "Linf" else delta.norm(dim=1)
    worst = float(size.max()) if size.numel() else 0.0
    # fp32 rounding of (x + δ) − x is ~1e-7; L2 norms also carry a relative error.
    assert worst <= eps * (1 + 1e-5) + BALL_TOLERANCE, f"perturbation {worst} exceeds ε={eps} ({norm})"
    assert float(adversarial.min()) >= -BALL_TOLERANCE and float(adversarial.max()) <= 1 + BALL_TOLERANCE, (
        "adversarial images left [0, 1]"
    )
