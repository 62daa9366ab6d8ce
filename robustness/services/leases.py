"""Leases: how a worker claims a run, keeps it, and how a dead worker's run is taken over.

A claim is ONE conditional UPDATE (pending, or running with an expired lease → running, new
lease, attempt + 1), so two workers can never both win. Heartbeats push the lease on together
with the throttled progress writes, and only while the row is still ours (same attempt): a
worker that lost its lease stops at its next heartbeat instead of writing over the new owner.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from robustness.models import RunStatus


def lease_seconds() -> int:
    """How long a claim lasts without a heartbeat (short in kill-and-resume tests)."""
    return settings.ROBUSTNESS_LEASE_SECONDS


def worker_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaseLost(Exception):
    """Another worker took the row over (or it was finished elsewhere): stop quietly."""


@dataclass(frozen=True)
class Claim:
    model: Any  # a LeasedJob subclass
    pk: int
    attempt: int
    worker: str

    def mine(self) -> models.QuerySet:
        """The row, only while this claim still owns it."""
        return self.model.objects.filter(pk=self.pk, attempt=self.attempt, status=RunStatus.RUNNING)


def run_claim(*, model: Any, pk: int, worker: str | None = None) -> Claim | None:
    """Take the lease on a claimable row; None when it is finished or another worker holds it."""
    now = timezone.now()
    label = worker or worker_label()
    claimable = Q(status=RunStatus.PENDING) | Q(status=RunStatus.RUNNING, lease_expires_at__lt=now)
    claimed = model.objects.filter(pk=pk).filter(claimable).update(
        status=RunStatus.RUNNING, lease_expires_at=now + timedelta(seconds=lease_seconds()),
        attempt=F("attempt") + 1, worker=label, heartbeat_at=now)
    if claimed == 0:
        return None
    row = model.objects.filter(pk=pk).values("attempt", "started_at").get()
    if row["started_at"] is None:
        model.objects.filter(pk=pk).update(started_at=now)
    return Claim(model, pk, row["attempt"], label)


def lease_release(claim: Claim) -> None:
    """Give the lease up early (before a retry), so the next claim need not wait for it to expire."""
    claim.mine().update(lease_expires_at=timezone.now() - timedelta(seconds=1))


@dataclass
class Heartbeat:
    """Throttled progress writes that extend the lease and read the cancel flag.

    Progress ticks are not audit events (docs/architecture.md): they are plain UPDATEs.
    """

    claim: Claim
    every_seconds: float = 1.0
    _last_write: float = field(default=0.0, init=False)
    _cancel: bool = field(default=False, init=False)

    def beat(self, *, progress: float, message: str, eta: float | None, force: bool = False,
             **extra: object) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < min(self.every_seconds, lease_seconds() / 3):
            return
        self._last_write = now
        moment = timezone.now()
        updated = self.claim.mine().update(
            progress=max(0.0, min(1.0, progress)), message=message[:300], eta_seconds=eta, heartbeat_at=moment,
            lease_expires_at=moment + timedelta(seconds=lease_seconds()), **extra)
        if updated == 0:
            raise LeaseLost(f"{self.claim.model.__name__} {self.claim.pk}: lease lost")
        self._cancel = self._cancel_flag()

    def _cancel_flag(self) -> bool:
        if not hasattr(self.claim.model, "cancel_requested"):
            from robustness.models import EvaluationShard

            run_id = EvaluationShard.objects.filter(pk=self.claim.pk).values_list("run_id", flat=True).first()
            from robustness.models import EvaluationRun

            return EvaluationRun.objects.filter(pk=run_id, cancel_requested=True).exists()
        return self.claim.model.objects.filter(pk=self.claim.pk, cancel_requested=True).exists()

    def should_cancel(self) -> bool:
        """Read between batches/steps; refreshed at most once per heartbeat."""
        return self._cancel
