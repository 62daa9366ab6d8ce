"""Everything an audit report states, read once from live rows as plain JSON-safe data.

The lock stores these facts in the assessment's snapshot (`assessments.services.snapshot`); a
Final report renders from that snapshot alone, a draft from the same facts read live. So the
PDF's figures have one source, and a Final one cannot change after the lock.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db.models import Q

from assessments.models import Action, Assessment, EvidenceVersion, Finding
from assessments.models.findings import OPEN_FINDING_STATUSES, SEVERITY_ORDER
from assessments.selectors.robustness import AttackPoint, RobustnessSummary, ThresholdCheck, robustness_summary_get
from assessments.selectors.robustness import robustness_versions as _robustness_versions


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def profile_facts(assessment: Assessment) -> dict[str, Any]:
    """The organisation, the AI system, its model version and its EU AI Act classification."""
    system, version = assessment.ai_system, assessment.model_version
    facts: dict[str, Any] = {"organisation": {"name": assessment.organisation.name}, "ai_system": None,
                             "model_version": None, "classification": None}
    if version is not None:
        facts["model_version"] = {"version": version.version, "architecture": version.architecture,
                                  "checkpoint_sha256": version.checkpoint_sha256}
    if system is None:
        return facts
    facts["ai_system"] = {
        "name": system.name, "intended_purpose": system.intended_purpose,
        "operator_role": system.get_operator_role_display(), "lifecycle_stage": system.get_lifecycle_stage_display(),
        "deployment_context": system.deployment_context, "affected_persons": system.affected_persons,
        "human_oversight": system.get_human_oversight_display(),
        "human_oversight_description": system.human_oversight_description,
    }
    classification = _classification(system)
    if classification is not None:
        facts["classification"] = {
            "result": classification.get_result_display(), "annex_iii_points": list(classification.annex_iii_points),
            "rationale": classification.rationale, "application_date": classification.application_date,
            "application_date_source": classification.application_date_source,
        }
    return facts


def _classification(system: Any) -> Any:
    try:
        return system.classification
    except Exception:  # RelatedObjectDoesNotExist: the system is not classified yet
        return None


def _findings(assessment: Assessment) -> list[Finding]:
    scope = Q(assessment=assessment) | (Q(ai_system=assessment.ai_system) if assessment.ai_system_id else Q(pk=None))
    return sorted(Finding.objects.filter(scope, organisation=assessment.organisation)
                  .select_related("owner").prefetch_related("requirements"),
                  key=lambda f: (SEVERITY_ORDER.index(f.severity), f.pk))


def work_facts(assessment: Assessment) -> dict[str, Any]:
    """Findings in scope, the risk register extract and the remediation actions linked to them."""
    findings = _findings(assessment)
    actions = (Action.objects.filter(Q(findings__in=findings) | Q(engagement__baseline_assessments=assessment)
                                     | Q(engagement__closing_assessments=assessment))
               .distinct().select_related("owner", "phase", "engagement").order_by("due_date", "id"))
    from governance.models import Risk

    risks = (Risk.objects.filter(organisation=assessment.organisation, ai_system=assessment.ai_system)
             .select_related("owner") if assessment.ai_system_id else [])
    return {
        "findings": [{
            "title": f.title, "severity": f.severity, "severity_label": f.get_severity_display(),
            "status": f.status, "status_label": f.get_status_display(), "open": f.status in OPEN_FINDING_STATUSES,
            "requirements": [q.ref_id for q in f.requirements.all()], "owner": _username(f.owner),
            "due_date": f.due_date,
        } for f in findings],
        "risks": [{
            "title": r.title, "risk_source": r.risk_source, "inherent_score": r.inherent_score,
            "treatment": r.get_treatment_display(), "residual_score": r.residual_score, "owner": _username(r.owner),
            "status": r.get_status_display(),
        } for r in risks],
        "actions": [{
            "phase": a.phase.title if a.phase else None, "title": a.title, "owner": _username(a.owner),
            "due_date": a.due_date, "status": a.get_status_display(), "progress": a.progress,
        } for a in actions],
    }


def _robustness_evidence(assessment: Assessment) -> list[EvidenceVersion]:
    if assessment.ai_system_id:
        return _robustness_versions(assessment.organisation_id, ai_system_id=assessment.ai_system_id)
    # An organisation-wide assessment: the robustness evidence its results rest on.
    return list(EvidenceVersion.objects.filter(results__assessment=assessment).distinct()
                .select_related("evidence__ai_system").order_by("-uploaded_at")[:30])


def robustness_facts(assessment: Assessment) -> list[dict[str, Any]]:
    """Each robustness record judged against the thresholds its own AI system set in advance."""
    facts = []
    for version in _robustness_evidence(assessment):
        system = version.evidence.ai_system
        summary = robustness_summary_get(version, thresholds=system.robustness_thresholds if system else ())
        if summary is not None:
            facts.append({**asdict(summary), "passed": summary.passed,
                          "worst_robust_accuracy": summary.worst_robust_accuracy})
    return facts


def robustness_summary_from_facts(fact: dict[str, Any]) -> RobustnessSummary:
    """A snapshot's robustness entry back as the summary the charts draw."""
    fields = {key: value for key, value in fact.items() if key not in ("passed", "worst_robust_accuracy")}
    fields["points"] = tuple(AttackPoint(**point) for point in fact.get("points", ()))
    fields["checks"] = tuple(ThresholdCheck(**check) for check in fact.get("checks", ()))
    return RobustnessSummary(**fields)
