"""Running an evaluation on a worker: claim, evaluate batch by batch with checkpoints, finish.

Batch b's attack randomness depends on (seed, b) only (engine/evaluate.py), so a run that
resumes at batch k from the stored counts of batches [0, k) ends with exactly the counts of an
uninterrupted run; the stored counts are the checkpoint.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from governance.jobs import Claim, Heartbeat, job_claim
from robustness.engine.evaluate import (
    EvaluationConfig,
    evaluate_partial,
    number_of_batches,
    record_from_partial,
    resolve_device,
)
from robustness.engine.manifest import RunManifest, manifest_build
from robustness.engine.metrics import EvaluationPartial
from robustness.engine.progress import EvaluationCancelled
from robustness.engine.records import library_versions
from robustness.models import EvaluationRun
from robustness.services import loading
from robustness.services.outcomes import run_cancelled, run_guarded
from robustness.services.publishing import evaluation_publish

logger = logging.getLogger(__name__)


@dataclass
class Prepared:
    """What an evaluation needs in memory: its settings, the classifier, the data and their hashes."""

    config: EvaluationConfig
    classifier: torch.nn.Module
    data: loading.LoadedData
    class_names: tuple[str, ...]
    device: torch.device
    model_sha256: str
    manifest: RunManifest | None = None


def evaluation_prepare(run: EvaluationRun) -> Prepared:
    config = EvaluationConfig.from_dict(run.config)
    device = resolve_device(config.device)
    data = loading.data_load(dataset=run.dataset, builtin=config.builtin_dataset, limit=config.n_examples,
                             seed=config.seed)
    class_names = loading.classes_check(data.dataset, run.model_version)
    loaded, model_sha, spec = loading.clip_load_with_spec(run.model_version, str(device))
    classifier = loading.classifier_build(loaded, run.model_version, class_names)
    manifest = manifest_build(
        spec=spec, loaded=loaded, checkpoint_sha256=model_sha or run.model_version.checkpoint_sha256,
        source=f"zip:{run.dataset.name}" if run.dataset is not None else f"builtin:{config.builtin_dataset}",
        file_sha256=run.dataset.sha256 if run.dataset is not None else "",
        subset_of=None if config.n_examples is None else (config.n_examples, config.seed), evaluated=data.dataset,
        templates=classifier.templates, config=replace(config, n_examples=len(data.dataset)),
        versions=library_versions(), device=str(device))
    return Prepared(config, classifier, data, class_names, device, model_sha, manifest)


def evaluation_run_execute(*, run_id: int) -> str:
    """The task's body. Returns a word for the task result (the row holds the real outcome)."""
    if EvaluationRun.objects.filter(pk=run_id, shard_count__gt=1).exists():
        return "sharded: its shards and the merge run it"  # a stray message must not run it whole
    claim = job_claim(model=EvaluationRun, pk=run_id)
    if claim is None:
        return "not claimed"
    return run_guarded(claim, lambda: _execute(claim))


def _execute(claim: Claim) -> str:
    run = EvaluationRun.objects.select_related("model_version", "dataset", "ai_system").get(pk=claim.pk)
    heartbeat = Heartbeat(claim)
    heartbeat.beat(progress=run.progress, message=f"Loading model and data (attempt {claim.attempt}).",
                   eta=None, force=True)
    if heartbeat.should_cancel():
        return run_cancelled(claim, message="Cancelled before it started.")
    started = time.monotonic()
    prepared = evaluation_prepare(run)
    try:
        partial, resumed_from = evaluation_batches(run, prepared, heartbeat)
    except EvaluationCancelled as cancelled:
        return run_cancelled(claim, message=str(cancelled).capitalize() + ".")
    record = evaluation_record(partial, prepared)
    provenance = provenance_for(run, prepared, seconds=time.monotonic() - started, resumed_from=resumed_from)
    heartbeat.beat(progress=0.99, message="Writing the record, examples and evidence.", eta=None, force=True)
    evaluation_publish(claim=claim, run=run, record=record, provenance=provenance, prepared=prepared)
    return "succeeded"


def evaluation_record(partial: EvaluationPartial, prepared: Prepared) -> Any:
    """The engine's record of (merged) counts under the run's settings."""
    config = prepared.config
    return record_from_partial(partial, attacks=config.attack_specs, class_names=prepared.class_names,
                               dataset_name=prepared.data.name, seed=config.seed, batch_size=config.batch_size,
                               device=prepared.device)


def evaluation_batches(run: EvaluationRun, prepared: Prepared, heartbeat: Heartbeat, *,
                       keys: list[list[Any]] | None = None, start: int = 0, end: int | None = None,
                       checkpoint: dict[str, Any] | None = None) -> tuple[EvaluationPartial, int]:
    """Batches [start, end) one at a time, storing the counts after each (the resume point)."""
    # The data is already limited to n_examples; a shard evaluates its own attack × ε keys.
    config = replace(_keyed(prepared.config, keys), n_examples=len(prepared.data.dataset))
    total = number_of_batches(len(prepared.data.dataset), config.batch_size)
    end = total if end is None else end
    stored = checkpoint if checkpoint is not None else run.checkpoint
    partial = EvaluationPartial.from_dict(stored["partial"]) if stored.get("partial") else None
    first = int(stored.get("next_batch", start))
    clock_start, done_at_start = time.monotonic(), first
    for batch in range(first, end):
        if heartbeat.should_cancel():
            raise EvaluationCancelled(f"evaluation cancelled before batch {batch + 1} of {total}", partial)
        piece = evaluate_partial(prepared.classifier, prepared.data.dataset, config, device=prepared.device,
                                 start_batch=batch, end_batch=batch + 1)
        partial = piece if partial is None else partial.merge(piece)
        done = batch + 1 - start
        rate = (time.monotonic() - clock_start) / max(1, batch + 1 - done_at_start)
        heartbeat.beat(progress=done / max(1, end - start) * 0.98, eta=rate * (end - batch - 1), force=True,
                       message=f"Batch {batch + 1} of {total} evaluated.",
                       checkpoint={"partial": partial.to_dict(), "next_batch": batch + 1})
    if partial is None:  # an empty range: nothing to evaluate (cannot happen with n >= 1)
        partial = EvaluationPartial.empty(len(prepared.class_names),
                                          [(spec.name, eps) for spec in config.attack_specs for eps in config.epsilons])
    return partial, first


def _keyed(config: EvaluationConfig, keys: list[list[Any]] | None) -> EvaluationConfig:
    """The config narrowed to a shard's [attack, ε] keys (None: all of them)."""
    if keys is None:
        return config
    return replace(config, attacks=tuple(dict.fromkeys(str(key[0]) for key in keys)),
                   epsilons=tuple(dict.fromkeys(float(key[1]) for key in keys)))


def provenance_for(run: EvaluationRun, prepared: Prepared, *, seconds: float, resumed_from: int) -> dict[str, Any]:
    return {
        "versions": library_versions(), "device": str(prepared.device), "seed": prepared.config.seed,
        "model_sha256": prepared.model_sha256 or run.model_version.checkpoint_sha256,
        "data_sha256": prepared.data.sha256, "dataset": prepared.data.name,
        "duration_seconds": round(seconds, 3), "attempt": run.attempt + 0, "resumed_from_batch": resumed_from,
        "n_examples": len(prepared.data.dataset),
        "manifest": prepared.manifest.to_dict() if prepared.manifest is not None else None,
    }

