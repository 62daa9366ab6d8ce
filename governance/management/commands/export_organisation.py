"""`manage.py export_organisation --organisation SLUG --out DIR_OR_ZIP`: rows, files and audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models.tenancy import Organisation
from governance.services.transfer_export import organisation_export


class Command(BaseCommand):
    help = ("Export one organisation (every tenant row, its files and run artifacts with SHA-256, the audit trail) "
            "to a folder or .zip.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", required=True, help="The organisation's slug.")
        parser.add_argument("--out", required=True, help="A folder, or a path ending in .zip.")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"no organisation with the slug {options['organisation']!r}")
        out = Path(options["out"])
        if out.exists() and (out.is_file() or any(out.iterdir())):
            raise CommandError(f"{out} exists and is not empty: choose a new path")
        summary = organisation_export(organisation=organisation, out=out)
        self.stdout.write(f"Exported {summary.organisation}: {sum(summary.rows.values())} rows of "
                          f"{len(summary.rows)} kinds, {summary.files} files and {summary.folder_files} run artifact "
                          f"files to {out}")
        self.stdout.write(f"export sha256 {summary.export_sha256}")
