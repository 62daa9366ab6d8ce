"""Load the framework catalogs and crosswalks from governance/catalogs/ (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.catalogs.schema import CATALOG_DIR, CatalogError
from governance.services.catalogs import catalogs_load


class Command(BaseCommand):
    help = "Load or update the framework catalogs and crosswalks (safe to run repeatedly)."

    def add_arguments(self, parser):
        parser.add_argument("--directory", default=str(CATALOG_DIR), help="folder of catalog YAML files")

    def handle(self, *args: object, **options: object) -> None:
        try:
            report = catalogs_load(directory=str(options["directory"]))
        except CatalogError as error:
            raise CommandError(f"catalog not loaded: {error}") from error
        self.stdout.write(
            f"catalogs: {report.frameworks_created} created, {report.frameworks_updated} updated, "
            f"{report.frameworks_unchanged} unchanged; {report.requirements} requirements, "
            f"{report.crosswalks} crosswalks")
        for urn in report.stale_requirements:
            self.stderr.write(f"no longer in its catalog file (kept, still referenced?): {urn}")
