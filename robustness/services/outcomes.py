"""How a run ends: succeeded, failed (terminal, with a clear reason) or cancelled.

Each ending is a conditional change of a row this worker still owns (same attempt, still
running), with its audit event in the same transaction; a worker that lost its lease changes
nothing. Only named transient errors escape to the task, which retries them.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from governance.oserrors import is_disk_full
from governance.services._audit import record_update, snapshot
from robustness.engine.errors import EngineError
from robustness.models import EvaluationRun, EvaluationShard, RunStatus
from robustness.services.leases import Claim, LeaseLost, lease_release

logger = logging.getLogger(__name__)

# Transient: the database connection dropped or was busy. Everything else is terminal.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


def run_guarded(claim: Claim, body: Callable[[], str], *, cleanup: Callable[[], None] | None = None) -> str:
    """Run `body`; turn bad input and surprises into a terminal failure with a message."""
    try:
        return body()
    except LeaseLost:
        logger.warning("%s %s: lease lost, another worker owns it now", claim.model.__name__, claim.pk)
        return "lease lost"
    except TRANSIENT_ERRORS:
        _lease_hand_back(claim)
        raise
    except EngineError as error:
        _cleanup(cleanup)
        return run_failed(claim, message=str(error))
    except SoftTimeLimitExceeded:
        _cleanup(cleanup)
        return run_failed(claim, message="The run passed the worker's time limit (CELERY_TASK_TIME_LIMIT); "
                                         "use fewer examples or steps, or shards.")
    except (MemoryError, torch_out_of_memory()) as error:
        _cleanup(cleanup)
        return run_failed(claim, message=f"Out of memory on the worker ({type(error).__name__}); "
                                         "use fewer examples, a smaller batch or a larger device.")
    except DatabaseError as error:
        _cleanup(cleanup)
        return run_failed(claim, message=f"Database error: {error}")
    except Exception as error:
        _cleanup(cleanup)
        return run_failed(claim, message=_failure_reason(claim, error))


def _failure_reason(claim: Claim, error: Exception) -> str:
    if is_disk_full(error):  # terminal, with a reason of its own: retrying would only fill the disk again
        logger.error("%s %s: the disk is full (%s)", claim.model.__name__, claim.pk, error)
        return ("The disk is full (no space left on the device): the run's files could not be written, and "
                "nothing of this run was kept. Free space in the media storage and re-run it.")
    logger.exception("%s %s failed unexpectedly", claim.model.__name__, claim.pk)
    return f"Failed unexpectedly ({type(error).__name__}: {error})."


def _lease_hand_back(claim: Claim) -> None:
    """After a transient database error, give the lease back so the retry need not wait for it to expire.

    The connection that raised is usually dead (dropped, or the server restarted): it is closed
    first, so that the hand-back, Celery's retry bookkeeping and the retry open a fresh one.
    """
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    with contextlib.suppress(*TRANSIENT_ERRORS):
        lease_release(claim)


def torch_out_of_memory() -> type[BaseException]:
    import torch

    return getattr(torch.cuda, "OutOfMemoryError", MemoryError)


def _cleanup(cleanup: Callable[[], None] | None) -> None:
    if cleanup is not None:
        try:
            cleanup()
        except OSError:
            logger.exception("cleanup after a failed run did not complete")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@transaction.atomic
def _end(claim: Claim, *, status: str, message: str, error: str = "", **fields: Any) -> bool:
    row = claim.mine().select_for_update().first()
    if row is None:
        return False
    before = snapshot(row) if hasattr(row, "organisation_id") and not isinstance(row, EvaluationShard) else None
    row.status, row.message, row.error = status, message[:300], error
    row.finished_at, row.lease_expires_at, row.eta_seconds = timezone.now(), None, None
    if status == RunStatus.SUCCEEDED:
        row.progress = 1.0
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    if before is not None:
        record_update(row, before, actor=None)
    return True


def run_failed(claim: Claim, *, message: str) -> str:
    """Terminal: bad input or a fault. The message is what the run page shows."""
    _end(claim, status=RunStatus.FAILED, message="Failed.", error=message[:4000])
    if claim.model is EvaluationShard:
        shard_failure_propagate(claim.pk, message)
    return "failed"


def run_cancelled(claim: Claim, *, message: str) -> str:
    _end(claim, status=RunStatus.CANCELLED, message=message, checkpoint={})
    if claim.model is EvaluationShard:
        shard_failure_propagate(claim.pk, message, status=RunStatus.CANCELLED)
    return "cancelled"


def run_succeeded(claim: Claim, *, message: str, **fields: Any) -> None:
    """Inside the publishing transaction: raise LeaseLost (rolling everything back) if not ours."""
    if not _end(claim, status=RunStatus.SUCCEEDED, message=message, **fields):
        raise LeaseLost(f"{claim.model.__name__} {claim.pk} is no longer ours to finish")


@transaction.atomic
def shard_failure_propagate(shard_id: int, message: str, status: str = RunStatus.FAILED) -> None:
    """A failed shard fails its run (the other shards stop at their next heartbeat)."""
    run_id = EvaluationShard.objects.filter(pk=shard_id).values_list("run_id", flat=True).first()
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
