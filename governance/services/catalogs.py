"""Load the framework catalogs and crosswalks into the database, idempotently.

Re-running updates rows in place (matched by URN), never duplicates them; an unchanged file
(same SHA-256) is skipped. Requirements that disappeared from a file are reported, not
deleted, because organisations' decisions and controls may point at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from governance.catalogs import crosswalks, schema
from governance.models.catalog import Crosswalk, Framework, Requirement

_FRAMEWORK_FIELDS = ("slug", "ref_id", "name", "edition", "publisher", "published", "source", "licence",
                     "text_policy", "assessment_scale")
_REQUIREMENT_FIELDS = ("ref_id", "kind", "text_status", "assessable", "applies_from", "order", "depth")
_REQUIREMENT_TEXT_FIELDS = ("title", "text", "applies_from_source", "notes")
_CROSSWALK_PROVENANCE_FIELDS = ("provenance", "is_own_mapping", "source_document", "source_publisher",
                                "source_version", "source_url", "source_locator", "reviewer", "citation")


@dataclass
class LoadReport:
    frameworks_created: int = 0
    frameworks_updated: int = 0
    frameworks_unchanged: int = 0
    requirements: int = 0
    crosswalks: int = 0
    stale_requirements: list[str] = field(default_factory=list)


FACT_SOURCE_PREFIX = "Source of this fact: "


def requirement_notes(parsed: schema.Requirement) -> str:
    """The row's notes: the file's ``notes`` plus, where given, the ``fact_source`` (no column of its own)."""
    parts = [parsed.notes or ""]
    if parsed.fact_source:
        parts.append(FACT_SOURCE_PREFIX + parsed.fact_source)
    return "\n\n".join(part for part in parts if part)


def _framework_upsert(catalog: schema.Catalog, report: LoadReport) -> tuple[Framework, bool]:
    parsed = catalog.framework
    values = {name: getattr(parsed, name) for name in _FRAMEWORK_FIELDS}
    values["notes"] = parsed.notes or ""
    framework = Framework.objects.filter(urn=parsed.urn).first()
    if framework is not None and framework.checksum == catalog.sha256 \
            and framework.requirements.count() == len(catalog.requirements):
        report.frameworks_unchanged += 1
        return framework, False
    if framework is None:
        framework = Framework(urn=parsed.urn)
        report.frameworks_created += 1
    else:
        report.frameworks_updated += 1
    for name, value in values.items():
        setattr(framework, name, value)
    framework.checksum, framework.loaded_at = catalog.sha256, timezone.now()
    framework.save()
    return framework, True


def _requirements_upsert(framework: Framework, catalog: schema.Catalog, report: LoadReport) -> None:
    existing = {row.urn: row for row in Requirement.objects.filter(framework=framework)}
    by_urn: dict[str, Requirement] = {}
    for parsed in catalog.requirements:
        row = existing.get(parsed.urn) or Requirement(framework=framework, urn=parsed.urn)
        for name in _REQUIREMENT_FIELDS:
            setattr(row, name, getattr(parsed, name))
        for name in _REQUIREMENT_TEXT_FIELDS:
            setattr(row, name, getattr(parsed, name) or "")
        row.notes = requirement_notes(parsed)
        row.parent = by_urn.get(parsed.parent_urn) if parsed.parent_urn else None
        row.save()
        by_urn[parsed.urn] = row
    report.stale_requirements += sorted(set(existing) - set(by_urn))


def _crosswalks_replace(mappings: list[crosswalks.Mapping], report: LoadReport) -> None:
    ids = dict(Requirement.objects.filter(
        urn__in={m.source for m in mappings} | {m.target for m in mappings}).values_list("urn", "pk"))
    kept: set[int] = set()
    for mapping in mappings:
        row, _ = Crosswalk.objects.update_or_create(
            source_id=ids[mapping.source], target_id=ids[mapping.target],
            defaults={"relationship": mapping.relationship, "rationale": mapping.rationale,
                      "theme": mapping.theme or "", "order": mapping.order,
                      **{name: getattr(mapping, name) for name in _CROSSWALK_PROVENANCE_FIELDS}})
        kept.add(row.pk)
    # Crosswalks are global reference data (no tenant points at them): the file is the truth.
    Crosswalk.objects.exclude(pk__in=kept).delete()
    report.crosswalks = len(kept)


@transaction.atomic
def catalogs_load(*, directory: str | Path = schema.CATALOG_DIR) -> LoadReport:
    """Parse every catalog in `directory` (raising `CatalogError` before touching the database)."""
    catalogs, mappings = crosswalks.load_directory(directory)
    report = LoadReport()
    for catalog in catalogs:
        framework, changed = _framework_upsert(catalog, report)
        if changed:
            _requirements_upsert(framework, catalog, report)
        report.requirements += len(catalog.requirements)
    _crosswalks_replace(mappings, report)
    return report
