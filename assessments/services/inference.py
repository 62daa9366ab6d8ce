"""“Assess once, comply many”: a person's result proposes results on mapped requirements.

A proposal lands only on results of other *open* (draft or in-review) assessments with the same
scope (same AI system, or both organisation-wide) that nobody has assessed yet, or that were
themselves inferred. It stays marked inferred for good, with the result, requirement and
crosswalk it came from and the source's evidence, and counts for approval only once a person
confirms it (`result_inference_confirm`, or accepting it in `requirement_result_review`).

A hand edit (`requirement_result_update`) never confirms: the inference is a proposal the person
must accept explicitly. An edit that keeps the proposed result (rationale, controls, evidence)
leaves it inferred, confirmed or not as before; an edit that changes the result or the applicability
replaces the inference with the person's own, direct result (the audit trail keeps what it was).
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from assessments.models import Assessment, AssessmentStatus, RequirementResult, ResultStatus, result_label
from assessments.services.common import Actor, AssessmentLockedError, ConflictError, actor_assert_may
from assessments.services.coverage import coverage_result_changed
from governance.audit import audit_event_record
from governance.models import Crosswalk, Relationship, Requirement
from governance.models.audit import AuditAction
from governance.permissions import Permission

_R = ResultStatus
# Best first. An inferred result is never better than its source; a relationship other than
# `equal` (subset, superset, intersects: the two requirements do not say the same thing) weakens
# it by one step, down to non-compliant, and nothing ever strengthens it. A source without a
# verdict (not assessed, not applicable) proposes nothing.
_ORDER: tuple[str, ...] = (_R.COMPLIANT, _R.PARTIALLY_COMPLIANT, _R.NON_COMPLIANT)
_INVERSE: dict[str, str] = {Relationship.SUBSET: Relationship.SUPERSET, Relationship.SUPERSET: Relationship.SUBSET}


def inferred_from_text(result: RequirementResult) -> str:
    """One sentence on where an inferred result came from; "" for a result a person recorded directly.

    "Inferred from NIST AI RMF MEASURE 2.5 (Non-compliant) via crosswalk (intersects; Microsoft's AI RMF ↔
    ISO/IEC 42001 crosswalk, row MEASURE 2.5 → B.6.2.4); not yet confirmed".
    The relationship is read from the source requirement towards this one; the crosswalk's `citation`
    follows it when the row has one.
    """
    if not result.is_inferred:
        return ""
    source = result.inferred_from
    crosswalk = result.inferred_via
    parts = ["Inferred from"]
    requirement = source.requirement if source is not None else _other_end(crosswalk, result.requirement_id)
    if requirement is not None:
        parts.append(f"{requirement.framework.ref_id} {requirement.ref_id}")
    else:
        parts.append("a result that no longer exists")
    if source is not None:
        scale = source.requirement.framework.assessment_scale
        parts.append(f"({result_label(source.result, assessment_scale=scale)})")
    if crosswalk is not None:
        # The crosswalk's short source ("Microsoft's AI RMF ↔ ISO/IEC 42001 crosswalk, row MEASURE 2.1") rides in
        # the same parentheses, so the sentence keeps its shape.
        cited = f"; {crosswalk.citation}" if crosswalk.citation else ""
        parts.append(f"via crosswalk ({_relationship_towards(crosswalk, result.requirement_id)}{cited})")
    text = " ".join(parts)
    confirmer = result.inference_confirmed_by
    if result.inference_confirmed_at is None:
        return f"{text}; not yet confirmed"
    who = confirmer.get_username() if confirmer is not None else "a former user"
    return f"{text}; confirmed by {who} on {result.inference_confirmed_at.date().isoformat()}"


def _other_end(crosswalk: Crosswalk | None, requirement_id: int) -> Requirement | None:
    if crosswalk is None:
        return None
    return crosswalk.source if crosswalk.target_id == requirement_id else crosswalk.target


def _relationship_towards(crosswalk: Crosswalk, requirement_id: int) -> str:
    """The crosswalk's relationship as seen from the source requirement towards `requirement_id`."""
    if crosswalk.target_id == requirement_id:
        return crosswalk.relationship
    return _INVERSE.get(crosswalk.relationship, crosswalk.relationship)


def proposed_result(source_result: str, relationship: str) -> str | None:
    """The result a source proposes through a crosswalk: never better than the source."""
    if source_result not in _ORDER:
        return None
    step = 0 if relationship == Relationship.EQUAL else 1
    return _ORDER[min(_ORDER.index(source_result) + step, len(_ORDER) - 1)]


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
    """Propose (or withdraw) inferred results from `source`; runs inside the caller's transaction.

    Only a result a person recorded directly is a source: inferences never chain.
    """
    if source.is_inferred:
        return []
    mapped = _mappings(source.requirement_id)
    if not mapped:
        return []
    changed: list[RequirementResult] = []
    for target in _candidates(source, list(mapped)):
        crosswalk, relationship = mapped[target.requirement_id]
        proposal = proposed_result(source.result, relationship)
        if proposal is None:
            if target.is_inferred and target.inferred_from_id == source.pk:
                inference_withdraw(target, actor=actor)
                changed.append(target)
            continue
        if target.is_inferred and target.inferred_from_id not in (None, source.pk):
            continue  # the first proposal stands until a person decides; do not flip-flop between sources
        if _apply(target, result=proposal, source=source, crosswalk=crosswalk, actor=actor):
            changed.append(target)
    return changed


def _apply(target: RequirementResult, *, result: str, source: RequirementResult, crosswalk: Crosswalk,
           actor: Actor) -> bool:
    """Make `target` the inference of `source`, with the source's evidence as it is now; a changed proposal
    needs a new confirmation. False when the proposal stands as it was (nothing is changed or recorded:
    the evidence a person removed from an inferred result does not come back with every edit of the source)."""
    if (target.is_inferred and target.result == result and target.inferred_from_id == source.pk
            and target.inferred_via_id == crosswalk.pk):
        return False
    evidence = set(source.evidence_versions.values_list("pk", flat=True))
    held = set(target.evidence_versions.values_list("pk", flat=True))
    before = (target.result, target.is_inferred, target.inferred_via_id, target.inference_confirmed_at is not None)
    target.result, target.is_inferred, target.inferred_from, target.inferred_via = result, True, source, crosswalk
    target.inference_confirmed_by, target.inference_confirmed_at = None, None
    target.save(update_fields=["result", "is_inferred", "inferred_from", "inferred_via", "inference_confirmed_by",
                               "inference_confirmed_at", "updated_at"])
    coverage_result_changed(result=target, before=before[0])
    target.evidence_versions.add(*evidence)
    audit_event_record(organisation=target.assessment.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=target, changes={
                           "result": [before[0], result], "is_inferred": [before[1], True],
                           "inferred_via": [before[2], crosswalk.pk], "inferred_from": source.pk,
                           "inference_confirmed": [before[3], False],
                           "evidence_versions": sorted(evidence | held)})
    return True


def inference_withdraw(target: RequirementResult, *, actor: Actor) -> None:
    """Back to not assessed: the inference, its confirmation and the evidence it brought along go."""
    brought = inference_evidence_ids(target)
    changes: dict[str, list[Any]] = {
        "result": [target.result, _R.NOT_ASSESSED if target.applicable else _R.NOT_APPLICABLE],
        "is_inferred": [target.is_inferred, False], "inferred_via": [target.inferred_via_id, None],
        "inferred_from": [target.inferred_from_id, None], "evidence_versions_removed": brought}
    target.result = _R.NOT_ASSESSED if target.applicable else _R.NOT_APPLICABLE
    inference_drop(target)
    target.save(update_fields=["result", "is_inferred", "inferred_from", "inferred_via", "inference_confirmed_by",
                               "inference_confirmed_at", "updated_at"])
    coverage_result_changed(result=target, before=changes["result"][0])
    target.evidence_versions.remove(*brought)
    audit_event_record(organisation=target.assessment.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=target, changes=changes)


def inference_drop(result: RequirementResult) -> None:
    """Forget that `result` was inferred (the caller saves and records it)."""
    result.is_inferred, result.inferred_from, result.inferred_via = False, None, None
    result.inference_confirmed_by, result.inference_confirmed_at = None, None


def inference_evidence_ids(result: RequirementResult) -> list[int]:
    """The evidence versions an inferred result holds because its source holds them."""
    if not result.is_inferred or result.inferred_from_id is None:
        return []
    return list(RequirementResult.evidence_versions.through.objects
                .filter(requirementresult_id=result.inferred_from_id).values_list("evidenceversion_id", flat=True))


def inferred_unconfirmed_refs(assessment: Assessment) -> list[str]:
    """Requirement ids of the assessment's inferred results that no person has confirmed yet."""
    return list(assessment.results.filter(is_inferred=True, inference_confirmed_at__isnull=True)
                .order_by("requirement__order").values_list("requirement__ref_id", flat=True))


@transaction.atomic
def result_inference_confirm(*, result: RequirementResult, actor: Actor) -> RequirementResult:
    """A person confirms an inferred result as it stands; it stays inferred, with its sources, but now counts."""
    result = (RequirementResult.objects.select_for_update().select_related("assessment", "requirement")
              .get(pk=result.pk))
    user = actor_assert_may(actor, organisation_id=result.organisation_id, action=Permission.EDIT_ASSESSMENTS,
                            refusal="Only an org admin, risk officer or consultant of the organisation may "
                                    "confirm an inferred result.")
    if result.assessment.status not in (AssessmentStatus.DRAFT, AssessmentStatus.IN_REVIEW):
        raise AssessmentLockedError(f"“{result.assessment}” is {result.assessment.get_status_display().lower()}: "
                                    "it cannot change.")
    if not result.is_inferred:
        raise ConflictError(f"{result.requirement.ref_id} was recorded directly, not inferred: "
                            "there is nothing to confirm.")
    if result.inference_confirmed_at is not None:
        who = result.inference_confirmed_by.get_username() if result.inference_confirmed_by else "a former user"
        raise ConflictError(f"{result.requirement.ref_id} is already confirmed (by {who} on "
                            f"{result.inference_confirmed_at.date().isoformat()}).")
    result.inference_confirmed_by, result.inference_confirmed_at = user, timezone.now()
    result.updated_by = user
    result.save(update_fields=["inference_confirmed_by", "inference_confirmed_at", "updated_by", "updated_at"])
    audit_event_record(organisation=result.assessment.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=result, changes={"inference_confirmed": [False, True],
                                                 "inferred_from": result.inferred_from_id,
                                                 "inferred_via": result.inferred_via_id, "result": result.result})
    return result
