"""90-day engagements: open with the default three-phase plan, edit phases, manage actions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from assessments.models import Action, ActionStatus, Assessment, Engagement, EvidenceVersion, Finding, Phase
from assessments.services.common import Actor, ServiceError, same_organisation, user_or_none
from governance.audit import audit_diff, audit_event_record, audit_snapshot
from governance.models.audit import AuditAction
from governance.models.tenancy import Organisation


@dataclass(frozen=True)
class PhaseTemplate:
    first_day: int
    last_day: int
    title: str
    description: str


# The method's three phases (the consultant's 90-day engagement).
DEFAULT_PLAN = (
    PhaseTemplate(1, 30, "Risk assessment", "Find the models that fail adversarial screening."),
    PhaseTemplate(31, 60, "Anchor definition", "Diagnose and expand the class text anchors."),
    PhaseTemplate(61, 90, "Adversarial retraining and validation",
                  "Retrain with alignment cross-entropy and validate against the thresholds."),
)


@transaction.atomic
def engagement_create(*, organisation: Organisation, title: str, start_date: date, actor: Actor,
                      description: str = "", lead: User | None = None) -> Engagement:
    """Open an engagement for a client organisation with milestone dates counted from `start_date`."""
    engagement = Engagement.objects.create(
        organisation=organisation, title=title.strip() or "90-day engagement", description=description,
        lead=lead or user_or_none(actor), start_date=start_date, end_date=start_date + timedelta(days=89))
    phases = Phase.objects.bulk_create([Phase(
        organisation=organisation, engagement=engagement, order=index, title=template.title,
        description=template.description, start_date=start_date + timedelta(days=template.first_day - 1),
        end_date=start_date + timedelta(days=template.last_day - 1)) for index, template in enumerate(DEFAULT_PLAN, 1)])
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.CREATE, instance=engagement,
                       changes={**audit_snapshot(engagement), "phases": [p.title for p in phases]})
    return engagement


@transaction.atomic
def engagement_assessments_set(*, engagement: Engagement, actor: Actor, baseline: Iterable[Assessment] | None = None,
                               closing: Iterable[Assessment] | None = None) -> Engagement:
    changes: dict[str, Any] = {}
    if baseline is not None:
        engagement.baseline_assessments.set(same_organisation(engagement.organisation, baseline, "An assessment"))
        changes["baseline_assessments"] = [a.pk for a in engagement.baseline_assessments.all()]
    if closing is not None:
        engagement.closing_assessments.set(same_organisation(engagement.organisation, closing, "An assessment"))
        changes["closing_assessments"] = [a.pk for a in engagement.closing_assessments.all()]
    audit_event_record(organisation=engagement.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=engagement, changes=changes)
    return engagement


@transaction.atomic
def phase_update(*, phase: Phase, actor: Actor, **fields: Any) -> Phase:
    unknown = set(fields) - {"title", "description", "start_date", "end_date"}
    if unknown:
        raise ServiceError(f"Cannot change {', '.join(sorted(unknown))}.")
    before = audit_snapshot(phase)
    for name, value in fields.items():
        setattr(phase, name, value)
    if phase.end_date < phase.start_date:
        raise ServiceError("A phase cannot end before it starts.")
    phase.save()
    audit_event_record(organisation=phase.organisation, actor=actor, action=AuditAction.UPDATE, instance=phase,
                       changes=audit_diff(before, audit_snapshot(phase)))
    return phase


_ACTION_FIELDS = ("title", "description", "owner", "due_date", "status", "progress", "phase")
_ACTION_LINKS = ("findings", "controls", "evidence_versions", "closure_evidence")


def _links_set(action: Action, links: dict[str, Iterable[models.Model] | None]) -> dict[str, list[int]]:
    changes: dict[str, list[int]] = {}
    for name in _ACTION_LINKS:
        rows = links.get(name)
        if rows is not None:
            getattr(action, name).set(same_organisation(action.organisation, rows, name))
            changes[name] = [row.pk for row in getattr(action, name).all()]
    return changes


def _fields_apply(action: Action, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(_ACTION_FIELDS)
    if unknown:
        raise ServiceError(f"Cannot change {', '.join(sorted(unknown))}.")
    if fields.get("phase") is not None and fields["phase"].engagement_id != action.engagement_id:
        raise ServiceError("The phase belongs to another engagement.")
    for name, value in fields.items():
        setattr(action, name, value)
    if not 0 <= action.progress <= 100:
        raise ServiceError("Progress is a percentage (0–100).")
    action.status = ActionStatus(action.status)
    if action.status == ActionStatus.DONE:
        action.progress, action.closed_at = 100, action.closed_at or timezone.now()
    else:
        action.closed_at = None


@transaction.atomic
def action_create(*, engagement: Engagement, title: str, actor: Actor,
                  findings: Iterable[Finding] | None = None, controls: Iterable[models.Model] | None = None,
                  evidence_versions: Iterable[EvidenceVersion] | None = None,
                  closure_evidence: Iterable[EvidenceVersion] | None = None, **fields: Any) -> Action:
    action = Action(organisation=engagement.organisation, engagement=engagement, title=title.strip() or "Action")
    _fields_apply(action, fields)
    action.save()
    links = _links_set(action, {"findings": findings, "controls": controls, "evidence_versions": evidence_versions,
                                "closure_evidence": closure_evidence})
    audit_event_record(organisation=engagement.organisation, actor=actor, action=AuditAction.CREATE, instance=action,
                       changes={**audit_snapshot(action), **links})
    return action


@transaction.atomic
def action_update(*, action: Action, actor: Actor, findings: Iterable[Finding] | None = None,
                  controls: Iterable[models.Model] | None = None,
                  evidence_versions: Iterable[EvidenceVersion] | None = None,
                  closure_evidence: Iterable[EvidenceVersion] | None = None, **fields: Any) -> Action:
    action = Action.objects.select_for_update().get(pk=action.pk)
    before = audit_snapshot(action)
    _fields_apply(action, fields)
    if action.status == ActionStatus.DONE and closure_evidence is None and not action.closure_evidence.exists():
        raise ServiceError("Closing an action needs closure evidence.")
    action.save()
    links = _links_set(action, {"findings": findings, "controls": controls, "evidence_versions": evidence_versions,
                                "closure_evidence": closure_evidence})
    if action.status == ActionStatus.DONE and not action.closure_evidence.exists():
        raise ServiceError("Closing an action needs closure evidence.")
    audit_event_record(organisation=action.organisation, actor=actor, action=AuditAction.UPDATE, instance=action,
                       changes={**audit_diff(before, audit_snapshot(action)), **links})
    return action
