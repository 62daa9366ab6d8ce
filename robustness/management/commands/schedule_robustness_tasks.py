"""Register the robustness app's periodic tasks with django-celery-beat (idempotent).

Both run on the `default` queue: the reaper must not wait behind a long torch job on the
`robustness` queue (whose worker may be the one that died).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from robustness.task_names import EVALUATIONS_SCHEDULE_PERIODIC, RUNS_REAP_EXPIRED_LEASES

SCHEDULES = [
    ("Robustness: re-enqueue runs whose lease expired", RUNS_REAP_EXPIRED_LEASES, 1,
     IntervalSchedule.MINUTES),
    ("Robustness: periodic re-evaluation at each system's review frequency",
     EVALUATIONS_SCHEDULE_PERIODIC, 1, IntervalSchedule.HOURS),
]


class Command(BaseCommand):
    help = "Create or update the robustness periodic tasks. Safe to run repeatedly."

    def handle(self, *args: object, **options: object) -> None:
        for name, task, every, period in SCHEDULES:
            interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
            row, created = PeriodicTask.objects.update_or_create(
                name=name, defaults={"task": task, "interval": interval, "queue": "default", "enabled": True})
            if options.get("verbosity", 1):
                self.stdout.write(f"{'created' if created else 'updated'} periodic task: {row.name}")
