"""Robustness evidence, read defensively: an engine record (RobustBench-shaped JSON) in any of its shapes.

The engine's `RobustnessRecord` has `clean_accuracy {value, low, high}` and `results [{attack, eps,
eps_label, threat_model, robust_accuracy {value, low, high}, ...}]`; older or hand-made records
put the list under `records` or `attacks` and accuracies as bare numbers. Anything unreadable
is skipped, never an error: a broken attachment must not break the dashboard or a report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assessments.models import EvidenceSource, EvidenceVersion
from governance.thresholds import MeasuredPoint, ThresholdVerdict, thresholds_judge

MAX_RECORD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class AttackPoint:
    attack: str
    threat_model: str
    epsilon: float
    epsilon_label: str
    robust_accuracy: float
    low: float | None
    high: float | None


# A threshold's verdict is the one judge's (`governance.thresholds.thresholds_judge`); the name stays for
# the report code that rebuilds checks from stored facts.
ThresholdCheck = ThresholdVerdict


@dataclass(frozen=True)
class RobustnessSummary:
    version_id: int
    sha256: str
    evidence_title: str
    ai_system_id: int | None
    ai_system_name: str
    model_version: str
    dataset: str
    n_examples: int | None
    clean_accuracy: float | None
    points: tuple[AttackPoint, ...]
    checks: tuple[ThresholdCheck, ...]

    @property
    def passed(self) -> bool | None:
        verdicts = [check.passed for check in self.checks if check.passed is not None]
        return all(verdicts) if verdicts else None

    @property
    def failed_labels(self) -> tuple[str, ...]:
        return tuple(check.label for check in self.checks if check.passed is False)

    @property
    def worst_robust_accuracy(self) -> float | None:
        return min((p.robust_accuracy for p in self.points), default=None)


def _accuracy(value: Any) -> tuple[float | None, float | None, float | None]:
    if isinstance(value, Mapping):
        value, low, high = value.get("value"), value.get("low"), value.get("high")
        return _number(value), _number(low), _number(high)
    return _number(value), None, None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number / 100 if number > 1 else number  # some tools report per cent


def _epsilon(item: Mapping[str, Any]) -> tuple[float, str]:
    raw = item.get("eps", item.get("epsilon", 0))
    label = str(item.get("eps_label") or item.get("epsilon_label") or "")
    try:
        if isinstance(raw, str) and "/" in raw:
            top, bottom = raw.split("/", 1)
            value = float(top) / float(bottom)
        else:
            value = float(raw)
    except (TypeError, ValueError, ZeroDivisionError):
        value = 0.0
    if not label:
        scaled = value * 255
        label = f"{round(scaled)}/255" if abs(scaled - round(scaled)) < 1e-3 else f"{value:g}"
    return value, label


def _point(item: Any) -> AttackPoint | None:
    if not isinstance(item, Mapping):
        return None
    accuracy, low, high = _accuracy(item.get("robust_accuracy", item.get("robust_acc")))
    if accuracy is None:
        return None
    epsilon, label = _epsilon(item)
    return AttackPoint(attack=str(item.get("attack") or item.get("name") or "attack"),
                       threat_model=str(item.get("threat_model") or item.get("norm") or "Linf"),
                       epsilon=epsilon, epsilon_label=label, robust_accuracy=accuracy, low=low, high=high)


def record_from_metadata_or_file(version: EvidenceVersion) -> Mapping[str, Any] | None:
    """The record: `metadata["record"]`, the metadata itself, or the JSON file (small files only)."""
    # Rows written before metadata was checked may hold any JSON value: only an object is read.
    metadata = version.metadata if isinstance(version.metadata, Mapping) else {}
    if isinstance(metadata.get("record"), Mapping):
        return metadata["record"]
    if any(key in metadata for key in ("results", "records", "attacks")):
        return metadata
    if version.file and version.size <= MAX_RECORD_BYTES and version.filename.lower().endswith(".json"):
        try:
            with version.file.open("rb") as handle:
                data = json.loads(handle.read().decode("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, Mapping) else None
    return None


def record_points(record: Mapping[str, Any]) -> tuple[AttackPoint, ...]:
    items = record.get("results") or record.get("records") or record.get("attacks") or []
    if isinstance(items, Mapping):  # {"pgd": {...}} keyed by attack
        items = [{"attack": key, **value} for key, value in items.items() if isinstance(value, Mapping)]
    points = [point for point in (_point(item) for item in items if isinstance(items, list)) if point]
    return tuple(sorted(points, key=lambda p: (p.attack, p.epsilon)))


def threshold_checks(points: Iterable[AttackPoint], thresholds: Iterable[Mapping[str, Any]],
                     clean_accuracy: float | None) -> tuple[ThresholdCheck, ...]:
    """The system's thresholds against a record's points and clean accuracy (the one judge decides)."""
    measured = [MeasuredPoint(attack=p.attack, epsilon=p.epsilon, robust_accuracy=p.robust_accuracy) for p in points]
    return thresholds_judge(thresholds, clean_accuracy=clean_accuracy, points=measured)


def robustness_summary_get(version: EvidenceVersion, *, thresholds: Iterable[Mapping[str, Any]] = ()
                           ) -> RobustnessSummary | None:
    record = record_from_metadata_or_file(version)
    if record is None:
        return None
    points = record_points(record)
    clean, _, _ = _accuracy(record.get("clean_accuracy", record.get("clean_acc")))
    if not points and clean is None:
        return None
    metadata = version.metadata if isinstance(version.metadata, Mapping) else {}
    model_version = str(metadata.get("model_version_label") or metadata.get("model_version")
                        or record.get("model_version") or record.get("model") or f"v{version.number}")
    n_examples = record.get("n_examples", record.get("n"))
    return RobustnessSummary(
        version_id=version.pk, sha256=version.sha256, evidence_title=version.evidence.title,
        ai_system_id=version.evidence.ai_system_id, model_version=model_version,
        ai_system_name=version.evidence.ai_system.name if version.evidence.ai_system is not None else "",
        dataset=str(record.get("dataset", "")), n_examples=n_examples if isinstance(n_examples, int) else None,
        clean_accuracy=clean, points=points, checks=threshold_checks(points, thresholds, clean))


def robustness_versions(organisation_id: int, *, ai_system_id: int | None = None, limit: int = 30
                        ) -> list[EvidenceVersion]:
    """The newest versions a robustness run produced, one query.

    Only machine evidence counts (issue #13): a hand-uploaded record of kind "robustness result"
    renders on its evidence page but never stands on the dashboard beside the runs' own.
    """
    versions = (EvidenceVersion.objects.filter(organisation_id=organisation_id, source=EvidenceSource.ROBUSTNESS_RUN)
                .select_related("evidence", "evidence__ai_system").order_by("-uploaded_at", "-id"))
    if ai_system_id is not None:
        versions = versions.filter(evidence__ai_system_id=ai_system_id)
    return list(versions[:limit])
