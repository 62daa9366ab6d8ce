"""The Statement of Applicability: proposals from the rules, then human decisions with reasons."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.applicability_rules import SystemContext, propose
from governance.audit import Actor, actor_user, audit_event_record
from governance.models.applicability import ApplicabilityDecision
from governance.models.audit import AuditAction
from governance.models.catalog import Requirement
from governance.models.registry import AISystem, EUAIActClassification
from governance.services._audit import record_update, snapshot


def _context(ai_system: AISystem) -> SystemContext:
    roles = frozenset(ai_system.operator_roles or [])
    classification = EUAIActClassification.objects.filter(ai_system=ai_system).first()
    if classification is None:
        return SystemContext(result=None, operator_roles=roles)
    if classification.is_incomplete:
        raise ValidationError({"classification": "The EU AI Act classification is incomplete; answer first: "
                                                 + ", ".join(classification.missing_answers) + ". No Statement of "
                                                 "Applicability is proposed from an incomplete classification."})
    return SystemContext(result=classification.result, operator_roles=roles,
                         annex_iii_points=frozenset(classification.annex_iii_points),
                         transparency_obligations=frozenset(classification.transparency_obligations),
                         public_service_deployer=bool(classification.answers.get("public_service_deployer")),
                         general_purpose_model_provider=classification.general_purpose_model_provider,
                         systemic_risk=classification.systemic_risk,
                         annex_i_section_b=classification.annex_i_section_b)


def _roots(requirements: list[Requirement]) -> dict[int, str]:
    """Each requirement's top-level ancestor ref_id (rows arrive in document order)."""
    roots: dict[int, str] = {}
    for row in requirements:
        roots[row.pk] = roots.get(row.parent_id, row.ref_id) if row.parent_id else row.ref_id
    return roots


@transaction.atomic
def applicability_propose(*, ai_system: AISystem, actor: Actor) -> int:
    """(Re)propose every assessable requirement; undecided rows follow the proposal, decided rows
    keep the human decision. One audit event records what changed. Returns the rows touched."""
    context = _context(ai_system)
    requirements = list(Requirement.objects.select_related("framework").order_by("framework_id", "order"))
    roots = _roots(requirements)
    existing = {row.requirement_id: row for row in ApplicabilityDecision.objects.filter(ai_system=ai_system)}
    changes: dict[str, list[object]] = {}
    for requirement in (row for row in requirements if row.assessable):
        applies, why = propose(context, requirement.framework.slug, roots[requirement.pk], requirement.ref_id)
        row = existing.get(requirement.pk)
        if row is None:
            ApplicabilityDecision.objects.create(
                organisation=ai_system.organisation, ai_system=ai_system, requirement=requirement,
                proposed_applicable=applies, proposal_justification=why, applicable=applies)
            changes[requirement.urn] = [None, applies]
        elif (row.proposed_applicable, row.proposal_justification) != (applies, why):
            changes[requirement.urn] = [row.proposed_applicable, applies]
            row.proposed_applicable, row.proposal_justification = applies, why
            if row.decided_at is None:
                row.applicable = applies
            row.save(update_fields=["proposed_applicable", "proposal_justification", "applicable"])
    if changes:
        audit_event_record(organisation=ai_system.organisation, actor=actor, action=AuditAction.UPDATE,
                           object_type="governance.ApplicabilityDecision", object_id=f"ai_system:{ai_system.pk}",
                           changes={"ai_system": ai_system.pk, "proposed_applicable": changes})
    return len(changes)


@transaction.atomic
def applicability_decide(*, decision: ApplicabilityDecision, actor: Actor, applicable: bool,
                         justification: str) -> ApplicabilityDecision:
    """Confirm (same as the proposal) or override (different); either way with a justification."""
    if not justification.strip():
        raise ValidationError({"justification": "Say why: a Statement of Applicability justifies every decision."})
    before = snapshot(decision)
    decision.applicable, decision.justification = applicable, justification.strip()
    decision.decided_by = actor_user(actor)
    decision.decided_at = timezone.now()
    decision.save()
    record_update(decision, before, actor=actor)
    return decision


@transaction.atomic
def applicability_confirm_all(*, ai_system: AISystem, framework_id: int, actor: Actor, justification: str) -> int:
    """Confirm every still-undecided proposal of one framework with one shared justification."""
    undecided = ApplicabilityDecision.objects.filter(ai_system=ai_system, requirement__framework_id=framework_id,
                                                     decided_at=None).select_related("requirement")
    count = 0
    for decision in undecided:
        applicability_decide(decision=decision, actor=actor, applicable=decision.proposed_applicable,
                             justification=justification)
        count += 1
    return count
