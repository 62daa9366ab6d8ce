"""Beat's jobs: take over runs whose worker died, and re-evaluate systems when their review is due."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from governance.jobs import PENDING_RESEND_AFTER, job_send, jobs_resend, lease_expired, never_started
from governance.models.registry import AISystem
from robustness.models import AnchorAnalysis, EvaluationRun, EvaluationShard, RetrainingRun, RunStatus, RunTrigger
from robustness.services.run_requests import TASKS, evaluation_run_request
from robustness.task_names import EVALUATION_RUN_MERGE, QUEUE

logger = logging.getLogger(__name__)


def runs_reap_expired_leases() -> int:
    """Re-enqueue every run (or shard) whose lease expired; the next claim resumes it from its checkpoint."""
    now, sent = timezone.now(), 0
    # A sharded run is not resent itself: its shards and its merger are (below).
    unsharded = EvaluationRun.objects.filter(shard_count=1)
    for runs in (unsharded, AnchorAnalysis.objects.all(), RetrainingRun.objects.all()):
        rows = runs.filter(lease_expired(now) | never_started(runs.model, now))
        sent += jobs_resend(rows, task_name=TASKS[runs.model], queue=QUEUE)
    # A shard never started: its worker's broker lost it, or the chord itself was never sent.
    shard_never_started = Q(status=RunStatus.PENDING, heartbeat_at__isnull=True, run__status__in=RunStatus.active(),
                            run__created_at__lt=now - PENDING_RESEND_AFTER)
    sent += jobs_resend(EvaluationShard.objects.filter(lease_expired(now) | shard_never_started),
                        task_name=TASKS[EvaluationShard], queue=QUEUE)
    # A sharded run whose merger died, or whose shards all finished without a merge.
    for run in EvaluationRun.objects.filter(shard_count__gt=1, status__in=RunStatus.active()).filter(
            Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True)):
        if not run.shards.exclude(status=RunStatus.SUCCEEDED).exists():
            sent += job_send(EVALUATION_RUN_MERGE, None, run.pk, queue=QUEUE)
    return sent


def evaluations_schedule_periodic(*, now: datetime | None = None) -> int:
    """For each AI system: if its newest finished evaluation is older than its review frequency,
    run that evaluation again with the same settings (a drop beyond tolerance becomes a regression)."""
    now, requested = now or timezone.now(), 0
    for system in AISystem.objects.all():
        latest = (EvaluationRun.objects.filter(ai_system=system, status=RunStatus.SUCCEEDED)
                  .select_related("model_version", "dataset").order_by("-finished_at").first())
        due = now - timedelta(days=system.review_frequency_days)
        if latest is None or latest.finished_at is None or latest.finished_at > due:
            continue
        if EvaluationRun.objects.filter(ai_system=system, status__in=RunStatus.active()).exists():
            continue
        evaluation_run_request(ai_system=system, model_version=latest.model_version, actor=None,
                               config=latest.config, dataset=latest.dataset, shards=latest.shard_count,
                               trigger=RunTrigger.PERIODIC, rerun_of=latest)
        requested += 1
    return requested
