"""Everything an audit report states, read once from live rows as plain JSON-safe data.

The lock stores these facts in the assessment's snapshot (`assessments.services.snapshot`); a
Final report renders from that snapshot alone, a draft from the same facts read live. So the
PDF's figures have one source, and a Final one cannot change after the lock.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from assessments.models import Action, Assessment, EvidenceVersion, Finding
from assessments.models.findings import OPEN_FINDING_STATUSES, SEVERITY_ORDER
from assessments.selectors.robustness import (
    AttackPoint,
    RobustnessSummary,
    ThresholdCheck,
    record_from_metadata_or_file,
    robustness_summary_get,
)
from assessments.selectors.robustness import robustness_versions as _robustness_versions
from assessments.selectors.threat_models import run_environment, threat_models


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def profile_facts(assessment: Assessment) -> dict[str, Any]:
    """The organisation, the AI system, its model version and its EU AI Act classification."""
    system, version = assessment.ai_system, assessment.model_version
    facts: dict[str, Any] = {"organisation": {"name": assessment.organisation.name}, "ai_system": None,
                             "model_version": None, "classification": None}
    if version is not None:
        facts["model_version"] = {"version": version.version, "architecture": version.architecture,
                                  "checkpoint_sha256": version.checkpoint_sha256,
                                  "training_card": training_card_facts(version)}
    if system is None:
        return facts
    facts["ai_system"] = {
        "name": system.name, "intended_purpose": system.intended_purpose,
        "operator_roles": system.operator_roles_display, "lifecycle_stage": system.get_lifecycle_stage_display(),
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
            "missing_answers": list(classification.missing_answers),
        }
    return facts


def training_card_facts(version: Any) -> dict[str, Any] | None:
    """The training-objective card of the assessed model version, if it has one (an observation, not a finding)."""
    try:
        card = version.training_card
    except ObjectDoesNotExist:
        return None
    return {
        "loss_terms": [{"name": t.get("name"), "kind": t.get("kind"), "weight": t.get("weight"),
                        "kind_label": _loss_kind_label(t.get("kind"))}
                       for t in card.loss_terms if isinstance(t, dict)],
        "has_adversarial_robustness_term": card.has_adversarial_robustness_term,
        "achieves_intended_outcome": card.achieves_intended_outcome, "gaming_risks": card.gaming_risks,
        "tracks_real_world_metrics": card.tracks_real_world_metrics,
        "edge_case_treatment": card.edge_case_treatment, "updated_by": _username(card.updated_by) or "system",
        "updated_at": card.updated_at,
    }


def _loss_kind_label(kind: Any) -> str:
    from governance.models.registry import LossTermKind

    return str(LossTermKind(kind).label) if kind in LossTermKind.values else str(kind or "kind not recorded")


def _implementation(controls: list[Any]) -> str:
    """The most advanced state among the controls that implement a requirement (retired ones do not count)."""
    from governance.models.controls import ControlStatus

    statuses = {c.status for c in controls}
    for status in (ControlStatus.OPERATING, ControlStatus.IMPLEMENTED, ControlStatus.PLANNED):
        if status in statuses:
            return str(status.label)
    return "Retired controls only" if statuses else "No control mapped"


def soa_facts(assessment: Assessment) -> list[dict[str, Any]]:
    """The Statement of Applicability as snapshotted at the start, with each requirement's title and the
    implementation status of the organisation's controls for it (as they stand when the facts are read)."""
    from governance.models import Control, Requirement

    rows = assessment.soa_snapshot or []
    requirements = Requirement.objects.in_bulk([row["requirement_id"] for row in rows if row.get("requirement_id")])
    controls: dict[int, list[Any]] = {}
    for control in (Control.objects.filter(organisation=assessment.organisation, requirements__in=requirements)
                    .prefetch_related("requirements").order_by("ref_id")):
        for implemented in control.requirements.all():
            controls.setdefault(implemented.pk, []).append(control)
    facts = []
    for row in rows:
        requirement = requirements.get(row.get("requirement_id"))
        implementing = controls.get(row.get("requirement_id"), [])
        facts.append({**row, "title": row.get("title") or _title_from(requirement),
                      "implementation_status": _implementation(implementing),
                      "controls": [{"ref_id": c.ref_id, "name": c.name, "status": c.get_status_display()}
                                   for c in implementing]})
    return facts


def _title_from(requirement: Any) -> str:
    """A catalog node without a title (NIST subcategories, EU AI Act paragraphs) is named by its text's start."""
    if requirement is None:
        return ""
    text = requirement.title or " ".join(requirement.text.split())
    return text if len(text) <= 120 else text[:119].rstrip() + "…"


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
            record = record_from_metadata_or_file(version) or {}
            metadata = version.metadata if isinstance(version.metadata, dict) else {}
            provenance = metadata.get("provenance")
            if not isinstance(provenance, dict):
                provenance = {}
            facts.append({**asdict(summary), "passed": summary.passed,
                          "worst_robust_accuracy": summary.worst_robust_accuracy,
                          "threat_models": threat_models(record), "environment": run_environment(record, provenance)})
    return facts


_SUMMARY_FIELDS = frozenset(field.name for field in fields(RobustnessSummary))


def robustness_summary_from_facts(fact: dict[str, Any]) -> RobustnessSummary:
    """A snapshot's robustness entry back as the summary the charts draw."""
    values = {key: value for key, value in fact.items() if key in _SUMMARY_FIELDS}
    values["points"] = tuple(AttackPoint(**point) for point in fact.get("points", ()))
    values["checks"] = tuple(ThresholdCheck(**check) for check in fact.get("checks", ()))
    return RobustnessSummary(**values)
