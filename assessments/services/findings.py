"""Finding writes: raise, update, move along the status lifecycle."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assessments.models import Assessment, Finding, FindingSeverity, FindingStatus
from assessments.models.findings import FINDING_TRANSITIONS, OPEN_FINDING_STATUSES
from assessments.services.common import Actor, ServiceError, same_organisation, user_or_none
from governance.audit import audit_diff, audit_event_record, audit_snapshot
from governance.models.audit import AuditAction
from governance.models.catalog import Requirement
from governance.models.registry import AISystem
from governance.models.risks import Risk
from governance.models.tenancy import Organisation
from governance.selectors import model_versions_missing_robustness_term


@transaction.atomic
def finding_create(*, organisation: Organisation, title: str, description: str, severity: str, actor: Actor,
                   source: str, ai_system: AISystem | None = None, requirements: Iterable[Requirement] = (),
                   risks: Iterable[Risk] = (), owner: User | None = None,
                   due_date: date | None = None, metadata: dict[str, Any] | None = None,
                   assessment: Assessment | None = None) -> Finding:
    if ai_system is not None:
        same_organisation(organisation, [ai_system], "The AI system")
    if assessment is not None:
        same_organisation(organisation, [assessment], "The assessment")
    risks = same_organisation(organisation, risks, "A risk")
    finding = Finding.objects.create(
        organisation=organisation, title=title.strip() or "Untitled finding", description=description,
        severity=FindingSeverity(severity), source=source or "manual", ai_system=ai_system, assessment=assessment,
        owner=owner, due_date=due_date, metadata=metadata or {}, created_by=user_or_none(actor))
    requirements = list(requirements)
    finding.requirements.set(requirements)
    finding.risks.set(risks)
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.CREATE, instance=finding,
                       changes={**audit_snapshot(finding), "requirements": [r.pk for r in requirements],
                                "risks": [r.pk for r in risks]})
    return finding


_EDITABLE = ("title", "description", "severity", "owner", "due_date", "status")


@transaction.atomic
def finding_update(*, finding: Finding, actor: Actor, requirements: Iterable[Requirement] | None = None,
                   risks: Iterable[Risk] | None = None, **fields: Any) -> Finding:
    """Edit fields; a status change must follow the lifecycle (`FINDING_TRANSITIONS`)."""
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ServiceError(f"Cannot change {', '.join(sorted(unknown))}.")
    before = audit_snapshot(finding)
    new_status = fields.pop("status", None)
    if new_status is not None and new_status != finding.status:
        if FindingStatus(new_status) not in FINDING_TRANSITIONS[FindingStatus(finding.status)]:
            raise ServiceError(f"A finding cannot go from {finding.get_status_display()} to "
                               f"{FindingStatus(new_status).label}.")
        finding.status = new_status
        finding.closed_at = None if new_status in OPEN_FINDING_STATUSES else timezone.now()
    if "severity" in fields:
        fields["severity"] = FindingSeverity(fields["severity"])
    for name, value in fields.items():
        setattr(finding, name, value)
    finding.save()
    changes: dict[str, Any] = audit_diff(before, audit_snapshot(finding))
    if requirements is not None:
        finding.requirements.set(list(requirements))
        changes["requirements"] = [r.pk for r in finding.requirements.all()]
    if risks is not None:
        finding.risks.set(same_organisation(finding.organisation, risks, "A risk"))
        changes["risks"] = [r.pk for r in finding.risks.all()]
    audit_event_record(organisation=finding.organisation, actor=actor, action=AuditAction.UPDATE, instance=finding,
                       changes=changes)
    return finding


def findings_raise_for_missing_robustness_terms(*, organisation: Organisation, actor: Actor) -> list[Finding]:
    """Each version of a high-risk system trained without a robustness term gets one finding (once)."""
    raised: list[Finding] = []
    for model_version in model_versions_missing_robustness_term(organisation):
        key = f"missing-robustness-term:{model_version.pk}"
        if Finding.objects.filter(organisation=organisation, metadata__rule_key=key).exists():
            continue
        raised.append(finding_create(
            organisation=organisation, actor=actor, source="rule", severity=FindingSeverity.HIGH,
            ai_system=model_version.ai_system,
            title=f"No adversarial-robustness term in the training objective of {model_version}",
            description="A high-risk system's training objective has no robustness term "
                        "(EU AI Act Art 15(4)-(5); NIST AI RMF MEASURE 2.7).",
            metadata={"rule_key": key, "model_version": model_version.pk}))
    return raised
