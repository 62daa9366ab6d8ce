"""Reads: runs of an organisation (always filtered by it), their status and their comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from governance.models.tenancy import Organisation
from robustness.models import AnchorAnalysis, EvaluationRun, RetrainingRun, RobustnessAlert, RobustnessRun

KINDS: dict[str, type[RobustnessRun]] = {
    EvaluationRun.kind_slug: EvaluationRun,
    AnchorAnalysis.kind_slug: AnchorAnalysis,
    RetrainingRun.kind_slug: RetrainingRun,
}


def run_model_for(kind: str) -> type[RobustnessRun]:
    try:
        return KINDS[kind]
    except KeyError:
        raise Http404("No such kind of run") from None


def runs_of(organisation: Organisation, kind: str, *, ai_system_id: int | None = None) -> QuerySet:
    rows = run_model_for(kind)._default_manager.filter(organisation=organisation).select_related(
        "ai_system", "model_version", "requester")
    if ai_system_id is not None:
        rows = rows.filter(ai_system_id=ai_system_id)
    return rows


def run_get(organisation: Organisation, kind: str, pk: int) -> RobustnessRun:
    """404 for another organisation's run: never a hint that it exists."""
    run = runs_of(organisation, kind).filter(pk=pk).first()
    if run is None:
        raise Http404("No such run")
    return run


def run_status(run: RobustnessRun) -> dict[str, Any]:
    """What the progress bar polls."""
    return {"id": run.pk, "kind": run.kind_slug, "status": run.status, "status_label": run.get_status_display(),
            "progress": round(run.progress, 4), "eta_seconds": run.eta_seconds, "message": run.message,
            "error": run.error, "attempt": run.attempt, "worker": run.worker, "finished": run.is_finished,
            "cancel_requested": run.cancel_requested}


@dataclass(frozen=True)
class SystemRuns:
    evaluations: list[EvaluationRun]
    anchor_analyses: list[AnchorAnalysis]
    retraining_runs: list[RetrainingRun]
    alerts: list[RobustnessAlert]


def system_runs(organisation: Organisation, ai_system_id: int | None, limit: int = 50) -> SystemRuns:
    alerts = RobustnessAlert.objects.filter(organisation=organisation, acknowledged=False).select_related(
        "ai_system", "evaluation")
    if ai_system_id is not None:
        alerts = alerts.filter(ai_system_id=ai_system_id)
    return SystemRuns(list(runs_of(organisation, "evaluations", ai_system_id=ai_system_id)[:limit]),
                      list(runs_of(organisation, "anchor-analyses", ai_system_id=ai_system_id)[:limit]),
                      list(runs_of(organisation, "retraining", ai_system_id=ai_system_id)[:limit]),
                      list(alerts[:20]))


def alerts_open(organisation: Organisation) -> list[RobustnessAlert]:
    """The dashboard's robustness alerts: regressions and failed thresholds not yet acknowledged."""
    return list(RobustnessAlert.objects.filter(organisation=organisation, acknowledged=False)
                .select_related("ai_system", "evaluation")[:20])
