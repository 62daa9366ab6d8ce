"""Enqueue the demo's background work (later issues add the demo model and its runs)."""

from __future__ import annotations

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

STEPS: list[str] = ["robustness_demo_enqueue"]


class Command(BaseCommand):
    help = "Enqueue the demo's background work on the workers (idempotent: done work is reused)."

    def handle(self, *args: object, **options: object) -> None:
        available = get_commands()
        for step in STEPS:
            if step in available:
                call_command(step)
