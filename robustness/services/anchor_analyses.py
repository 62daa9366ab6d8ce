"""Anchor analysis on a worker: how close the class text anchors sit, and LAAT's expansion (factor k)."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction

from governance.jobs import Claim, Heartbeat, job_claim, job_succeeded
from robustness.engine.anchors import AnchorDiagnostics, expand_anchors
from robustness.engine.classifier import DEFAULT_TEMPLATES, build_text_anchors
from robustness.engine.errors import DatasetError
from robustness.engine.evaluate import resolve_device
from robustness.engine.records import library_versions
from robustness.models import AnchorAnalysis
from robustness.services import loading
from robustness.services.outcomes import run_cancelled, run_guarded
from robustness.services.run_settings import AnchorAnalysisSettings


def anchor_analysis_execute(*, analysis_id: int) -> str:
    claim = job_claim(model=AnchorAnalysis, pk=analysis_id)
    if claim is None:
        return "not claimed"
    return run_guarded(claim, lambda: _execute(claim))


def _diagnostics(diagnostics: AnchorDiagnostics | None) -> dict[str, Any] | None:
    if diagnostics is None:
        return None
    return {**diagnostics.summary(), "class_names": list(diagnostics.class_names),
            "similarity": [list(row) for row in diagnostics.similarity]}


def _execute(claim: Claim) -> str:
    analysis = AnchorAnalysis.objects.select_related("model_version").get(pk=claim.pk)
    heartbeat = Heartbeat(claim)
    heartbeat.beat(progress=0.05, message="Loading the model.", eta=None, force=True)
    if heartbeat.should_cancel():
        return run_cancelled(claim, message="Cancelled before it started.")
    started = time.monotonic()
    device = resolve_device("auto")
    loaded, model_sha = loading.clip_load(analysis.model_version, str(device))
    templates = tuple(analysis.model_version.prompt_templates) or DEFAULT_TEMPLATES
    settings = AnchorAnalysisSettings.from_dict(analysis.config)
    train, target = list(settings.train_class_names), list(settings.target_class_names)
    if len(set(train)) < 2:
        raise DatasetError("anchor analysis needs at least two distinct training classes")
    heartbeat.beat(progress=0.4, message="Encoding the class prompts.", eta=None, force=True)
    train_anchors = build_text_anchors(loaded.model, loaded.tokenizer, train, templates)
    target_anchors = build_text_anchors(loaded.model, loaded.tokenizer, target, templates) if len(target) >= 2 else None
    _, report = expand_anchors(train_anchors, target_anchors, train_names=train,
                                       target_names=target or None, top_k=settings.top_k)
    result = {"factor": report.factor, "theta_max_degrees": report.theta_max_degrees, "applied": report.applied,
              "reason": report.reason, "train_before": _diagnostics(report.train_before),
              "train_after": _diagnostics(report.train_after), "target_before": _diagnostics(report.target_before),
              "target_after": _diagnostics(report.target_after)}
    provenance = {"versions": library_versions(), "device": str(device), "model_sha256": model_sha,
                  "templates": list(templates), "duration_seconds": round(time.monotonic() - started, 3)}
    with transaction.atomic():
        job_succeeded(claim, message=f"Expansion factor k = {report.factor:.3f}.", result=result,
                      provenance=provenance)
    return "succeeded"
