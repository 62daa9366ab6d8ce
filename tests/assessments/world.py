"""One Acme world with a row of every kind, for the authorisation matrices."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from django.core.files.base import ContentFile
from django.utils import timezone

from assessments.models import (
    Action,
    Assessment,
    Engagement,
    Evidence,
    EvidenceVersion,
    Finding,
    Phase,
    Report,
    RequirementResult,
)
from assessments.services import (
    action_create,
    assessment_approve,
    assessment_create,
    assessment_submit_for_review,
    engagement_create,
    finding_create,
    report_request,
    requirement_result_update,
)
from governance.models import AISystem, AuditEvent, Framework
from governance.permissions import PERMISSIONS, Permission
from tests.assessments.factories import evidence_with_version


@dataclass
class World:
    framework: Framework
    system: AISystem
    draft: Assessment
    in_review: Assessment
    approved: Assessment
    result: RequirementResult
    evidence: Evidence
    version: EvidenceVersion
    finding: Finding
    engagement: Engagement
    phase: Phase
    action: Action
    report: Report
    pdf: bytes


def world_make(*, acme, nist, system, actor) -> World:
    # Every member who may approve is a named reviewer; nobody has recorded a result, so four eyes let
    # each of them approve "In review". "Approved" can be locked: another member (not its approver)
    # recorded why each requirement is not assessed yet.
    approvers = [m.user for m in acme.memberships.filter(role__in=PERMISSIONS[Permission.APPROVE_ASSESSMENTS])
                 .select_related("user").order_by("pk")]
    recorder = next(user for user in approvers if user != actor)
    draft = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=actor, title="Draft one")
    in_review = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=actor, title="In review",
                                  reviewers=approvers)
    assessment_submit_for_review(assessment=in_review, actor=actor)
    approved = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=actor, title="Approved",
                                 reviewers=approvers)
    for result in approved.results.filter(result="not_assessed"):
        requirement_result_update(result=result, actor=recorder, not_assessed_reason="Out of this period's scope.")
    assessment_submit_for_review(assessment=approved, actor=actor)
    assessment_approve(assessment=approved, actor=actor)
    evidence, version = evidence_with_version(acme, actor, title="Acme policy", content=b"acme policy text")
    finding = finding_create(organisation=acme, title="Acme finding", description="", severity="high", actor=actor,
                             source="manual", ai_system=system)
    engagement = engagement_create(organisation=acme, title="Acme engagement", start_date=date(2026, 11, 1),
                                   actor=actor)
    action = action_create(engagement=engagement, title="Acme action", actor=actor, due_date=date(2026, 11, 10))
    report = report_request(assessment=draft, actor=actor)
    pdf = b"%PDF-1.7 test report bytes"
    report.file.save("r.pdf", ContentFile(pdf), save=False)
    Report.objects.filter(pk=report.pk).update(file=report.file.name, status="succeeded", sha256=hashlib.sha256(pdf)
                                               .hexdigest(), size=len(pdf), generated_at=timezone.now())
    report.refresh_from_db()
    return World(framework=nist, system=system, draft=Assessment.objects.get(pk=draft.pk),
                 in_review=Assessment.objects.get(pk=in_review.pk), approved=Assessment.objects.get(pk=approved.pk),
                 result=draft.results.get(requirement__ref_id="M1"), evidence=evidence, version=version,
                 finding=finding, engagement=engagement, phase=engagement.phases.get(order=1), action=action,
                 report=report, pdf=pdf)


def fingerprint(organisation) -> tuple:
    """Everything a denied request must leave as it was (every write is audited, so events count too)."""
    return (
        AuditEvent.objects.filter(organisation=organisation).count(),
        tuple(Assessment.objects.filter(organisation=organisation).order_by("pk").values_list("status", "title")),
        tuple(RequirementResult.objects.filter(organisation=organisation).order_by("pk")
              .values_list("result", "is_inferred", "rationale")),
        Evidence.objects.filter(organisation=organisation).count(),
        EvidenceVersion.objects.filter(organisation=organisation).count(),
        tuple(Finding.objects.filter(organisation=organisation).order_by("pk").values_list("status", "title")),
        tuple(Engagement.objects.filter(organisation=organisation).order_by("pk").values_list("title")),
        tuple(Phase.objects.filter(organisation=organisation).order_by("pk").values_list("title", "end_date")),
        tuple(Action.objects.filter(organisation=organisation).order_by("pk").values_list("status", "progress")),
        Report.objects.filter(organisation=organisation).count(),
    )
