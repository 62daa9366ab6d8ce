"""How a run ends, on the job kernel (`governance.jobs`): succeeded, failed (terminal, with a clear
reason) or cancelled. What the lab adds: its own reasons (the engine's bad input, the device's
out of memory), its files' cleanup, and a failed or cancelled shard ending its run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from governance.jobs import Claim, job_cancelled, job_failed, job_guarded
from governance.services._audit import record_update, snapshot
from robustness.engine.errors import EngineError
from robustness.models import EvaluationRun, EvaluationShard, RunStatus


def run_guarded(claim: Claim, body: Callable[[], str], *, cleanup: Callable[[], None] | None = None) -> str:
    """Run `body` under the kernel's failure policy, with the lab's reasons first."""
    return job_guarded(claim, body, cleanup=cleanup, reason=_run_failure_reason, failed=run_failed)


def _run_failure_reason(error: BaseException) -> str | None:
    if isinstance(error, EngineError):
        return str(error)
    if isinstance(error, (MemoryError, torch_out_of_memory())):
        return (f"Out of memory on the worker ({type(error).__name__}); "
                "use fewer examples, a smaller batch or a larger device.")
    return None


def torch_out_of_memory() -> type[BaseException]:
    import torch

    return getattr(torch.cuda, "OutOfMemoryError", MemoryError)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def run_failed(claim: Claim, *, message: str) -> str:
    """Terminal: bad input or a fault. The message is what the run page shows."""
    job_failed(claim, message=message)
    if claim.model is EvaluationShard:
        shard_failure_propagate(claim.pk, message)
    return "failed"


def run_cancelled(claim: Claim, *, message: str) -> str:
    job_cancelled(claim, message=message, checkpoint={})
    if claim.model is EvaluationShard:
        shard_failure_propagate(claim.pk, message, status=RunStatus.CANCELLED)
    return "cancelled"


@transaction.atomic
def shard_failure_propagate(shard_id: int, message: str, status: str = RunStatus.FAILED) -> None:
    """A failed shard fails its run (the other shards stop at their next heartbeat)."""
    run_id = EvaluationShard.objects.filter(pk=shard_id).values_list("run_id", flat=True).first()
    if run_id is None:  # the shard is gone with its run
        return
    run = EvaluationRun.objects.select_for_update().filter(pk=run_id, status__in=RunStatus.active()).first()
    if run is None:
        return
    before = snapshot(run)
    run.status, run.finished_at, run.lease_expires_at = status, timezone.now(), None
    run.message = "Failed." if status == RunStatus.FAILED else "Cancelled."
    run.error = f"Shard failed: {message}"[:4000] if status == RunStatus.FAILED else ""
    run.cancel_requested = True
    run.save()
    record_update(run, before, actor=None)
    EvaluationShard.objects.filter(run_id=run_id, status=RunStatus.PENDING).update(status=status)
