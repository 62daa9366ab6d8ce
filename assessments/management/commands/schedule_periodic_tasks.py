"""Register the periodic jobs with django-celery-beat (idempotent; run by `setup_platform`).

Apps add their schedules to `SCHEDULES` (the robustness app adds its re-evaluation here).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from assessments.task_names import EVIDENCE_EXPIRY, REPORTS_REAP_EXPIRED_LEASES, ROBUSTNESS_TERM_FINDINGS
from governance.task_names import STALE_VALIDATIONS_REQUEUE


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every: int
    period: str  # an IntervalSchedule period: "hours", "minutes", "days"
    queue: str = "default"


SCHEDULES: list[Schedule] = [
    Schedule(name="Expire evidence and flag results for review", task=EVIDENCE_EXPIRY,
             every=1, period=IntervalSchedule.HOURS),
    Schedule(name="Raise findings for high-risk models trained without a robustness term",
             task=ROBUSTNESS_TERM_FINDINGS, every=6, period=IntervalSchedule.HOURS),
    # The server-less broker never redelivers a lost message: validations stuck in
    # `validating` are enqueued again.
    # The same for report jobs whose worker died mid-render (the robustness runs have their own reaper).
    Schedule(name="Reports: re-enqueue reports whose lease expired", task=REPORTS_REAP_EXPIRED_LEASES,
             every=1, period=IntervalSchedule.MINUTES),
    Schedule(name="Re-enqueue stale upload validations", task=STALE_VALIDATIONS_REQUEUE,
             every=15, period=IntervalSchedule.MINUTES),
]


class Command(BaseCommand):
    help = "Create or update the platform's periodic tasks. Safe to run repeatedly."

    def handle(self, *args: object, **options: object) -> None:
        for schedule in SCHEDULES:
            interval, _ = IntervalSchedule.objects.get_or_create(every=schedule.every, period=schedule.period)
            task, created = PeriodicTask.objects.update_or_create(
                name=schedule.name,
                defaults={"task": schedule.task, "interval": interval, "queue": schedule.queue, "enabled": True})
            if options.get("verbosity", 1):
                self.stdout.write(f"{'created' if created else 'updated'} periodic task: {task.name}")
