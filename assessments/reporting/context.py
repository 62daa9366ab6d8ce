"""What the audit report says (§4.5 of the governance reference): one dict for the template."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import mark_safe

from assessments.models import Action, EvidenceVersion, Finding, Report, ResultStatus
from assessments.models.findings import OPEN_FINDING_STATUSES, SEVERITY_ORDER
from assessments.reporting.charts import accuracy_vs_epsilon_svg, robustness_over_versions_svg
from assessments.selectors.exports import manifest_entries, manifest_sha256
from assessments.selectors.robustness import RobustnessSummary, robustness_summary_get, robustness_versions
from governance.models import Risk

GENERATOR = "Anchorage 0.1.0"
TEMPLATE_VERSION = "audit-report/1"


def _verdict(counts: Counter[str], findings: list[Finding]) -> tuple[str, str]:
    severe = any(f.severity in ("critical", "high") and f.status in OPEN_FINDING_STATUSES for f in findings)
    if counts[ResultStatus.NON_COMPLIANT] or severe:
        return "red", "Not compliant: non-compliant requirements or open high-severity findings remain."
    if counts[ResultStatus.PARTIALLY_COMPLIANT] or counts[ResultStatus.NOT_ASSESSED]:
        return "amber", "Partially compliant: some requirements are partial or not yet assessed."
    return "green", "Compliant: every applicable requirement is met."


def _classification(ai_system: Any) -> Any:
    if ai_system is None:
        return None
    try:
        return ai_system.classification
    except Exception:  # RelatedObjectDoesNotExist: the system is not classified yet
        return None


def _robustness(report: Report) -> tuple[list[RobustnessSummary], list[dict[str, Any]], str]:
    assessment = report.assessment
    if assessment.ai_system_id:
        versions = robustness_versions(report.organisation_id, ai_system_id=assessment.ai_system_id)
    else:  # an organisation-wide assessment: the robustness evidence its results rest on
        versions = list(EvidenceVersion.objects.filter(results__assessment=assessment).distinct()
                        .select_related("evidence__ai_system").order_by("-uploaded_at")[:30])
    # Each result is judged against the thresholds its own AI system set in advance.
    summaries = [s for s in (robustness_summary_get(v, thresholds=v.evidence.ai_system.robustness_thresholds
                                                    if v.evidence.ai_system else ()) for v in versions) if s]
    sections = [{"summary": s, "chart": mark_safe(accuracy_vs_epsilon_svg(s))} for s in summaries[:6]]  # noqa: S308
    trend = robustness_over_versions_svg(summaries, "Worst-case robust accuracy by model version") \
        if len(summaries) > 1 else ""
    return summaries, sections, mark_safe(trend)  # noqa: S308 - our own SVG, every label escaped


def report_context_build(*, report: Report) -> dict[str, Any]:
    assessment = report.assessment
    results = list(assessment.results.select_related("requirement", "inferred_via__source", "inferred_via__target")
                   .prefetch_related("controls", "evidence_versions__evidence").order_by("requirement__order"))
    counts = Counter(r.result for r in results)
    scope = Q(assessment=assessment) | (Q(ai_system=assessment.ai_system) if assessment.ai_system_id else Q(pk=None))
    findings = sorted(Finding.objects.filter(scope, organisation=assessment.organisation)
                      .select_related("owner").prefetch_related("requirements"),
                      key=lambda f: (SEVERITY_ORDER.index(f.severity), f.pk))
    actions = list(Action.objects.filter(Q(findings__in=findings) | Q(engagement__baseline_assessments=assessment)
                                         | Q(engagement__closing_assessments=assessment))
                   .distinct().select_related("owner", "phase", "engagement").order_by("due_date", "id"))
    risks = list(Risk.objects.filter(organisation=assessment.organisation, ai_system=assessment.ai_system)
                 .select_related("owner")) if assessment.ai_system_id else []
    manifest = manifest_entries(assessment)
    summaries, robustness_sections, trend = _robustness(report)
    rag, verdict = _verdict(counts, findings)
    return {
        "report": report, "assessment": assessment, "framework": assessment.framework,
        "organisation": assessment.organisation, "ai_system": assessment.ai_system,
        "model_version": assessment.model_version, "classification": _classification(assessment.ai_system),
        "generated_at": timezone.now(), "generator": GENERATOR, "template_version": TEMPLATE_VERSION,
        "is_draft": report.is_draft, "rag": rag, "verdict": verdict,
        "counts": {status.label: counts.get(status.value, 0) for status in ResultStatus},
        "applicable_count": sum(1 for r in results if r.applicable),
        "results": results, "soa": assessment.soa_snapshot,
        "findings": findings, "top_findings": [f for f in findings if f.status in OPEN_FINDING_STATUSES][:5],
        "risks": risks, "actions": actions, "robustness": robustness_sections, "robustness_trend": trend,
        "robustness_summaries": summaries,
        "assessors": list(assessment.assessors.all()), "reviewers": list(assessment.reviewers.all()),
        "manifest": manifest, "manifest_sha256": manifest_sha256(manifest),
    }
