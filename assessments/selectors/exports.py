"""Exports: the Statement of Applicability and the evidence manifest as CSV/XLSX rows; the snapshot JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from assessments.models import Assessment, EvidenceVersion
from assessments.services.inference import inferred_from_text
from assessments.services.snapshot import assessment_snapshot_build, canonical_json, canonical_sha256

SOA_HEADER = ("ref_id", "urn", "title", "applicable", "justification", "result", "inferred_via", "inferred_from",
              "rationale")
MANIFEST_HEADER = ("evidence", "version", "filename_or_url", "size", "sha256", "uploaded_by", "uploaded_at",
                   "effective_date", "valid_until", "source")


def soa_rows(assessment: Assessment) -> list[tuple[Any, ...]]:
    results = (assessment.results.select_related("requirement", "inferred_via__source", "inferred_via__target",
                                                 "inferred_from__requirement__framework", "inference_confirmed_by")
               .order_by("requirement__order"))
    return [(r.requirement.ref_id, r.requirement.urn, r.requirement.title, "yes" if r.applicable else "no",
             r.applicability_justification, r.result_label,
             str(r.inferred_via) if r.is_inferred and r.inferred_via else "", inferred_from_text(r), r.rationale)
            for r in results]


def manifest_versions(assessment: Assessment) -> list[EvidenceVersion]:
    """Every evidence version the assessment's results rest on, once each, in a stable order."""
    return list(EvidenceVersion.objects.filter(results__assessment=assessment).distinct()
                .select_related("evidence", "uploaded_by").order_by("evidence__title", "number", "id"))


def manifest_entries(assessment: Assessment) -> list[dict[str, Any]]:
    return [{
        "evidence": v.evidence.title, "version": v.number, "filename_or_url": v.url or v.filename, "size": v.size,
        "sha256": v.sha256, "uploaded_by": v.uploaded_by.get_username() if v.uploaded_by else "system",
        "uploaded_at": v.uploaded_at.isoformat(), "effective_date": v.effective_date.isoformat() if
        v.effective_date else "", "valid_until": v.valid_until.isoformat() if v.valid_until else "",
        "source": v.source,
    } for v in manifest_versions(assessment)]


def manifest_sha256(entries: list[dict[str, Any]]) -> str:
    """The manifest's own hash: SHA-256 of its canonical JSON (sorted keys, no spaces)."""
    return canonical_sha256(entries)


def manifest_rows(assessment: Assessment) -> list[tuple[Any, ...]]:
    return [tuple(entry[key] for key in MANIFEST_HEADER) for entry in manifest_entries(assessment)]


def csv_bytes(header: Sequence[str], rows: list[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([[_safe_cell(value) for value in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(title: str, header: Sequence[str], rows: list[tuple[Any, ...]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_safe_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _safe_cell(value: Any) -> Any:
    # A cell that starts with = + - @ would run as a formula in a spreadsheet (CSV/formula injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def snapshot_json(assessment: Assessment) -> tuple[bytes, str]:
    """The locked snapshot as stored (with its recorded hash), or a live one for an unlocked assessment."""
    data = assessment.snapshot if assessment.is_locked and assessment.snapshot else assessment_snapshot_build(
        assessment=assessment)
    text = canonical_json(data)
    return text.encode("utf-8"), assessment.snapshot_sha256 or canonical_sha256(data)
