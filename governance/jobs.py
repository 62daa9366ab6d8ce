"""The job kernel: how every background job (robustness runs and shards, reports) is enqueued,
claimed, kept, ended and taken over when its worker died.

Enqueue by name: services send a task by its name (`<app>.task_names`) once their
transaction commits, never by importing the tasks module (tasks import services, never the
other way round). A claim is ONE conditional UPDATE (pending, or running with an expired lease
→ running, new lease, attempt + 1), so two workers can never both win. Heartbeats push the
lease on together with the throttled progress writes, and only while the row is still ours
(same attempt): a worker that lost its lease stops at its next heartbeat instead of writing
over the new owner. Each ending (succeeded, failed with its reason, cancelled) is a
conditional change of a row this worker still owns, with its audit event in the same
transaction. Only named transient errors escape to the task, which retries them. The row is a
`governance.models.jobs.LeasedJob`; its status is a `governance.models.jobs.JobStatus`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, InterfaceError, OperationalError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.audit import audit_diff, audit_event_record, audit_snapshot
from governance.models.audit import AuditAction
from governance.models.jobs import JobStatus, LeasedJob
from governance.oserrors import is_disk_full

logger = logging.getLogger(__name__)

# Transient: the database connection dropped or was busy. Everything else is terminal.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
# A pending job whose message never reached a worker (broker down at request time) is re-sent
# after this long; a duplicate delivery is harmless, the claim lets only one through.
PENDING_RESEND_AFTER = timedelta(minutes=10)


# --- Enqueue by name -----------------------------------------------------------------------------

def job_send(name: str, *args: object, queue: str) -> bool:
    """Send the task now. A broker outage must not turn a saved request into a 500: it is logged,
    and the reaper (or re-queue) sends it again later."""
    try:
        current_app.send_task(name, args=list(args), queue=queue)
    except Exception:
        logger.exception("could not enqueue %s%r", name, args)
        return False
    return True


def job_enqueue(name: str, pk: int, queue: str) -> None:
    """Send the task for row `pk` once the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: job_send(name, pk, queue=queue))


# --- Claim and lease -----------------------------------------------------------------------------

def worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaseLost(Exception):
    """Another worker took the row over (or it was finished elsewhere): stop quietly."""


@dataclass(frozen=True)
class Claim:
    model: type[LeasedJob]
    pk: int
    attempt: int
    worker: str

    def mine(self) -> models.QuerySet[Any]:
        """The row, only while this claim still owns it."""
        return self.model._default_manager.filter(pk=self.pk, attempt=self.attempt, status=JobStatus.RUNNING)


def job_claim(*, model: type[LeasedJob], pk: int, worker: str | None = None,
              message: str | None = None) -> Claim | None:
    """Take the lease on a claimable row; None when it is finished or another worker holds it."""
    now = timezone.now()
    label = worker or worker_label()
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    fields: dict[str, Any] = {"message": message} if message is not None else {}
    claimed = model._default_manager.filter(pk=pk).filter(claimable).update(
        status=JobStatus.RUNNING, lease_expires_at=now + timedelta(seconds=model.lease_seconds()),
        attempt=F("attempt") + 1, worker=label, heartbeat_at=now, **fields)
    if claimed == 0:
        return None
    row = model._default_manager.filter(pk=pk).values("attempt", "started_at").get()
    if row["started_at"] is None:
        model._default_manager.filter(pk=pk).update(started_at=now)
    return Claim(model, pk, row["attempt"], label)


def lease_release(claim: Claim) -> None:
    """Give the lease up early (before a retry), so the next claim need not wait for it to expire."""
    claim.mine().update(lease_expires_at=timezone.now() - timedelta(seconds=1))


@dataclass
class Heartbeat:
    """Throttled progress writes (progress a fraction 0–1) that extend the lease and read the cancel flag.

    Progress ticks are not audit events (docs/architecture.md): they are plain UPDATEs.
    """

    claim: Claim
    every_seconds: float = 1.0
    _last_write: float = field(default=0.0, init=False)
    _cancel: bool = field(default=False, init=False)

    def beat(self, *, progress: float, message: str, eta: float | None, force: bool = False,
             **extra: object) -> None:
        now = time.monotonic()
        lease = self.claim.model.lease_seconds()
        if not force and now - self._last_write < min(self.every_seconds, lease / 3):
            return
        self._last_write = now
        moment = timezone.now()
        updated = self.claim.mine().update(
            progress=max(0.0, min(1.0, progress)), message=message[:300], eta_seconds=eta, heartbeat_at=moment,
            lease_expires_at=moment + timedelta(seconds=lease), **extra)
        if updated == 0:
            raise LeaseLost(f"{self.claim.model.__name__} {self.claim.pk}: lease lost")
        self._cancel = self.claim.model.cancel_requested_for(self.claim.pk)

    def should_cancel(self) -> bool:
        """Read between batches/steps; refreshed at most once per heartbeat."""
        return self._cancel


# --- Outcomes ------------------------------------------------------------------------------------

FailureReason = Callable[[BaseException], "str | None"]


def job_guarded(claim: Claim, body: Callable[[], str], *, cleanup: Callable[[], None] | None = None,
                reason: FailureReason | None = None, failed: Callable[..., str] | None = None) -> str:
    """Run `body`; turn bad input and surprises into a terminal failure with a message.

    `reason` names the failures a kind of job knows (bad input of its own, its device's out of
    memory) before the kernel's; `failed` ends the row (default `job_failed`).
    """
    try:
        return body()
    except LeaseLost:
        logger.warning("%s %s: lease lost, another worker owns it now", claim.model.__name__, claim.pk)
        return "lease lost"
    except TRANSIENT_ERRORS:
        _lease_hand_back(claim)
        raise
    except Exception as error:
        _cleanup(cleanup)
        message = (reason(error) if reason is not None else None) or failure_reason(claim, error)
        return (failed or job_failed)(claim, message=message)


def failure_reason(claim: Claim, error: BaseException) -> str:
    """The kernel's failure policy: what the row says when its job ended on `error`."""
    noun = claim.model.job_noun
    if isinstance(error, SoftTimeLimitExceeded):
        return (f"The {noun} passed the worker's time limit (CELERY_TASK_TIME_LIMIT); "
                "use fewer examples or steps, or shards.")
    if isinstance(error, MemoryError):
        return f"Out of memory on the worker ({type(error).__name__})."
    if isinstance(error, DatabaseError):
        return f"Database error: {error}"
    if is_disk_full(error):  # terminal, with a reason of its own: retrying would only fill the disk again
        logger.error("%s %s: the disk is full (%s)", claim.model.__name__, claim.pk, error)
        return (f"The disk is full (no space left on the device): the {noun}'s files could not be written, and "
                f"nothing of this {noun} was kept. Free space in the media storage and re-run it.")
    logger.exception("%s %s failed unexpectedly", claim.model.__name__, claim.pk, exc_info=error)
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


def _cleanup(cleanup: Callable[[], None] | None) -> None:
    if cleanup is not None:
        try:
            cleanup()
        except OSError:
            logger.exception("cleanup after a failed job did not complete")


def _is_tenant_row(row: models.Model) -> bool:
    return any(model_field.name == "organisation" for model_field in row._meta.concrete_fields)


@transaction.atomic
def job_end(claim: Claim, *, status: str, message: str, error: str = "", **fields: Any) -> bool:
    """End the row this claim still owns (False when it no longer does), audited for tenant rows."""
    row = claim.mine().select_for_update().first()
    if row is None:
        return False
    before = audit_snapshot(row) if _is_tenant_row(row) else None
    row.status, row.message, row.error = status, message[:300], error
    row.finished_at, row.lease_expires_at, row.eta_seconds = timezone.now(), None, None
    if status == JobStatus.SUCCEEDED:
        row.progress = 1.0
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    changes = audit_diff(before, audit_snapshot(row)) if before is not None else {}
    if changes:
        audit_event_record(organisation=row.organisation, actor=None, action=AuditAction.UPDATE, instance=row,
                           changes=changes)
    return True


def job_failed(claim: Claim, *, message: str) -> str:
    """Terminal: bad input or a fault. The message is what the job's page shows."""
    job_end(claim, status=JobStatus.FAILED, message="Failed.", error=message[:4000])
    return "failed"


def job_cancelled(claim: Claim, *, message: str, **fields: Any) -> str:
    job_end(claim, status=JobStatus.CANCELLED, message=message, **fields)
    return "cancelled"


def job_succeeded(claim: Claim, *, message: str, **fields: Any) -> None:
    """Inside the publishing transaction: raise LeaseLost (rolling everything back) if not ours."""
    if not job_end(claim, status=JobStatus.SUCCEEDED, message=message, **fields):
        raise LeaseLost(f"{claim.model.__name__} {claim.pk} is no longer ours to finish")


# --- The reaper ----------------------------------------------------------------------------------

def lease_expired(now: datetime) -> Q:
    """Running rows whose worker stopped heart-beating: the next claim takes them over."""
    return Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)


def never_started(model: type[LeasedJob], now: datetime) -> Q:
    """Pending rows no worker ever took, long after they were requested (their message was lost)."""
    return Q(status=JobStatus.PENDING, heartbeat_at__isnull=True,
             **{f"{model.requested_field}__lt": now - PENDING_RESEND_AFTER})


def jobs_resend(rows: models.QuerySet[Any], *, task_name: str, queue: str) -> int:
    """Send the task of each row again (the claim lets one delivery through); the count sent."""
    sent = 0
    for pk in rows.values_list("pk", flat=True):
        logger.warning("%s %s: lease expired or never started; re-enqueued", rows.model.__name__, pk)
        sent += job_send(task_name, pk, queue=queue)
    return sent
