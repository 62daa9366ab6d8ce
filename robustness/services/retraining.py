"""Retraining on a worker: fine-tune with checkpoints, register the result as a new model version
with lineage, and request its re-evaluation (and the parent's, if missing) with the same settings.

The engine checkpoints into the run's work folder every `checkpoint_every` steps; a run whose
worker died resumes there exactly. The new version and its re-evaluation commit together with
the run's change to `succeeded`, so a redelivered task can never register a second version.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import transaction

from governance.jobs import Claim, Heartbeat, job_claim, job_succeeded
from governance.models.registry import Dataset, ModelVersion
from governance.services.model_versions import model_version_create, training_card_save
from robustness.engine.evaluate import resolve_device
from robustness.engine.finetune import retrain
from robustness.engine.progress import RetrainingCancelled
from robustness.models import EvaluationRun, RetrainingRun, RunStatus, RunTrigger
from robustness.services import artifacts, loading
from robustness.services.outcomes import remove_tree, run_cancelled, run_guarded
from robustness.services.run_requests import evaluation_run_request
from robustness.services.run_settings import RetrainingSettings

LOSS_TERMS = {
    "alignment-ce": [{"name": "alignment cross-entropy on adversarial images", "kind": "robustness", "weight": 1.0},
                     {"name": "clean/adversarial consistency", "kind": "regularisation", "weight": 1.0}],
    "tecoa": [{"name": "cross-entropy on adversarial images (TeCoA)", "kind": "robustness", "weight": 1.0}],
    "agft": [{"name": "distillation on adversarial images (AGFT)", "kind": "robustness", "weight": 1.0}],
    "fare": [{"name": "embedding distance on adversarial images (FARE)", "kind": "robustness", "weight": 1.0}],
}


def work_directory(run_id: int) -> Path:
    return artifacts.run_directory("retraining", run_id) / "work"


def retraining_run_execute(*, run_id: int) -> str:
    claim = job_claim(model=RetrainingRun, pk=run_id)
    if claim is None:
        return "not claimed"
    return run_guarded(claim, lambda: _execute(claim), cleanup=lambda: remove_tree(work_directory(run_id)))


def _execute(claim: Claim) -> str:
    run = RetrainingRun.objects.select_related("model_version", "training_dataset", "ai_system").get(pk=claim.pk)
    heartbeat = Heartbeat(claim)
    heartbeat.beat(progress=run.progress, message=f"Loading model and data (attempt {claim.attempt}).", eta=None,
                   force=True)
    if heartbeat.should_cancel():
        remove_tree(work_directory(run.pk))
        return run_cancelled(claim, message="Cancelled before it started.")
    started = time.monotonic()
    settings = RetrainingSettings.from_dict(run.config)
    engine_config = settings.engine
    device = resolve_device(settings.device)
    data = loading.data_load(dataset=run.training_dataset, builtin=settings.builtin_dataset, limit=None,
                             seed=engine_config.seed)
    loaded, model_sha = loading.clip_load(run.model_version, str(device))
    classifier = loading.classifier_build(loaded, run.model_version, tuple(data.dataset.class_names))
    work = work_directory(run.pk)
    resumable = (work / "training-state.pt").is_file()
    parent = loading.version_checkpoint_path(run.model_version) if run.model_version.checkpoint else None

    def progress(done: int, total: int, message: str, eta: float | None) -> None:
        heartbeat.beat(progress=done / total * 0.95, message=message, eta=eta,
                       checkpoint={"work": str(work), "step": done})

    try:
        outcome = retrain(classifier, data.dataset, engine_config, out_dir=work, clip_model=loaded.model,
                          parent_checkpoint=parent,
                          data_description=f"{data.name} ({len(data.dataset)} images, sha256 {data.sha256})",
                          device=device, progress=progress, should_cancel=heartbeat.should_cancel,
                          train_class_names=data.dataset.class_names)
    except RetrainingCancelled as cancelled:
        remove_tree(work)
        return run_cancelled(claim, message=str(cancelled).capitalize() + ".")
    heartbeat.beat(progress=0.97, message="Registering the new model version.", eta=None, force=True)
    card = json.loads(outcome.card_path.read_text(encoding="utf-8"))
    provenance = {"versions": card.get("versions", {}), "device": str(device), "seed": engine_config.seed,
                  "model_sha256": model_sha, "data_sha256": data.sha256, "dataset": data.name,
                  "output_sha256": outcome.checkpoint_sha256, "resumed_from_step": outcome.resumed_from_step,
                  "resumed": resumable, "duration_seconds": round(time.monotonic() - started, 3),
                  "attempt": claim.attempt}
    _finish(claim, run, outcome.checkpoint_path, card, provenance, list(outcome.losses))
    remove_tree(work)
    return "succeeded"


@transaction.atomic
def _finish(claim: Claim, run: RetrainingRun, checkpoint: Path, card: dict[str, Any], provenance: dict[str, Any],
            losses: list[float]) -> None:
    parent, settings = run.model_version, RetrainingSettings.from_dict(run.config)
    method = settings.engine.method
    with checkpoint.open("rb") as handle:
        version = model_version_create(
            ai_system=run.ai_system, actor=None, checkpoint=File(handle, name="model.safetensors"),
            data={"version": f"{parent.version}+{method}-r{run.pk}"[:80],
                  "architecture": parent.architecture, "model_config": parent.model_config, "pretrained_tag": "",
                  "class_names": parent.class_names, "prompt_templates": parent.prompt_templates, "parent": parent})
    training_card_save(model_version=version, actor=None, data={
        "loss_terms": LOSS_TERMS[method],
        "achieves_intended_outcome": f"Adversarial fine-tuning ({method}) of the vision tower at "
                                     f"ε = {settings.engine.eps:.5f}; measured by the automatic re-evaluation."})
    result = {"card": card, "losses": losses[-200:], "output_model_version_id": version.pk,
              "output_version": version.version}
    job_succeeded(claim, message=f"Finished: new model version {version.version}.", result=result,
                  provenance=provenance, output_model_version=version, checkpoint={})
    dataset_id = settings.evaluation_dataset_id
    dataset = None if dataset_id is None else Dataset.objects.filter(
        pk=dataset_id, organisation_id=run.organisation_id).first()
    _before_evaluation_ensure(run, settings, dataset)
    evaluation_run_request(ai_system=run.ai_system, model_version=version, actor=None, config=settings.evaluation,
                           dataset=dataset, trigger=RunTrigger.RETRAINING, retraining=run)


def _before_evaluation_ensure(run: RetrainingRun, settings: RetrainingSettings, dataset: Dataset | None) -> None:
    """Before/after must compare like with like: evaluate the parent too unless it already was."""
    for earlier in EvaluationRun.objects.filter(model_version=run.model_version, dataset=dataset).exclude(
            status__in=[RunStatus.FAILED, RunStatus.CANCELLED]):
        if settings.evaluation_matches(earlier.config):
            return
    evaluation_run_request(ai_system=run.ai_system, model_version=run.model_version, actor=None,
                           config=settings.evaluation, dataset=dataset, trigger=RunTrigger.RETRAINING, retraining=run)


def parent_and_child_evaluations(run: RetrainingRun) -> tuple[EvaluationRun | None, EvaluationRun | None]:
    """The parent's and the new version's evaluations with the run's settings (for side by side)."""
    settings = RetrainingSettings.from_dict(run.config)

    def latest(version: ModelVersion | None) -> EvaluationRun | None:
        if version is None:
            return None
        for candidate in EvaluationRun.objects.filter(model_version=version).order_by("-created_at"):
            if settings.evaluation_matches(candidate.config):
                return candidate
        return None

    return latest(run.model_version), latest(run.output_model_version)
