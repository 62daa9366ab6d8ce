"""Idempotent platform set-up run by `make demo`/`make setup` after migrate: catalogs, schedules."""

from __future__ import annotations

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

# Each step is a management command that is safe to run again; apps add theirs here.
STEPS: list[str] = ["load_catalogs", "schedule_periodic_tasks", "schedule_robustness_tasks"]


class Command(BaseCommand):
    help = "Load what the apps need (framework catalogs, periodic schedules). Safe to run repeatedly."

    def handle(self, *args: object, **options: object) -> None:
        available = get_commands()
        for step in STEPS:
            if step in available:
                call_command(step, verbosity=options.get("verbosity", 1))
