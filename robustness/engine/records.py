"""The one RobustBench-shaped result record of an evaluation (frozen, JSON round-trips).

Shape follows RobustBench's model-info entries (threat model, ε as "k/255", clean and
robust accuracy, attack, n examples) extended with what CLIP zero-shot audits need:
Wilson intervals, attack/defence success rates, per-class numbers, anchor diagnostics,
seed, library versions and device.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from robustness.engine.attacks import format_epsilon
from robustness.engine.metrics import EvaluationPartial, Interval, per_class_accuracy, wilson_interval, worst_class

RECORD_SCHEMA = "anchorage.robustness-record/1"


@dataclass(frozen=True)
class ClassAccuracy:
    """Accuracy of one class (None where the class had no examples)."""

    class_index: int
    class_name: str
    examples: int
    correct: int
    accuracy: float | None


@dataclass(frozen=True)
class AttackResult:
    """Robustness under one attack at one ε."""

    attack: str
    attack_description: str
    attack_library: str
    threat_model: str  # "Linf" or "L2" (RobustBench's spelling)
    eps: float  # fraction of the [0, 1] pixel range
    eps_label: str  # "4/255"
    robust_accuracy: Interval
    attack_success_rate: Interval  # flipped among clean-correct
    defence_success_rate: Interval  # still correct among clean-correct
    per_class: tuple[ClassAccuracy, ...]
    worst_class: ClassAccuracy | None


@dataclass(frozen=True)
class RobustnessRecord:
    """An evaluation's whole result: clean accuracy and one `AttackResult` per attack × ε."""

    dataset: str
    n_examples: int
    n_classes: int
    class_names: tuple[str, ...]
    clean_accuracy: Interval
    clean_per_class: tuple[ClassAccuracy, ...]
    clean_worst_class: ClassAccuracy | None
    results: tuple[AttackResult, ...]
    seed: int
    batch_size: int
    versions: dict[str, str]
    device: str
    anchor_diagnostics: dict[str, Any] | None = None
    schema: str = field(default=RECORD_SCHEMA)

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys)."""
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> RobustnessRecord:
        data = json.loads(text)
        data["class_names"] = tuple(data["class_names"])
        data["clean_accuracy"] = Interval(**data["clean_accuracy"])
        data["clean_per_class"] = _classes(data["clean_per_class"])
        data["clean_worst_class"] = _class(data["clean_worst_class"])
        data["results"] = tuple(_attack_result(item) for item in data["results"])
        return RobustnessRecord(**data)

    def result(self, attack: str, eps: float) -> AttackResult:
        """The result for (attack name, ε); KeyError if it was not evaluated."""
        for item in self.results:
            if item.attack == attack and abs(item.eps - eps) < 1e-12:
                return item
        raise KeyError(f"{attack} at ε={eps} not in this record")


def _class(data: dict[str, Any] | None) -> ClassAccuracy | None:
    return None if data is None else ClassAccuracy(**data)


def _classes(items: list[dict[str, Any]]) -> tuple[ClassAccuracy, ...]:
    return tuple(ClassAccuracy(**item) for item in items)


def _attack_result(data: dict[str, Any]) -> AttackResult:
    for key in ("robust_accuracy", "attack_success_rate", "defence_success_rate"):
        data[key] = Interval(**data[key])
    data["per_class"] = _classes(data["per_class"])
    data["worst_class"] = _class(data["worst_class"])
    return AttackResult(**data)


def library_versions() -> dict[str, str]:
    """Versions of the libraries that decide the numbers."""
    import torchattacks

    versions = {
        "torch": torch.__version__,
        "torchattacks": torchattacks.__version__,
        "python": platform.python_version(),
    }
    try:
        import open_clip

        versions["open_clip"] = open_clip.__version__
    except ImportError:  # the engine's attacks and metrics work without open_clip
        versions["open_clip"] = "not installed"
    return versions


def class_accuracies(
    correct: tuple[int, ...], examples: tuple[int, ...], names: tuple[str, ...]
) -> tuple[tuple[ClassAccuracy, ...], ClassAccuracy | None]:
    """Per-class accuracies and the worst class (None where no class has examples)."""
    accuracies = per_class_accuracy(correct, examples)
    rows = tuple(ClassAccuracy(i, names[i], examples[i], correct[i], accuracies[i]) for i in range(len(names)))
    worst = worst_class(correct, examples)
    return rows, (None if worst is None else rows[worst[0]])


@dataclass(frozen=True)
class AttackInfo:
    """What the record states about an attack, keyed by its name."""

    description: str
    library: str
    norm: str


def build_record(
    partial: EvaluationPartial,
    *,
    attacks: dict[str, AttackInfo],
    dataset: str,
    class_names: tuple[str, ...],
    seed: int,
    batch_size: int,
    device: str,
    anchor_diagnostics: dict[str, Any] | None = None,
) -> RobustnessRecord:
    """Turn merged counts into the record (pure: same counts → same record)."""
    assert len(class_names) == partial.n_classes, "one name per class"
    clean_total = sum(partial.clean_correct)
    clean_rows, clean_worst = class_accuracies(partial.clean_correct, partial.examples, class_names)
    results = []
    for counts in partial.attacks:
        info = attacks[counts.attack]
        rows, worst = class_accuracies(counts.robust_correct, partial.examples, class_names)
        robust = sum(counts.robust_correct)
        results.append(
            AttackResult(
                attack=counts.attack,
                attack_description=info.description,
                attack_library=info.library,
                threat_model=info.norm,
                eps=counts.eps,
                eps_label=format_epsilon(counts.eps),
                robust_accuracy=wilson_interval(robust, partial.n_examples),
                attack_success_rate=wilson_interval(counts.flipped, clean_total),
                defence_success_rate=wilson_interval(clean_total - counts.flipped, clean_total),
                per_class=rows,
                worst_class=worst,
            )
        )
    return RobustnessRecord(
        dataset=dataset,
        n_examples=partial.n_examples,
        n_classes=partial.n_classes,
        class_names=class_names,
        clean_accuracy=wilson_interval(clean_total, partial.n_examples),
        clean_per_class=clean_rows,
        clean_worst_class=clean_worst,
        results=tuple(results),
        seed=seed,
        batch_size=batch_size,
        versions=library_versions(),
        device=device,
        anchor_diagnostics=anchor_diagnostics,
    )
