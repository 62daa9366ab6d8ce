"""Robustness thresholds set in advance (Art 9(8)): parsing and checking, no Django.

`thresholds_judge` is the one judge of an AI system's thresholds against measured results: the
finding a run opens, the dashboard, the evidence page and the PDF all ask it, so they cannot
disagree (issue #13: the dashboard and the PDF used to ignore `min_clean_accuracy`).

Governance may not import the robustness app, so the preset names are listed here; a test
proves they match `robustness.engine.attacks.PRESETS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, TypedDict

ATTACK_PRESETS: tuple[str, ...] = ("screen-pgd10", "agft-pgd20", "tecoa-pgd100", "cw-linf", "aa-apgd")


class Threshold(TypedDict, total=False):
    attack: str
    epsilon: float  # a fraction of the [0, 1] pixel range, L-infinity
    min_robust_accuracy: float
    min_clean_accuracy: float


def parse_epsilon(value: str | float | int) -> float:
    """"4/255" or 0.0157 → 0.0157; ε must lie in (0, 1]."""
    try:
        epsilon = float(Fraction(value.strip())) if isinstance(value, str) else float(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"ε {value!r} is not a number or a fraction such as 4/255") from None
    if not 0 < epsilon <= 1:
        raise ValueError(f"ε {value!r} must lie in (0, 1] as a fraction of the pixel range (e.g. 4/255)")
    return epsilon


def format_epsilon(epsilon: float) -> str:
    """0.01568… → "4/255" where it is a whole number of 255ths, else the decimal."""
    scaled = epsilon * 255
    return f"{round(scaled)}/255" if abs(scaled - round(scaled)) < 1e-6 else f"{epsilon:g}"


def _accuracy(row: Mapping[str, Any], key: str, where: str) -> float:
    try:
        value = float(row[key])
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {key} must be a number between 0 and 1") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{where}: {key} must lie between 0 and 1 (accuracy as a fraction), got {value}")
    return value


def thresholds_clean(rows: Iterable[Mapping[str, Any]]) -> list[Threshold]:
    """Validate and normalise a list of thresholds; raises ValueError naming the bad row."""
    if not isinstance(rows, list | tuple):
        raise ValueError("expected a list of thresholds, each with attack, epsilon and min_robust_accuracy")
    cleaned: list[Threshold] = []
    seen: set[tuple[str, float]] = set()
    for index, row in enumerate(rows, start=1):
        where = f"threshold {index}"
        if not isinstance(row, Mapping):
            raise ValueError(f"{where}: expected an object with attack, epsilon and min_robust_accuracy")
        attack = str(row.get("attack", "")).strip()
        if attack not in ATTACK_PRESETS:
            raise ValueError(f"{where}: unknown attack preset {attack!r}; presets: {', '.join(ATTACK_PRESETS)}")
        try:
            epsilon = parse_epsilon(row.get("epsilon", ""))
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        item: Threshold = {"attack": attack, "epsilon": epsilon,
                           "min_robust_accuracy": _accuracy(row, "min_robust_accuracy", where)}
        if row.get("min_clean_accuracy") not in (None, ""):
            item["min_clean_accuracy"] = _accuracy(row, "min_clean_accuracy", where)
        key = (attack, round(epsilon, 9))
        if key in seen:
            raise ValueError(f"{where}: {attack} at ε={format_epsilon(epsilon)} is listed twice")
        seen.add(key)
        cleaned.append(item)
    return cleaned


def thresholds_parse_lines(text: str) -> list[Threshold]:
    """The web form's notation, one per line: `attack epsilon min_robust [min_clean]`."""
    rows: list[dict[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        if len(parts) not in (3, 4):
            raise ValueError(f"line {number}: expected 'attack epsilon min_robust_accuracy [min_clean_accuracy]', "
                             f"e.g. 'screen-pgd10 4/255 0.40 0.80'")
        row = dict(zip(["attack", "epsilon", "min_robust_accuracy", "min_clean_accuracy"], parts, strict=False))
        rows.append(row)
    return thresholds_clean(rows)


def thresholds_format_lines(rows: Iterable[Mapping[str, Any]]) -> str:
    lines = []
    for row in rows:
        parts = [row["attack"], format_epsilon(row["epsilon"]), f"{row['min_robust_accuracy']:g}"]
        if row.get("min_clean_accuracy") is not None:
            parts.append(f"{row['min_clean_accuracy']:g}")
        lines.append(" ".join(parts))
    return "\n".join(lines)


# Two measurements are the same ε when they differ by less than this (ε is stored as a float fraction).
EPSILON_TOLERANCE = 1e-6
Metric = Literal["robust_accuracy", "clean_accuracy"]


@dataclass(frozen=True)
class MeasuredPoint:
    """One robust accuracy a run measured: attack preset, ε (a fraction, L-infinity), accuracy in [0, 1]."""

    attack: str
    epsilon: float
    robust_accuracy: float


@dataclass(frozen=True)
class ThresholdVerdict:
    """One threshold against one measurement. `passed` is None when the run did not measure it."""

    attack: str
    epsilon_label: str
    minimum: float
    measured: float | None
    passed: bool | None
    metric: Metric = "robust_accuracy"
    epsilon: float = 0.0

    @property
    def label(self) -> str:
        if self.metric == "clean_accuracy":
            return "clean accuracy"
        return f"{self.attack} at ε = {self.epsilon_label}"


def thresholds_judge(thresholds: Iterable[Mapping[str, Any]] | None, *, clean_accuracy: float | None,
                     points: Iterable[MeasuredPoint]) -> tuple[ThresholdVerdict, ...]:
    """Every threshold row against a run's results: a robust-accuracy verdict for the row's attack and ε,
    and a clean-accuracy verdict when the row sets `min_clean_accuracy`. Accuracies are fractions in
    [0, 1]; a measurement is a failure when it is below the minimum. Unreadable rows are skipped."""
    points = list(points)
    verdicts: list[ThresholdVerdict] = []
    for row in thresholds or ():
        parsed = _row_read(row)
        if parsed is None:
            continue
        attack, epsilon, minimum_robust, minimum_clean = parsed
        label = format_epsilon(epsilon)
        match = next((p for p in points if p.attack == attack and abs(p.epsilon - epsilon) < EPSILON_TOLERANCE),
                     None)
        if minimum_robust is not None:
            verdicts.append(_verdict(attack, epsilon, label, minimum_robust,
                                     match.robust_accuracy if match else None, "robust_accuracy"))
        if minimum_clean is not None:
            verdicts.append(_verdict(attack, epsilon, label, minimum_clean, clean_accuracy, "clean_accuracy"))
    return tuple(verdicts)


def _verdict(attack: str, epsilon: float, label: str, minimum: float, measured: float | None,
             metric: Metric) -> ThresholdVerdict:
    return ThresholdVerdict(attack=attack, epsilon_label=label, minimum=minimum, measured=measured,
                            passed=None if measured is None else measured >= minimum, metric=metric,
                            epsilon=epsilon)


def _row_read(row: Any) -> tuple[str, float, float | None, float | None] | None:
    """(attack, ε, minimum robust, minimum clean) of a stored row, or None when it cannot be read."""
    if not isinstance(row, Mapping):
        return None
    try:
        epsilon = parse_epsilon(row.get("epsilon", ""))
        minimum_robust, minimum_clean = (_optional_number(row.get(key))
                                         for key in ("min_robust_accuracy", "min_clean_accuracy"))
    except ValueError:
        return None
    return str(row.get("attack", "")), epsilon, minimum_robust, minimum_clean


def _optional_number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
