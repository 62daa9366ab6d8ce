"""Verify the audit trail: every organisation's hash chain, and its head against the anchor file.

Exit 1 if any record was edited, inserted or deleted, if the database head does not match the
last HMAC-signed head in AUDIT_ANCHOR_PATH, or if a line of that file fails its HMAC.
`--anchor` first appends the current heads (only after their chains verify). Also `audit_verify`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.audit import audit_anchor_heads, audit_anchor_verify, audit_chain_verify
from governance.models.tenancy import Organisation


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains and anchored heads (all organisations, or --organisation SLUG)."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", help="slug of one organisation")
        parser.add_argument("--anchor", action="store_true",
                            help="append the current heads to the anchor file once the chains verify")

    def handle(self, *args: object, **options: object) -> None:
        organisations = Organisation.objects.all()
        if options.get("organisation"):
            organisations = organisations.filter(slug=options["organisation"])
            if not organisations.exists():
                raise CommandError(f"no organisation with slug {options['organisation']!r}")
        problems = [problem for organisation in organisations for problem in audit_chain_verify(organisation)]
        if not problems and options.get("anchor"):
            self.stdout.write(f"anchored {audit_anchor_heads(organisations)} head(s)")
        problems += audit_anchor_verify(organisations)
        for problem in problems:
            self.stderr.write(f"{problem.organisation} event #{problem.sequence}: {problem.problem}")
        if problems:
            raise CommandError(f"audit trail verification failed: {len(problems)} problem(s)")
        anchored = "and anchored heads " if settings.AUDIT_ANCHOR_PATH else "(anchoring off) "
        self.stdout.write(f"audit trail {anchored}intact for {organisations.count()} organisation(s)")
