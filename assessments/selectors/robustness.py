"""Robustness evidence, read defensively: the one record shape, `governance.thresholds.RobustnessRecordDict`.

That is the engine's `RobustnessRecord` as JSON: `clean_accuracy {value, low, high}` and `results [{attack,
eps, eps_label, threat_model, robust_accuracy {value, low, high}, ...}]`. Anything else, or anything
unreadable in it, is skipped, never an error: a broken attachment must not break the dashboard or a report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assessments.models import EvidenceSource, EvidenceVersion
from governance.thresholds import ThresholdCheck, format_epsilon, record_accuracy, thresholds_judge

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


__all__ = ["AttackPoint", "RobustnessSummary", "ThresholdCheck", "record_from_metadata_or_file", "record_points",
           "robustness_summary_get", "robustness_versions"]


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


def _interval(value: Any) -> tuple[float | None, float | None, float | None]:
    """(value, low, high) of an `AccuracyDict`; each None where it is not a fraction in [0, 1]."""
    if not isinstance(value, Mapping):
        return None, None, None
    return record_accuracy(value), record_accuracy({"value": value.get("low")}), \
        record_accuracy({"value": value.get("high")})


def _point(item: Any) -> AttackPoint | None:
    if not isinstance(item, Mapping):
        return None
    accuracy, low, high = _interval(item.get("robust_accuracy"))
    try:
        epsilon = float(item["eps"])
    except (KeyError, TypeError, ValueError):
        return None
    if accuracy is None:
        return None
    return AttackPoint(attack=str(item.get("attack") or "attack"), threat_model=str(item.get("threat_model") or "Linf"),
                       epsilon=epsilon, epsilon_label=str(item.get("eps_label") or format_epsilon(epsilon)),
                       robust_accuracy=accuracy, low=low, high=high)


def record_from_metadata_or_file(version: EvidenceVersion) -> Mapping[str, Any] | None:
    """The record: `metadata["record"]`, the metadata itself, or the JSON file (small files only)."""
    # Rows written before metadata was checked may hold any JSON value: only an object is read.
    metadata = version.metadata if isinstance(version.metadata, Mapping) else {}
    if isinstance(metadata.get("record"), Mapping):
        return metadata["record"]
    if "results" in metadata:
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
    items = record.get("results")
    points = [point for point in (_point(item) for item in items) if point] if isinstance(items, list) else []
    return tuple(sorted(points, key=lambda p: (p.attack, p.epsilon)))


def robustness_summary_get(version: EvidenceVersion, *, thresholds: Iterable[Mapping[str, Any]] = ()
                           ) -> RobustnessSummary | None:
    record = record_from_metadata_or_file(version)
    if record is None:
        return None
    points = record_points(record)
    clean = record_accuracy(record.get("clean_accuracy"))
    if not points and clean is None:
        return None
    metadata = version.metadata if isinstance(version.metadata, Mapping) else {}
    model_version = str(metadata.get("model_version_label") or metadata.get("model_version")
                        or f"v{version.number}")
    n_examples = record.get("n_examples")
    return RobustnessSummary(
        version_id=version.pk, sha256=version.sha256, evidence_title=version.evidence.title,
        ai_system_id=version.evidence.ai_system_id, model_version=model_version,
        ai_system_name=version.evidence.ai_system.name if version.evidence.ai_system is not None else "",
        dataset=str(record.get("dataset", "")), n_examples=n_examples if isinstance(n_examples, int) else None,
        clean_accuracy=clean, points=points, checks=thresholds_judge(record, thresholds))


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
