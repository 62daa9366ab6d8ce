"""Counts that merge exactly across shards, and the statistics computed from them.

An evaluation is split into batch-aligned shards; each shard returns an
`EvaluationPartial` of integer counts, and `merge` adds them. Because only integers are
summed, any split of the batches gives bit-identical totals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from robustness.engine.errors import EngineError

Z_95 = 1.959963984540054


class PartialMergeError(EngineError):
    """Two partial evaluations cannot be merged (different set-up or overlapping batches)."""


@dataclass(frozen=True)
class Interval:
    """A proportion with its Wilson 95 % confidence interval, all in [0, 1]."""

    value: float
    low: float
    high: float


def wilson_interval(successes: int, total: int, z: float = Z_95) -> Interval:
    """Wilson score interval for successes/total; (0, 0, 1) where total is 0."""
    if total == 0:
        return Interval(0.0, 0.0, 1.0)
    if not 0 <= successes <= total:
        raise ValueError(f"successes {successes} not in [0, {total}]")
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class AttackCounts:
    """Counts for one (attack, ε) over some batches; tuples are indexed by class.

    robust_correct: correct on the clean AND the adversarial image (RobustBench: a clean
    mistake is never robust). flipped: clean-correct examples the attack made wrong.
    """

    attack: str
    eps: float
    robust_correct: tuple[int, ...]
    flipped: int

    def __add__(self, other: AttackCounts) -> AttackCounts:
        if (self.attack, self.eps) != (other.attack, other.eps):
            raise PartialMergeError(f"cannot add {self.attack}@{self.eps} to {other.attack}@{other.eps}")
        return AttackCounts(
            self.attack, self.eps, _add(self.robust_correct, other.robust_correct), self.flipped + other.flipped
        )


@dataclass(frozen=True)
class EvaluationPartial:
    """Integer counts from the batches in `batches`; merge with `merge` or `+`.

    examples/clean_correct: per class, length n_classes. attacks: one `AttackCounts` per
    (attack, ε) in a fixed order.
    """

    n_classes: int
    batches: tuple[int, ...]
    examples: tuple[int, ...]
    clean_correct: tuple[int, ...]
    attacks: tuple[AttackCounts, ...]

    @staticmethod
    def empty(n_classes: int, keys: Iterable[tuple[str, float]]) -> EvaluationPartial:
        zeros = (0,) * n_classes
        counts = tuple(AttackCounts(name, eps, zeros, 0) for name, eps in keys)
        return EvaluationPartial(n_classes, (), zeros, zeros, counts)

    @property
    def n_examples(self) -> int:
        return sum(self.examples)

    def merge(self, other: EvaluationPartial) -> EvaluationPartial:
        """Sum of two partials over disjoint batch sets; raises `PartialMergeError` otherwise."""
        if self.n_classes != other.n_classes:
            raise PartialMergeError(f"class counts differ: {self.n_classes} vs {other.n_classes}")
        if [(a.attack, a.eps) for a in self.attacks] != [(a.attack, a.eps) for a in other.attacks]:
            raise PartialMergeError("the partials were evaluated with different attacks or ε")
        overlap = set(self.batches) & set(other.batches)
        if overlap:
            raise PartialMergeError(f"batches evaluated twice: {sorted(overlap)[:10]}")
        return EvaluationPartial(
            self.n_classes,
            tuple(sorted(self.batches + other.batches)),
            _add(self.examples, other.examples),
            _add(self.clean_correct, other.clean_correct),
            tuple(a + b for a, b in zip(self.attacks, other.attacks, strict=True)),
        )

    __add__ = merge

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready form (for shard checkpoints)."""
        return {
            "n_classes": self.n_classes,
            "batches": list(self.batches),
            "examples": list(self.examples),
            "clean_correct": list(self.clean_correct),
            "attacks": [
                {"attack": a.attack, "eps": a.eps, "robust_correct": list(a.robust_correct), "flipped": a.flipped}
                for a in self.attacks
            ],
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> EvaluationPartial:
        attacks = tuple(
            AttackCounts(
                str(a["attack"]), float(a["eps"]), tuple(int(v) for v in a["robust_correct"]), int(a["flipped"])
            )
            for a in data["attacks"]
        )
        return EvaluationPartial(
            int(data["n_classes"]),
            tuple(int(b) for b in data["batches"]),
            tuple(int(v) for v in data["examples"]),
            tuple(int(v) for v in data["clean_correct"]),
            attacks,
        )


def merge_all(partials: Iterable[EvaluationPartial]) -> EvaluationPartial:
    """Merge any number of partials (at least one)."""
    iterator = iter(partials)
    total = next(iterator)
    for partial in iterator:
        total = total.merge(partial)
    return total


def per_class_accuracy(correct: tuple[int, ...], examples: tuple[int, ...]) -> tuple[float | None, ...]:
    """Accuracy per class; None for a class with no examples."""
    return tuple(c / n if n else None for c, n in zip(correct, examples, strict=True))


def worst_class(correct: tuple[int, ...], examples: tuple[int, ...]) -> tuple[int, float] | None:
    """(class index, accuracy) of the worst class that has examples; None if none has."""
    present = [(c / n, index) for index, (c, n) in enumerate(zip(correct, examples, strict=True)) if n]
    if not present:
        return None
    accuracy, index = min(present)
    return index, accuracy


def _add(left: tuple[int, ...], right: tuple[int, ...]) -> tuple[int, ...]:
    if len(left) != len(right):
        raise PartialMergeError(f"count vectors differ in length: {len(left)} vs {len(right)}")
    return tuple(a + b for a, b in zip(left, right, strict=True))
