"""PDF audit reports: a user-visible job row (the kernel's `governance.models.jobs.LeasedJob`), then an
immutable hashed file."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from governance.models.jobs import LeasedJob
from governance.models.tenancy import TenantModel

# A render is one WeasyPrint call with no step to heartbeat in between: the lease covers all of it.
REPORT_LEASE_SECONDS = 15 * 60


def report_upload_to(instance: Report, filename: str) -> str:
    return f"reports/{instance.organisation_id}/{instance.uid}/{filename}"


class Report(TenantModel, LeasedJob):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assessment = models.ForeignKey("assessments.Assessment", on_delete=models.PROTECT, related_name="reports")
    version = models.PositiveIntegerField()
    is_draft = models.BooleanField(default=True, help_text="Rendered from an unlocked assessment: watermarked.")
    file = models.FileField(upload_to=report_upload_to, max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    manifest = models.JSONField(default=list, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    render_seconds = models.FloatField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(null=True, blank=True)

    job_noun = "report"
    requested_field = "requested_at"

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["assessment", "version"], name="one_report_version")]

    def __str__(self) -> str:
        return f"{self.report_id}"

    @classmethod
    def lease_seconds(cls) -> int:
        return REPORT_LEASE_SECONDS

    @property
    def report_id(self) -> str:
        return f"RPT-{self.assessment_id:05d}-v{self.version}"


class ReportAttestation(TenantModel):
    """An auditor's attestation of one finished PDF, pinned by the SHA-256 it had when attested.

    A PDF cannot carry an attestation of itself (its hash would change): attestations are records
    beside the report, shown on its page and on verification, and printed in later reports.
    """

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="attestations")
    attested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    attested_at = models.DateTimeField()
    report_sha256 = models.CharField(max_length=64)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["attested_at", "id"]
        constraints = [models.UniqueConstraint(fields=["report", "attested_by"], name="one_attestation_per_auditor")]

    def __str__(self) -> str:
        return f"Attestation of {self.report.report_id}"
