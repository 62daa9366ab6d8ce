"""`manage.py import_organisation PATH [--slug NEW] [--name NAME]`: an export as a new organisation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.services.transfer import TransferError
from governance.services.transfer_import import organisation_import


class Command(BaseCommand):
    help = ("Import an export_organisation folder or .zip as a NEW organisation; every file's SHA-256 is checked "
            "first and everything is written in one transaction (a corrupt export imports nothing).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The export folder or .zip.")
        parser.add_argument("--slug", default="", help="The new organisation's slug (default: <old slug>-imported).")
        parser.add_argument("--name", default="", help="The new organisation's name (default: the exported name).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = organisation_import(path=Path(options["path"]), slug=options["slug"], name=options["name"])
        except TransferError as error:
            raise CommandError(f"nothing imported: {error}") from None
        self.stdout.write(f"Imported {sum(summary.rows.values())} rows, {summary.files} files and "
                          f"{summary.folder_files} run artifact files as "
                          f"{summary.organisation} (from export {summary.export_sha256}); the audit trail was "
                          "re-chained for the new organisation and records the import.")
