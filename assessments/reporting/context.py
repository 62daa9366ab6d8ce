"""What the audit report says (§4.5 of the governance reference): one dict for the template."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.utils import timezone
from django.utils.safestring import mark_safe

from assessments.models import Report, ResultStatus, result_label
from assessments.reporting.charts import accuracy_vs_epsilon_svg, robustness_over_versions_svg
from assessments.reporting.sources import classification_for_report, inferred_source_note, secondary_source_note
from assessments.selectors.report_facts import robustness_summary_from_facts
from assessments.selectors.signoff import attestations_of_assessment
from assessments.services.snapshot import assessment_snapshot_build
from governance.models import AssessmentScale

GENERATOR = "Anchorage 0.1.0"
TEMPLATE_VERSION = "audit-report/2"


class ReportSourceError(RuntimeError):
    """A Final report was asked for without a locked snapshot to render from."""


_VERDICTS = {
    AssessmentScale.CONFORMITY: {
        "red": "Not compliant: non-compliant requirements or open high-severity findings remain.",
        "amber": "Partially compliant: some requirements are partial or not yet assessed.",
        "green": "Compliant: every applicable requirement is met.",
    },
    # A guidance standard ("should") gives no conformity verdict, so its report never says "compliant".
    AssessmentScale.GUIDANCE: {
        "red": "Not addressed: some of the guidance is not addressed, or open high-severity findings remain.",
        "amber": "Partly addressed: some of the guidance is partly addressed or not yet assessed.",
        "green": "Addressed: every applicable clause of the guidance is addressed (guidance, not a conformity "
                 "verdict).",
    },
}


def _verdict(counts: Counter[str], findings: list[dict[str, Any]], *,
             assessment_scale: str = AssessmentScale.CONFORMITY) -> tuple[str, str]:
    words = _VERDICTS[AssessmentScale(assessment_scale)]
    severe = any(f["severity"] in ("critical", "high") and f["open"] for f in findings)
    if counts[ResultStatus.NON_COMPLIANT] or severe:
        return "red", words["red"]
    if counts[ResultStatus.PARTIALLY_COMPLIANT] or counts[ResultStatus.NOT_ASSESSED]:
        return "amber", words["amber"]
    return "green", words["green"]


def _assessment_scale(report: Report, facts: dict[str, Any]) -> str:
    """The scale the snapshot recorded; a snapshot locked before scales existed takes its framework's."""
    return facts["assessment"]["framework"].get("assessment_scale") or report.assessment.framework.assessment_scale


def report_facts(report: Report) -> dict[str, Any]:
    """What the report states: a Final report the locked snapshot only, a draft the same facts read live."""
    assessment = report.assessment
    if report.is_draft:
        return assessment_snapshot_build(assessment=assessment)
    if not assessment.is_locked or not assessment.snapshot:
        raise ReportSourceError(f"{report.report_id} is Final, but its assessment has no locked snapshot.")
    return assessment.snapshot


def report_status_line(report: Report, facts: dict[str, Any]) -> str:
    """The one status the cover, every page header and the sign-off print."""
    if report.is_draft:
        return f"DRAFT — not final: assessment {report.assessment.get_status_display().lower()}, not locked"
    return f"Final — assessment locked {str(facts['assessment'].get('locked_at') or '')[:16]} UTC"


CHARTED_RECORDS = 6


def _robustness(facts: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]], str]:
    records = facts.get("robustness", [])
    summaries = [robustness_summary_from_facts(fact) for fact in records]
    # Every record prints its figures, threat model, environment and thresholds; the chart only for the first
    # CHARTED_RECORDS, so a report over a long history stays readable.
    sections = [{"summary": s, "threat_models": fact.get("threat_models", []),
                 "environment": fact.get("environment") or {},
                 "chart": mark_safe(accuracy_vs_epsilon_svg(s)) if index < CHARTED_RECORDS else ""}  # noqa: S308
                for index, (s, fact) in enumerate(zip(summaries, records, strict=True))]
    trend = robustness_over_versions_svg(summaries, "Worst-case robust accuracy by model version") \
        if len(summaries) > 1 else ""
    return summaries, sections, mark_safe(trend)  # noqa: S308 - our own SVG, every label escaped


def _signoff(report: Report, facts: dict[str, Any], generated_at: Any) -> dict[str, Any]:
    """Who prepared, approved and locked (from the facts), and the attestations recorded before this render.

    An attestation is of a finished PDF's SHA-256, so no PDF can carry its own: a report prints those of
    the assessment's earlier reports; its own are shown beside it in Anchorage and on verification.
    """
    details = facts["assessment"]
    attestations = [] if report.is_draft else [{
        "report_id": a.report.report_id, "report_sha256": a.report_sha256,
        "attested_by": a.attested_by.get_username() if a.attested_by else "a former user",
        "attested_at": a.attested_at, "comment": a.comment,
    } for a in attestations_of_assessment(report.assessment, before=generated_at) if a.report_id != report.pk]
    return {
        "prepared_by": details.get("prepared_by", []), "assessors": details.get("assessors", []),
        "reviewers": details.get("reviewers", []),
        "requested_by": report.requested_by.get_username() if report.requested_by else "system",
        "approved_by": details.get("approved_by"), "approved_at": str(details.get("approved_at") or "")[:16],
        "approver_named_reviewer": details.get("approved_by") in details.get("reviewers", []),
        "locked_by": details.get("locked_by"), "locked_at": str(details.get("locked_at") or "")[:16],
        "attestations": attestations,
    }


def report_context_build(*, report: Report) -> dict[str, Any]:
    facts = report_facts(report)
    details = facts["assessment"]
    results = facts["results"]
    counts = Counter(r["result"] for r in results)
    findings = facts.get("findings", [])
    summaries, robustness_sections, trend = _robustness(facts)
    scale = _assessment_scale(report, facts)
    rag, verdict = _verdict(counts, findings, assessment_scale=scale)
    generated_at = timezone.now()
    framework_urn = (details["framework"] or {}).get("urn") or ""
    source_note = secondary_source_note(framework_urn=framework_urn, classified=bool(facts.get("classification")))
    source_notes = [note for note in (source_note, inferred_source_note(framework_urn=framework_urn)) if note]
    classification = facts.get("classification")
    return {
        "report": report, "facts": facts, "assessment": details, "framework": details["framework"],
        "organisation": facts.get("organisation") or {"name": details.get("organisation")},
        "ai_system": facts.get("ai_system"), "model_version": facts.get("model_version"),
        "classification": classification_for_report(classification) if source_note else classification,
        "source_notes": source_notes,
        "snapshot_sha256": "" if report.is_draft else report.assessment.snapshot_sha256,
        "generated_at": generated_at, "generator": GENERATOR, "template_version": TEMPLATE_VERSION,
        "is_draft": report.is_draft, "report_status": report_status_line(report, facts), "rag": rag,
        "verdict": verdict,
        "counts": {result_label(status.value, assessment_scale=scale): counts.get(status.value, 0)
                   for status in ResultStatus},
        "applicable_count": sum(1 for r in results if r["applicable"]),
        "results": results, "soa": facts.get("statement_of_applicability", []),
        "findings": findings, "top_findings": [f for f in findings if f["open"]][:5],
        "risks": facts.get("risks", []), "actions": facts.get("actions", []), "robustness": robustness_sections,
        "robustness_trend": trend, "charted_records": CHARTED_RECORDS, "robustness_summaries": summaries,
        "assessors": details.get("assessors", []), "reviewers": details.get("reviewers", []),
        "manifest": facts.get("manifest", []), "manifest_sha256": facts.get("manifest_sha256", ""),
        "signoff": _signoff(report, facts, generated_at),
    }
