"""Sharded evaluations: each shard a leased row of its own; the counts merge exactly.

Shards split the batches into aligned ranges (and, with `split_attacks`, the attack × ε keys).
The chord's callback merges; so does the last shard to finish, in case the chord's bookkeeping
lost a member to a dead worker. The merge commits with a conditional change of the run, so
whichever comes first finishes the run and the other changes nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict

from django.db import transaction
from django.db.models import Avg

from governance.jobs import Claim, Heartbeat, job_claim, job_succeeded
from robustness.engine.evaluate import EvaluationConfig
from robustness.engine.metrics import AttackCounts, EvaluationPartial, merge_all
from robustness.engine.progress import EvaluationCancelled
from robustness.models import EvaluationRun, EvaluationShard, RunStatus
from robustness.services.evaluations import (
    evaluation_batches,
    evaluation_prepare,
    evaluation_record,
    provenance_for,
)
from robustness.services.outcomes import run_cancelled, run_guarded
from robustness.services.publishing import evaluation_publish


def evaluation_shard_execute(*, shard_id: int) -> str:
    claim = job_claim(model=EvaluationShard, pk=shard_id)
    if claim is None:
        return "not claimed"
    outcome = run_guarded(claim, lambda: _execute(claim))
    if outcome == "succeeded":
        evaluation_shards_merge(run_id=EvaluationShard.objects.get(pk=shard_id).run_id)
    return outcome


def _execute(claim: Claim) -> str:
    shard = EvaluationShard.objects.select_related("run", "run__model_version", "run__dataset").get(pk=claim.pk)
    run = shard.run
    EvaluationRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(status=RunStatus.RUNNING)
    heartbeat = Heartbeat(claim)
    heartbeat.beat(progress=shard.progress, message="Loading model and data.", eta=None, force=True)
    if heartbeat.should_cancel():
        return run_cancelled(claim, message="Cancelled before it started.")
    started = time.monotonic()
    prepared = evaluation_prepare(run)
    shard_heartbeat = _RunProgressHeartbeat(claim, run.pk)
    try:
        partial, _ = evaluation_batches(run, prepared, shard_heartbeat, keys=shard.keys, start=shard.start_batch,
                                        end=shard.end_batch, checkpoint=shard.checkpoint)
    except EvaluationCancelled as cancelled:
        return run_cancelled(claim, message=str(cancelled).capitalize() + ".")
    with transaction.atomic():
        job_succeeded(claim, message=f"Finished in {time.monotonic() - started:.1f} s.",
                      partial=partial.to_dict(), checkpoint={})
    _run_progress(run.pk)
    return "succeeded"


class _RunProgressHeartbeat(Heartbeat):
    """A shard's heartbeat that also rolls the shards' progress up onto the run."""

    def __init__(self, claim: Claim, run_id: int) -> None:
        super().__init__(claim)
        self.run_id = run_id

    def beat(self, *, progress: float, message: str, eta: float | None, force: bool = False,
             **extra: object) -> None:
        super().beat(progress=progress, message=message, eta=eta, force=force, **extra)
        _run_progress(self.run_id)


def _run_progress(run_id: int) -> None:
    average = EvaluationShard.objects.filter(run_id=run_id).aggregate(value=Avg("progress"))["value"] or 0.0
    done = EvaluationShard.objects.filter(run_id=run_id, status=RunStatus.SUCCEEDED).count()
    total = EvaluationShard.objects.filter(run_id=run_id).count()
    EvaluationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        progress=min(0.98, average), message=f"{done} of {total} shards finished.")


def shards_merged(shards: list[EvaluationShard], run: EvaluationRun) -> EvaluationPartial:
    """Exact merge: per batch range, join the attack-ε keys (clean counts are the same in each),
    then add the ranges' counts."""
    config = EvaluationConfig.from_dict(run.config)
    order = [(spec.name, eps) for spec in config.attack_specs for eps in config.epsilons]
    by_range: dict[tuple[int, int], list[EvaluationPartial]] = defaultdict(list)
    for shard in shards:
        assert shard.partial is not None, f"shard {shard.pk} has no counts"  # merged once all have finished
        by_range[(shard.start_batch, shard.end_batch)].append(EvaluationPartial.from_dict(shard.partial))
    joined = []
    for pieces in by_range.values():
        counts: dict[tuple[str, float], AttackCounts] = {(c.attack, c.eps): c for p in pieces for c in p.attacks}
        first = pieces[0]
        joined.append(EvaluationPartial(first.n_classes, first.batches, first.examples, first.clean_correct,
                                        tuple(counts[key] for key in order)))
    return merge_all(sorted(joined, key=lambda partial: partial.batches[0] if partial.batches else 0))


def evaluation_shards_merge(*, run_id: int) -> str:
    """Once every shard has succeeded: merge, publish and finish the run (exactly once)."""
    run = EvaluationRun.objects.select_related("model_version", "dataset", "ai_system").get(pk=run_id)
    shards = list(run.shards.order_by("index"))
    if run.status not in RunStatus.active():
        return "already finished"
    if any(s.status != RunStatus.SUCCEEDED for s in shards):
        return "not ready"
    # While shards run, the run itself holds no lease; the merger takes one like any worker
    # (two mergers: both may reset it to pending, only one claim wins).
    EvaluationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, lease_expires_at__isnull=True).update(
        status=RunStatus.PENDING)
    claim = job_claim(model=EvaluationRun, pk=run_id)
    if claim is None:
        return "merged elsewhere"
    return run_guarded(claim, lambda: _merge(claim, run, shards))


def _merge(claim: Claim, run: EvaluationRun, shards: list[EvaluationShard]) -> str:
    started = time.monotonic()
    partial = shards_merged(shards, run)
    prepared = evaluation_prepare(run)
    record = evaluation_record(partial, prepared)
    run.attempt = claim.attempt
    provenance = provenance_for(run, prepared, seconds=time.monotonic() - started, resumed_from=0)
    provenance["shards"] = [{"index": s.index, "batches": [s.start_batch, s.end_batch], "keys": s.keys,
                             "attempt": s.attempt, "worker": s.worker} for s in shards]
    evaluation_publish(claim=claim, run=run, record=record, provenance=provenance, prepared=prepared)
    return "succeeded"
