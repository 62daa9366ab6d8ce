"""Recompute every organisation's audit hash chain; exit 1 if any record was edited or deleted."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.audit import audit_chain_verify
from governance.models.tenancy import Organisation


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains (all organisations, or --organisation SLUG)."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", help="slug of one organisation")

    def handle(self, *args: object, **options: object) -> None:
        organisations = Organisation.objects.all()
        if options.get("organisation"):
            organisations = organisations.filter(slug=options["organisation"])
            if not organisations.exists():
                raise CommandError(f"no organisation with slug {options['organisation']!r}")
        problems = [problem for organisation in organisations for problem in audit_chain_verify(organisation)]
        for problem in problems:
            self.stderr.write(f"{problem.organisation} event #{problem.sequence}: {problem.problem}")
        if problems:
            raise CommandError(f"audit trail verification failed: {len(problems)} problem(s)")
        self.stdout.write(f"audit trail intact for {organisations.count()} organisation(s)")
