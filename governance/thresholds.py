"""Robustness thresholds set in advance (Art 9(8)), the ε rule and the record contract: no Django.

`parse_epsilon`/`format_epsilon` are the Django side's one ε rule, `RobustnessRecordDict` the one shape
of the record robustness hands to assessments, and `thresholds_judge` the one judge of an AI system's
thresholds against a record: the finding a run opens, the dashboard, the evidence page and the PDF all
ask it, so they cannot disagree (issue #13: the dashboard and the PDF used to ignore `min_clean_accuracy`).

Governance may not import the robustness app, so the preset names are listed here; a test
proves they match `robustness.engine.attacks.PRESETS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, TypedDict

ATTACK_PRESETS: tuple[str, ...] = ("screen-pgd10", "agft-pgd20", "tecoa-pgd100", "cw-linf", "aa-apgd",
                                   "autoattack-standard")


class Threshold(TypedDict, total=False):
    attack: str
    epsilon: float  # a fraction of the [0, 1] pixel range, L-infinity
    min_robust_accuracy: float
    min_clean_accuracy: float


# The one ε rule (issue #15): ε is a fraction of the [0, 1] pixel range in (0, 1], read from "4/255",
# "0.0157" or a number, and shown as "k/255" when ε·255 lies within this many 255ths of a whole k.
# `robustness.engine.attacks` keeps a copy (the engine imports nothing of ours);
# tests/governance/test_epsilon_rule.py proves the two agree on every k/255 and on the edges.
EPSILON_LABEL_TOLERANCE = 1e-4


def parse_epsilon(value: str | float | int) -> float:
    """"4/255" or 0.0157 → 0.0157; ε must lie in (0, 1]. A bare "4" is 4, not 4/255, and so refused."""
    try:
        epsilon = float(Fraction(value.strip())) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"ε {value!r} is not a number or a fraction such as 4/255") from None
    if not 0 < epsilon <= 1:  # also refuses NaN
        raise ValueError(f"ε {value!r} must lie in (0, 1] as a fraction of the pixel range (e.g. 4/255)")
    return epsilon


def format_epsilon(epsilon: float) -> str:
    """0.01568… → "4/255" where it is a whole number (≥ 1) of 255ths, else the decimal (6 significant digits)."""
    scaled = epsilon * 255
    whole = round(scaled)
    return f"{whole}/255" if whole >= 1 and abs(scaled - whole) < EPSILON_LABEL_TOLERANCE else f"{epsilon:.6g}"


def epsilon_same(first: float, second: float) -> bool:
    """Two stored ε are the same radius when they differ by less than the label tolerance (in 255ths)."""
    return abs(first - second) * 255 < EPSILON_LABEL_TOLERANCE


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
    seen: list[tuple[str, float]] = []
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
        if any(attack == other and epsilon_same(epsilon, radius) for other, radius in seen):
            raise ValueError(f"{where}: {attack} at ε={format_epsilon(epsilon)} is listed twice")
        seen.append((attack, epsilon))
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


Metric = Literal["robust_accuracy", "clean_accuracy"]


class AccuracyDict(TypedDict):
    """A proportion in [0, 1] with its Wilson 95 % interval (the engine's `metrics.Interval`)."""

    value: float
    low: float
    high: float


class ClassAccuracyDict(TypedDict):
    class_index: int
    class_name: str
    examples: int
    correct: int
    accuracy: float | None


class RobustnessResultDict(TypedDict):
    """One attack at one ε (the engine's `records.AttackResult`)."""

    attack: str
    attack_description: str
    attack_library: str
    threat_model: str  # "Linf" or "L2"
    eps: float  # a fraction of the [0, 1] pixel range
    eps_label: str  # "4/255", as `format_epsilon` writes it
    robust_accuracy: AccuracyDict
    attack_success_rate: AccuracyDict
    defence_success_rate: AccuracyDict
    per_class: list[ClassAccuracyDict]
    worst_class: ClassAccuracyDict | None


class RobustnessRecordDict(TypedDict):
    """The record robustness hands to assessments: `RobustnessRecord.to_json()` read back with `json.loads`.

    The one shape the readers accept (the evidence metadata's `record`, an uploaded record.json); a test
    proves its keys are the engine dataclass's fields."""

    schema: str
    dataset: str
    n_examples: int
    n_classes: int
    class_names: list[str]
    clean_accuracy: AccuracyDict
    clean_per_class: list[ClassAccuracyDict]
    clean_worst_class: ClassAccuracyDict | None
    results: list[RobustnessResultDict]
    seed: int
    batch_size: int
    versions: dict[str, str]
    device: str
    anchor_diagnostics: dict[str, Any] | None


@dataclass(frozen=True)
class MeasuredPoint:
    """One robust accuracy a run measured: attack preset, ε (a fraction, L-infinity), accuracy in [0, 1]."""

    attack: str
    epsilon: float
    robust_accuracy: float


@dataclass(frozen=True)
class ThresholdCheck:
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


def record_accuracy(value: Any) -> float | None:
    """The `value` of an `AccuracyDict`, or None when it is missing or not a fraction in [0, 1]."""
    if not isinstance(value, Mapping):
        return None
    try:
        number = float(value.get("value"))  # type: ignore[arg-type]  # anything: float() refuses it
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= 1 else None


def record_measurements(record: Mapping[str, Any]) -> tuple[float | None, tuple[MeasuredPoint, ...]]:
    """(clean accuracy, robust accuracies) of a `RobustnessRecordDict`; unreadable results are skipped."""
    points = []
    results = record.get("results")
    for item in results if isinstance(results, list) else ():
        accuracy = record_accuracy(item.get("robust_accuracy")) if isinstance(item, Mapping) else None
        if accuracy is None:
            continue
        try:
            epsilon = float(item["eps"])
        except (KeyError, TypeError, ValueError):
            continue
        points.append(MeasuredPoint(attack=str(item.get("attack", "")), epsilon=epsilon, robust_accuracy=accuracy))
    return record_accuracy(record.get("clean_accuracy")), tuple(points)


def thresholds_judge(record: Mapping[str, Any], thresholds: Iterable[Mapping[str, Any]] | None
                     ) -> tuple[ThresholdCheck, ...]:
    """Every threshold row against a record (`RobustnessRecordDict`): a robust-accuracy check for the row's
    attack and ε, and a clean-accuracy check when the row sets `min_clean_accuracy`. Accuracies are
    fractions in [0, 1]; a measurement is a failure when it is below the minimum. Unreadable rows are
    skipped."""
    clean_accuracy, points = record_measurements(record)
    checks: list[ThresholdCheck] = []
    for row in thresholds or ():
        parsed = _row_read(row)
        if parsed is None:
            continue
        attack, epsilon, minimum_robust, minimum_clean = parsed
        label = format_epsilon(epsilon)
        match = next((p for p in points if p.attack == attack and epsilon_same(p.epsilon, epsilon)), None)
        if minimum_robust is not None:
            checks.append(_verdict(attack, epsilon, label, minimum_robust,
                                   match.robust_accuracy if match else None, "robust_accuracy"))
        if minimum_clean is not None:
            checks.append(_verdict(attack, epsilon, label, minimum_clean, clean_accuracy, "clean_accuracy"))
    return tuple(checks)


def _verdict(attack: str, epsilon: float, label: str, minimum: float, measured: float | None,
             metric: Metric) -> ThresholdCheck:
    return ThresholdCheck(attack=attack, epsilon_label=label, minimum=minimum, measured=measured,
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
