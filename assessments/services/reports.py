"""Report jobs on the job kernel (`governance.jobs`): request (a row + a task by name on commit), then
generate (claim with a lease, heartbeat, render, hash, store); the reaper re-sends a report whose
worker died, and every ending follows the kernel's failure policy."""

from __future__ import annotations

import hashlib
import logging
import time

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone

from assessments.models import Assessment, Report, ReportAttestation
from assessments.selectors.signoff import attestation_refusal
from assessments.services.common import Actor, ConflictError, NotPermittedError, ServiceError, user_or_none
from assessments.task_names import QUEUE, REPORT_GENERATE
from governance.audit import audit_event_record, audit_snapshot
from governance.jobs import (
    Claim,
    Heartbeat,
    LeaseLost,
    job_claim,
    job_enqueue,
    job_guarded,
    jobs_resend,
    lease_expired,
    never_started,
)
from governance.models.audit import AuditAction
from governance.models.jobs import JobStatus
from governance.models.tenancy import Membership
from governance.permissions import Permission, role_allows

logger = logging.getLogger(__name__)


@transaction.atomic
def report_request(*, assessment: Assessment, actor: Actor) -> Report:
    """A new version of the assessment's report; the `default` queue renders it."""
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    version = (locked.reports.aggregate(top=models.Max("version"))["top"] or 0) + 1
    report = Report.objects.create(organisation_id=locked.organisation_id, assessment=locked, version=version,
                                   is_draft=not locked.is_locked, requested_by=user_or_none(actor))
    audit_event_record(organisation=locked.organisation, actor=actor, action=AuditAction.CREATE, instance=report,
                       changes=audit_snapshot(report))
    job_enqueue(REPORT_GENERATE, report.pk, QUEUE)
    return report


def report_generate(*, report_id: int) -> Report | None:
    """The task's body: claim the report (None when finished or another worker holds it), render, store.

    A render failure is terminal for this version (the row says why); a transient database error
    escapes to the task, which retries it after handing the lease back.
    """
    claim = job_claim(model=Report, pk=report_id)
    if claim is None:
        return None
    job_guarded(claim, lambda: _render(claim))
    return Report.objects.get(pk=report_id)


def _render(claim: Claim) -> str:
    from assessments.reporting.pdf import report_pdf_render

    heartbeat = Heartbeat(claim)
    heartbeat.beat(progress=0.1, message="Rendering", eta=None, force=True)
    report = Report.objects.select_related("assessment", "organisation").get(pk=claim.pk)
    started = time.perf_counter()
    rendered = report_pdf_render(report=report)
    heartbeat.beat(progress=0.9, message="Storing", eta=None, force=True)  # LeaseLost if another worker took it
    _store(claim, rendered.pdf, pages=rendered.pages, manifest=rendered.manifest,
           manifest_sha256=rendered.manifest_sha256, seconds=time.perf_counter() - started)
    return JobStatus.SUCCEEDED


@transaction.atomic
def _store(claim: Claim, pdf: bytes, *, pages: int, manifest: list[dict[str, object]], manifest_sha256: str,
           seconds: float) -> None:
    report = claim.mine().select_for_update().first()
    if report is None:
        raise LeaseLost(f"report {claim.pk} is no longer ours to store")
    report.sha256, report.size, report.pages = hashlib.sha256(pdf).hexdigest(), len(pdf), pages
    report.manifest, report.manifest_sha256, report.render_seconds = manifest, manifest_sha256, seconds
    report.file.save(f"{report.report_id}.pdf", ContentFile(pdf), save=False)
    report.status, report.progress, report.message = JobStatus.SUCCEEDED, 1.0, "Ready"
    report.generated_at = report.finished_at = timezone.now()
    report.lease_expires_at, report.eta_seconds = None, None
    report.save()
    audit_event_record(organisation=report.organisation, actor=None, action=AuditAction.UPDATE, instance=report,
                       changes={"status": JobStatus.SUCCEEDED, "sha256": report.sha256, "size": report.size,
                                "manifest_sha256": manifest_sha256})


def reports_reap_expired_leases() -> int:
    """Beat: re-send every report whose worker died (lease expired) or whose message was lost."""
    now = timezone.now()
    return jobs_resend(Report.objects.filter(lease_expired(now) | never_started(Report, now)),
                       task_name=REPORT_GENERATE, queue=QUEUE)


def _stored_sha256(report: Report) -> str:
    digest = hashlib.sha256()
    with report.file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


@transaction.atomic
def report_attest(*, report: Report, actor: Actor, report_sha256: str, comment: str = "") -> ReportAttestation:
    """An auditor attests a finished Final report: the SHA-256 they give must be the report's, now.

    Refused (nothing stored, no audit event) for another role, a report not generated yet, a draft,
    a second attestation by the same person, a hash that is not the report's, or a stored file
    that no longer hashes to what was recorded.
    """
    report = Report.objects.select_for_update().select_related("assessment", "organisation").get(pk=report.pk)
    user = user_or_none(actor)
    membership = Membership.objects.filter(user=user, organisation_id=report.organisation_id).first() if user else None
    if membership is None or not role_allows(membership.role, Permission.ATTEST_REPORTS):
        raise NotPermittedError("Only an auditor of the organisation may attest a report.")
    refusal = attestation_refusal(report, user)
    if refusal:
        raise ConflictError(refusal)
    given = report_sha256.strip().lower()
    if given != report.sha256:
        raise ServiceError(f"The SHA-256 given ({given or 'none'}) is not that of {report.report_id} "
                           f"({report.sha256}): attest the file you verified.")
    if _stored_sha256(report) != report.sha256:
        raise ConflictError(f"The stored file of {report.report_id} no longer matches its recorded SHA-256: "
                            "it cannot be attested.")
    attestation = ReportAttestation.objects.create(
        organisation_id=report.organisation_id, report=report, attested_by=user, attested_at=timezone.now(),
        report_sha256=given, comment=comment.strip())
    audit_event_record(organisation=report.organisation, actor=actor, action=AuditAction.CREATE,
                       instance=attestation, changes={"report": report.pk, "report_sha256": given,
                                                      "comment": attestation.comment})
    return attestation
