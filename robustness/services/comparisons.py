"""Reading records against thresholds and against each other (pure functions over record dicts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings

from governance.thresholds import thresholds_judge


def regression_tolerance() -> float:
    """An absolute drop in accuracy (0.05 = five points) that counts as a regression."""
    return settings.ROBUSTNESS_REGRESSION_TOLERANCE


def accuracy_points(record: Mapping[str, Any]) -> dict[str, float]:
    """{"clean": acc, "<attack> @ <ε>": robust acc} of a record."""
    points = {"clean": float(record["clean_accuracy"]["value"])}
    for item in record.get("results", []):
        points[f"{item['attack']} @ {item['eps_label']}"] = float(item["robust_accuracy"]["value"])
    return points


def threshold_failures(record: Mapping[str, Any], thresholds: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The thresholds (set in advance on the AI system) that this record misses, with the numbers.

    The verdicts are the one judge's (`governance.thresholds.thresholds_judge`), as on the dashboard and in
    the PDF; this only shapes them for the finding's description and metadata.
    """
    verdicts = thresholds_judge(record, thresholds)
    return [{"attack": "clean" if v.metric == "clean_accuracy" else v.attack,
             "eps": 0.0 if v.metric == "clean_accuracy" else v.epsilon,
             "eps_label": "0" if v.metric == "clean_accuracy" else v.epsilon_label,
             "metric": v.metric, "measured": v.measured, "minimum": v.minimum, "label": v.label}
            for v in verdicts if v.passed is False]


def regressions_find(before: Mapping[str, Any], after: Mapping[str, Any],
                     tolerance: float | None = None) -> list[dict[str, Any]]:
    """Points that fell by more than the tolerance between two runs."""
    limit = regression_tolerance() if tolerance is None else tolerance
    old, new = accuracy_points(before), accuracy_points(after)
    return [{"what": key, "before": old[key], "after": new[key], "drop": new[key] - old[key]}
            for key in new if key in old and old[key] - new[key] > limit]


def before_after(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Rows for the side-by-side table of a retraining: each point before, after and the change."""
    old = accuracy_points(before) if before else {}
    new = accuracy_points(after) if after else {}
    return [{"what": key, "before": old.get(key), "after": new.get(key),
             "change": (new[key] - old[key]) if key in old and key in new else None,
             "change_points": round(100 * (new[key] - old[key]), 1) if key in old and key in new else None}
            for key in dict.fromkeys([*old, *new])]
