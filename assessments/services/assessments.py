"""Assessment writes: create from the Statement of Applicability, record results, review, approve, lock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assessments.models import Assessment, AssessmentStatus, EvidenceVersion, RequirementResult, ResultStatus
from assessments.selectors.signoff import approval_refusal, lock_blockers
from assessments.services.common import (
    Actor,
    AssessmentIncompleteError,
    AssessmentLockedError,
    SegregationOfDutiesError,
    ServiceError,
    same_organisation,
    user_or_none,
)
from assessments.services.coverage import coverage_assessment_opened, coverage_result_changed
from assessments.services.inference import (
    inference_drop,
    inference_evidence_ids,
    inferred_unconfirmed_refs,
    result_inference_confirm,
    results_infer_from,
)
from assessments.services.snapshot import assessment_snapshot_build, canonical_sha256
from governance.audit import audit_diff, audit_event_record, audit_snapshot
from governance.models import AISystem, ApplicabilityDecision, Control, Framework, ModelVersion, Requirement
from governance.models.audit import AuditAction
from governance.models.tenancy import Organisation


def assessment_assert_editable(assessment: Assessment) -> None:
    if assessment.status in (AssessmentStatus.LOCKED, AssessmentStatus.APPROVED):
        raise AssessmentLockedError(f"“{assessment}” is {assessment.get_status_display().lower()}: it cannot change.")


def _soa_rows(*, framework: Framework, ai_system: AISystem | None) -> list[dict[str, Any]]:
    """The system's Statement of Applicability for one framework (all applicable for the organisation)."""
    requirements = list(Requirement.objects.filter(framework=framework, assessable=True).order_by("order"))
    decisions: dict[int, ApplicabilityDecision] = {}
    if ai_system is not None:
        decisions = {d.requirement_id: d for d in ApplicabilityDecision.objects.filter(
            ai_system=ai_system, requirement__framework=framework)}
    rows = []
    for requirement in requirements:
        decision = decisions.get(requirement.pk)
        rows.append({
            "requirement_id": requirement.pk, "urn": requirement.urn, "ref_id": requirement.ref_id,
            "title": requirement.title,
            "applicable": decision.applicable if decision else True,
            "justification": (decision.justification or decision.proposal_justification) if decision else
            ("Organisation-wide assessment: every requirement is in scope." if ai_system is None
             else "No applicability decision recorded: in scope by default."),
            "decision_state": decision.state if decision else "default",
        })
    return rows


@transaction.atomic
def assessment_create(*, organisation: Organisation, framework: Framework, actor: Actor, title: str = "",
                      ai_system: AISystem | None = None, model_version: ModelVersion | None = None,
                      period_start: date | None = None, period_end: date | None = None, scope_notes: str = "",
                      assessors: Iterable[User] = (), reviewers: Iterable[User] = ()) -> Assessment:
    """Start from the system's Statement of Applicability, snapshot it, open one result per requirement."""
    if ai_system is not None:
        same_organisation(organisation, [ai_system], "The AI system")
    if model_version is not None:
        same_organisation(organisation, [model_version], "The model version")
        if ai_system is None or model_version.ai_system_id != ai_system.pk:
            raise ServiceError("The model version must belong to the assessed AI system.")
    if period_start and period_end and period_end < period_start:
        raise ServiceError("The period ends before it starts.")
    soa = _soa_rows(framework=framework, ai_system=ai_system)
    scope = ai_system.name if ai_system else organisation.name
    assessment = Assessment.objects.create(
        organisation=organisation, framework=framework, ai_system=ai_system, model_version=model_version,
        title=title.strip() or f"{scope} × {framework}", period_start=period_start, period_end=period_end,
        scope_notes=scope_notes, soa_snapshot=soa, created_by=user_or_none(actor))
    assessment.assessors.set(assessors)
    assessment.reviewers.set(reviewers)
    RequirementResult.objects.bulk_create([RequirementResult(
        organisation=organisation, assessment=assessment, requirement_id=row["requirement_id"],
        applicable=row["applicable"], applicability_justification=row["justification"],
        result=ResultStatus.NOT_ASSESSED if row["applicable"] else ResultStatus.NOT_APPLICABLE) for row in soa])
    coverage_assessment_opened(assessment=assessment)
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.CREATE, instance=assessment,
                       changes={**audit_snapshot(assessment), "soa_snapshot": len(soa)})
    return assessment


_ASSESSMENT_FIELDS = ("title", "period_start", "period_end", "scope_notes")


@transaction.atomic
def assessment_update(*, assessment: Assessment, actor: Actor, assessors: Iterable[User] | None = None,
                      reviewers: Iterable[User] | None = None, **fields: Any) -> Assessment:
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    assessment_assert_editable(assessment)
    unknown = set(fields) - set(_ASSESSMENT_FIELDS)
    if unknown:
        raise ServiceError(f"Cannot change {', '.join(sorted(unknown))}.")
    before = audit_snapshot(assessment)
    for name, value in fields.items():
        setattr(assessment, name, value)
    assessment.save()
    if assessors is not None:
        assessment.assessors.set(assessors)
    if reviewers is not None:
        assessment.reviewers.set(reviewers)
    audit_event_record(organisation=assessment.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=assessment, changes=audit_diff(before, audit_snapshot(assessment)))
    return assessment


@transaction.atomic
def requirement_result_update(*, result: RequirementResult, actor: Actor, result_status: str | None = None,
                              rationale: str | None = None, applicable: bool | None = None,
                              applicability_justification: str | None = None,
                              controls: Iterable[Control] | None = None,
                              evidence_versions: Iterable[EvidenceVersion] | None = None,
                              not_assessed_reason: str | None = None, infer: bool = True) -> RequirementResult:
    """A person records a result: no longer pending review; mapped results are proposed.

    A hand edit never confirms an inferred result; changing its result or applicability makes it the
    person's own, direct result (`assessments.services.inference` explains why).
    """
    result = RequirementResult.objects.select_for_update().select_related("assessment").get(pk=result.pk)
    assessment_assert_editable(result.assessment)
    organisation = result.assessment.organisation
    before = audit_snapshot(result)
    proposed = (result.result, result.applicable)
    if applicable is not None:
        result.applicable = applicable
    if applicability_justification is not None:
        result.applicability_justification = applicability_justification
    if result_status is not None:
        result.result = ResultStatus(result_status)
    if not result.applicable:
        result.result = ResultStatus.NOT_APPLICABLE
    if rationale is not None:
        result.rationale = rationale
    if not_assessed_reason is not None:
        result.not_assessed_reason = not_assessed_reason.strip()
    if result.result != ResultStatus.NOT_ASSESSED:
        result.not_assessed_reason = ""  # a reason for not assessing outlives no assessment
    if result.is_inferred and (result.result, result.applicable) != proposed:
        inference_drop(result)
    result.needs_review, result.review_reason = False, ""
    result.updated_by = user_or_none(actor)
    result.save()
    coverage_result_changed(result=result, before=proposed[0])
    changes: dict[str, Any] = audit_diff(before, audit_snapshot(result))
    if controls is not None:
        result.controls.set(same_organisation(organisation, controls, "A control"))
        changes["controls"] = [c.pk for c in result.controls.all()]
    if evidence_versions is not None:
        result.evidence_versions.set(same_organisation(organisation, evidence_versions, "An evidence version"))
        changes["evidence_versions"] = [v.pk for v in result.evidence_versions.all()]
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.UPDATE, instance=result,
                       changes=changes)
    if infer:
        results_infer_from(source=result, actor=actor)
    return result


@transaction.atomic
def requirement_result_review(*, result: RequirementResult, actor: Actor, accept: bool = True) -> RequirementResult:
    """Accept an inferred (or needs-review) result as it stands, or reject it back to not assessed.

    Accepting an unconfirmed inferred result confirms it (`result_inference_confirm`); it stays inferred.
    """
    result = RequirementResult.objects.select_for_update().select_related("assessment").get(pk=result.pk)
    assessment_assert_editable(result.assessment)
    if accept and result.is_inferred and result.inference_confirmed_at is None:
        result = result_inference_confirm(result=result, actor=actor)
    before, value_before = audit_snapshot(result), result.result
    if not accept:
        result.result = ResultStatus.NOT_ASSESSED if result.applicable else ResultStatus.NOT_APPLICABLE
        if result.is_inferred:
            result.evidence_versions.remove(*inference_evidence_ids(result))
        inference_drop(result)
    result.needs_review, result.review_reason = False, ""
    result.updated_by = user_or_none(actor)
    result.save()
    coverage_result_changed(result=result, before=value_before)
    audit_event_record(organisation=result.assessment.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=result, changes={**audit_diff(before, audit_snapshot(result)), "reviewed": accept})
    return result


def _transition(assessment: Assessment, *, actor: Actor, allowed_from: tuple[str, ...], to: str,
                **fields: Any) -> Assessment:
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.status == AssessmentStatus.LOCKED:
        raise AssessmentLockedError("The assessment is locked.")
    if locked.status not in allowed_from:
        raise ServiceError(f"Cannot move from {locked.get_status_display()} to {AssessmentStatus(to).label}.")
    before = audit_snapshot(locked)
    locked.status = to
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    audit_event_record(organisation=locked.organisation, actor=actor, action=AuditAction.UPDATE, instance=locked,
                       changes=audit_diff(before, audit_snapshot(locked)))
    return locked


@transaction.atomic
def assessment_submit_for_review(*, assessment: Assessment, actor: Actor) -> Assessment:
    return _transition(assessment, actor=actor, allowed_from=(AssessmentStatus.DRAFT,), to=AssessmentStatus.IN_REVIEW,
                       submitted_at=timezone.now())


@transaction.atomic
def assessment_approve(*, assessment: Assessment, actor: Actor) -> Assessment:
    """Approval needs a named reviewer who recorded none of the results (four eyes: the rules are in
    `assessments.selectors.signoff`), and every inferred or flagged result reviewed by a person first."""
    current = Assessment.objects.select_for_update().get(pk=assessment.pk)
    unconfirmed = inferred_unconfirmed_refs(assessment)
    if unconfirmed:
        raise ServiceError(f"{len(unconfirmed)} inferred result(s) are not yet confirmed by a person: "
                           f"{', '.join(unconfirmed)}. Confirm or replace them before approval.")
    pending = assessment.results.filter(needs_review=True).count()
    if pending:
        raise ServiceError(f"{pending} result(s) need review: review them before approval.")
    if current.status == AssessmentStatus.IN_REVIEW:  # another status: _transition says why it cannot move
        refusal = approval_refusal(current, user_or_none(actor))
        if refusal:
            raise SegregationOfDutiesError(refusal)
    return _transition(assessment, actor=actor, allowed_from=(AssessmentStatus.IN_REVIEW,),
                       to=AssessmentStatus.APPROVED, approved_by=user_or_none(actor), approved_at=timezone.now())


@transaction.atomic
def assessment_return_to_draft(*, assessment: Assessment, actor: Actor) -> Assessment:
    # An approval is of the assessment as it stood: back in draft it no longer stands.
    return _transition(assessment, actor=actor, allowed_from=(AssessmentStatus.IN_REVIEW, AssessmentStatus.APPROVED),
                       to=AssessmentStatus.DRAFT, approved_by=None, approved_at=None)


@transaction.atomic
def assessment_lock(*, assessment: Assessment, actor: Actor) -> Assessment:
    """Freeze: the snapshot (JSON) and its SHA-256 are written once, and nothing changes afterwards.

    Refused while an applicable requirement is not assessed without a recorded reason, or a result
    claims (partial) compliance with neither evidence nor rationale: a Final report must not say less.
    """
    current = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if current.status == AssessmentStatus.APPROVED:
        blockers = [str(blocker) for blocker in lock_blockers(current)]
        if blockers:
            shown = "; ".join(blockers[:10]) + (f"; and {len(blockers) - 10} more" if len(blockers) > 10 else "")
            raise AssessmentIncompleteError(
                f"{len(blockers)} result(s) keep this assessment from being locked: {shown}.", blockers)
    now = timezone.now()
    # From the row as it is now (approval included), not the caller's possibly stale copy.
    snapshot = assessment_snapshot_build(assessment=current, locked_at=now, locked_by=user_or_none(actor))
    return _transition(assessment, actor=actor, allowed_from=(AssessmentStatus.APPROVED,), to=AssessmentStatus.LOCKED,
                       locked_by=user_or_none(actor), locked_at=now, snapshot=snapshot,
                       snapshot_sha256=canonical_sha256(snapshot))
