"""Sign-off reads: who recorded an assessment's results, who may approve it, what blocks its lock.

Four eyes (issue #13): the people who recorded results in an assessment may not approve it. A
*recorder* is anyone the audit trail names as the actor of a change to one of the assessment's
results (recording, reviewing, confirming; a crosswalk proposal counts for the person whose
result it carried), and anyone who is a result's `updated_by` now. The audit trail is the
source because `updated_by` keeps only the last editor: someone whose result was later edited
by a colleague still recorded it.

Approval needs a named reviewer: with none named it is refused (an auditor wants to see who
was meant to review before anyone did), and with reviewers named only one of them approves.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User

from assessments.models import Assessment, Report, ReportAttestation, RequirementResult, ResultStatus
from governance.models import AuditEvent
from governance.models.jobs import JobStatus

CLAIMS_OF_COMPLIANCE = (ResultStatus.COMPLIANT, ResultStatus.PARTIALLY_COMPLIANT)


def result_recorder_ids(assessment: Assessment) -> set[int]:
    result_ids = [str(pk) for pk in assessment.results.values_list("pk", flat=True)]
    from_trail = (AuditEvent.objects.filter(organisation_id=assessment.organisation_id,
                                            object_type=RequirementResult._meta.label, object_id__in=result_ids)
                  .exclude(actor=None).values_list("actor_id", flat=True))
    current = assessment.results.exclude(updated_by=None).values_list("updated_by_id", flat=True)
    return set(from_trail) | set(current)


def approval_refusal(assessment: Assessment, user: User | None) -> str | None:
    """Why `user` may not approve `assessment` (four eyes, named reviewer), or None."""
    if user is None:
        return "Approval needs a person: it cannot be automatic."
    reviewer_ids = set(assessment.reviewers.values_list("pk", flat=True))
    if not reviewer_ids:
        return "No reviewer is named: name the reviewer who will approve this assessment first."
    if user.pk not in reviewer_ids:
        names = ", ".join(sorted(u.get_username() for u in assessment.reviewers.all()))
        return f"Only a named reviewer may approve this assessment ({names}); you are not one of them."
    if user.pk in result_recorder_ids(assessment):
        return ("Four eyes: you recorded results in this assessment, so you may not approve it. "
                "Another named reviewer must.")
    return None


@dataclass(frozen=True)
class LockBlocker:
    result_id: int
    ref_id: str
    problem: str

    def __str__(self) -> str:
        return f"{self.ref_id}: {self.problem}"


def lock_blockers(assessment: Assessment) -> list[LockBlocker]:
    """Results that keep a Final report from being honest: unassessed without a reason, unsupported claims."""
    blockers = []
    results = (assessment.results.filter(applicable=True).select_related("requirement")
               .prefetch_related("evidence_versions").order_by("requirement__order"))
    for result in results:
        if result.result == ResultStatus.NOT_ASSESSED and not result.not_assessed_reason.strip():
            blockers.append(LockBlocker(result.pk, result.requirement.ref_id,
                                        "not assessed, and no reason is recorded"))
        elif (result.result in CLAIMS_OF_COMPLIANCE and not result.rationale.strip()
              and not result.evidence_versions.all()):
            blockers.append(LockBlocker(result.pk, result.requirement.ref_id,
                                        f"{result.result_label.lower()} without evidence or rationale"))
    return blockers


def prepared_by(assessment: Assessment) -> list[str]:
    """Usernames of the people who recorded the results, sorted (for the snapshot and the sign-off)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(pk__in=result_recorder_ids(assessment))
    return sorted(user.get_username() for user in users)


def attestations_of_assessment(assessment: Assessment, *, before: object = None) -> list[ReportAttestation]:
    """Attestations recorded for the assessment's reports (those recorded by `before`, a datetime, if given)."""
    attestations = (ReportAttestation.objects.filter(report__assessment=assessment)
                    .select_related("report", "attested_by").order_by("attested_at", "id"))
    if before is not None:
        attestations = attestations.filter(attested_at__lte=before)
    return list(attestations)


def attestation_refusal(report: Report, user: User | None) -> str | None:
    """Why `report` cannot be attested by `user` now (status reasons only; the hash is checked by the service)."""
    if report.status != JobStatus.SUCCEEDED or not report.file:
        return f"{report.report_id} is not generated yet ({report.get_status_display().lower()}): nothing to attest."
    if report.is_draft:
        return (f"{report.report_id} is a draft: only a Final report, rendered from a locked assessment, "
                "can be attested.")
    if user is not None and report.attestations.filter(attested_by=user).exists():
        return f"You have already attested {report.report_id}."
    return None
