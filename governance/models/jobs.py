"""The job kernel's row: what every user-visible background job has (runs, shards, reports).

One status vocabulary (`JobStatus`) and one progress scale (a fraction 0–1) for every job;
the lease lets a second worker take over a job whose worker died (`governance.jobs`).
"""

from __future__ import annotations

from django.db import models


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def finished(cls) -> frozenset[str]:
        return frozenset({cls.SUCCEEDED, cls.FAILED, cls.CANCELLED})

    @classmethod
    def active(cls) -> frozenset[str]:
        return frozenset({cls.PENDING, cls.RUNNING})


class LeasedJob(models.Model):
    """What every leased job row has: state, progress (0–1), ETA, message, error, the lease."""

    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True)
    progress = models.FloatField(default=0.0, help_text="0..1")
    eta_seconds = models.FloatField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    # The lease: a worker owns a running row until lease_expires_at; heartbeats push it on.
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempt = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # What the failure messages call one job of this kind ("run", "report").
    job_noun = "job"
    # The field that says when the job was requested (the reaper re-sends a pending job lost before any worker).
    requested_field = "created_at"

    class Meta:
        abstract = True

    @classmethod
    def lease_seconds(cls) -> int:
        """How long a claim lasts without a heartbeat; each kind of job says its own."""
        raise NotImplementedError(f"{cls.__name__} must say how long its lease lasts")

    @property
    def is_finished(self) -> bool:
        return self.status in JobStatus.finished()

    @classmethod
    def cancel_requested_for(cls, pk: int) -> bool:
        """Whether a person asked to stop job `pk` (read between steps by the heartbeat)."""
        if not any(field.name == "cancel_requested" for field in cls._meta.concrete_fields):
            return False
        return cls._default_manager.filter(pk=pk, **{"cancel_requested": True}).exists()
