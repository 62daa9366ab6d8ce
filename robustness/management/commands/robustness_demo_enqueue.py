"""`manage.py demo_enqueue` step: register the demo system and hand the slow part to a worker."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from governance.jobs import job_send
from governance.models.tenancy import Organisation
from robustness.models import EvaluationRun, RetrainingRun, RunStatus
from robustness.services.demo import demo_system_ensure
from robustness.task_names import DEMO_PREPARE, QUEUE


class Command(BaseCommand):
    help = "Register the demo AI system and enqueue its model build and runs (reused on a second run)."

    def handle(self, *args: object, **options: object) -> None:
        organisation = Organisation.objects.filter(slug="demo").first()
        if organisation is None:
            self.stdout.write("no demo organisation (run demo_setup first); nothing to enqueue")
            return
        system = demo_system_ensure(organisation)
        done = (EvaluationRun.objects.filter(ai_system=system, status=RunStatus.SUCCEEDED).exists()
                and RetrainingRun.objects.filter(ai_system=system, status=RunStatus.SUCCEEDED).exists())
        if done:
            self.stdout.write(f"demo robustness runs already finished for {system.name}: reused")
            return
        job_send(DEMO_PREPARE, organisation.pk, queue=QUEUE)
        self.stdout.write(f"enqueued the demo model and its runs for {system.name} (watch /robustness/)")
