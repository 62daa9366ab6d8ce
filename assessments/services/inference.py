"""“Assess once, comply many”: a person's result proposes results on mapped requirements.

A proposal lands only on results of other *open* (draft or in-review) assessments with the same
scope (same AI system, or both organisation-wide) that nobody has assessed yet, or that were
themselves inferred. It stays marked inferred, with the crosswalk it came through, until a
person reviews it (`requirement_result_review`) or records their own result.
"""

from __future__ import annotations

from django.db import models

from assessments.models import AssessmentStatus, RequirementResult, ResultStatus
from assessments.services.common import Actor
from governance.audit import audit_event_record
from governance.models import Crosswalk, Relationship
from governance.models.audit import AuditAction

_R = ResultStatus
# (result of the source, how the source relates to the target) → the proposed result of the target.
# "source ⊇ target" carries a pass through; "source ⊆ target" carries a failure through; the rest is partial.
_PROPOSAL: dict[tuple[str, str], str] = {
    (_R.COMPLIANT, Relationship.EQUAL): _R.COMPLIANT,
    (_R.COMPLIANT, Relationship.SUPERSET): _R.COMPLIANT,
    (_R.COMPLIANT, Relationship.SUBSET): _R.PARTIALLY_COMPLIANT,
    (_R.COMPLIANT, Relationship.INTERSECTS): _R.PARTIALLY_COMPLIANT,
    (_R.NON_COMPLIANT, Relationship.EQUAL): _R.NON_COMPLIANT,
    (_R.NON_COMPLIANT, Relationship.SUBSET): _R.NON_COMPLIANT,
    (_R.NON_COMPLIANT, Relationship.SUPERSET): _R.PARTIALLY_COMPLIANT,
    (_R.NON_COMPLIANT, Relationship.INTERSECTS): _R.PARTIALLY_COMPLIANT,
}
_INVERSE = {Relationship.SUBSET: Relationship.SUPERSET, Relationship.SUPERSET: Relationship.SUBSET}


def proposed_result(source_result: str, relationship: str) -> str | None:
    if source_result == _R.PARTIALLY_COMPLIANT:
        return _R.PARTIALLY_COMPLIANT
    return _PROPOSAL.get((source_result, relationship))


def _mappings(requirement_id: int) -> dict[int, tuple[Crosswalk, str]]:
    """Mapped requirement id → (crosswalk, relationship seen from our requirement)."""
    mapped: dict[int, tuple[Crosswalk, str]] = {}
    for crosswalk in Crosswalk.objects.filter(models.Q(source_id=requirement_id) | models.Q(target_id=requirement_id)):
        if crosswalk.source_id == requirement_id:
            mapped[crosswalk.target_id] = (crosswalk, crosswalk.relationship)
        else:
            mapped.setdefault(crosswalk.source_id,
                              (crosswalk, _INVERSE.get(crosswalk.relationship, crosswalk.relationship)))
    return mapped


def _candidates(source: RequirementResult, requirement_ids: list[int]) -> models.QuerySet[RequirementResult]:
    assessment = source.assessment
    return (RequirementResult.objects
            .filter(organisation_id=source.organisation_id, requirement_id__in=requirement_ids, applicable=True,
                    assessment__ai_system_id=assessment.ai_system_id,
                    assessment__status__in=(AssessmentStatus.DRAFT, AssessmentStatus.IN_REVIEW))
            .exclude(assessment_id=assessment.pk)
            .filter(models.Q(is_inferred=True) | models.Q(result=_R.NOT_ASSESSED))
            .select_related("assessment"))


def results_infer_from(*, source: RequirementResult, actor: Actor) -> list[RequirementResult]:
    """Propose (or withdraw) inferred results from `source`; runs inside the caller's transaction."""
    mapped = _mappings(source.requirement_id)
    if not mapped:
        return []
    changed: list[RequirementResult] = []
    for target in _candidates(source, list(mapped)):
        crosswalk, relationship = mapped[target.requirement_id]
        proposal = proposed_result(source.result, relationship)
        if proposal is None:
            if target.is_inferred and target.inferred_from_id == source.pk:
                _apply(target, result=_R.NOT_ASSESSED, inferred=False, source=None, crosswalk=None, actor=actor)
                changed.append(target)
            continue
        if target.is_inferred and target.inferred_from_id not in (None, source.pk):
            continue  # the first proposal stands until a person decides; do not flip-flop between sources
        _apply(target, result=proposal, inferred=True, source=source, crosswalk=crosswalk, actor=actor)
        changed.append(target)
    return changed


def _apply(target: RequirementResult, *, result: str, inferred: bool, source: RequirementResult | None,
           crosswalk: Crosswalk | None, actor: Actor) -> None:
    before = (target.result, target.is_inferred, target.inferred_via_id)
    target.result, target.is_inferred, target.inferred_from, target.inferred_via = result, inferred, source, crosswalk
    target.save(update_fields=["result", "is_inferred", "inferred_from", "inferred_via", "updated_at"])
    audit_event_record(organisation=target.assessment.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=target, changes={
                           "result": [before[0], result], "is_inferred": [before[1], inferred],
                           "inferred_via": [before[2], crosswalk.pk if crosswalk else None],
                           "inferred_from": source.pk if source else None})
