"""Evidence and its immutable, hashed versions (CISO Assistant's revisions, §5.1)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from governance.models.tenancy import TenantModel


class EvidenceKind(models.TextChoices):
    DOCUMENT = "document", "Document"
    TEST_REPORT = "test_report", "Test report"
    ROBUSTNESS_RESULT = "robustness_result", "Robustness result"
    LOG = "log", "Log"
    SCREENSHOT = "screenshot", "Screenshot"
    ATTESTATION = "attestation", "Attestation"
    LINK = "link", "Link"


class EvidenceStatus(models.TextChoices):
    DRAFT = "draft", "Draft (no version yet)"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"


class EvidenceSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    ROBUSTNESS_RUN = "robustness-run", "Robustness run"


def evidence_upload_to(instance: EvidenceVersion, filename: str) -> str:
    # Content-addressed under the organisation: never guessable from a title, never overwritten.
    return f"evidence/{instance.organisation_id}/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class Evidence(TenantModel):
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=30, choices=EvidenceKind.choices, default=EvidenceKind.DOCUMENT)
    status = models.CharField(max_length=20, choices=EvidenceStatus.choices, default=EvidenceStatus.DRAFT)
    ai_system = models.ForeignKey("governance.AISystem", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="evidence")
    requirements = models.ManyToManyField("governance.Requirement", blank=True, related_name="evidence")
    # The newest version and its validity, kept here so that lists and the dashboard need no subquery.
    current_version = models.ForeignKey("EvidenceVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    valid_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "status", "valid_until"])]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.title


class EvidenceVersion(TenantModel):
    """Immutable once written: a new file or link is a new version, never an edit."""

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=evidence_upload_to, max_length=500, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=120, blank=True)
    source = models.CharField(max_length=20, choices=EvidenceSource.choices, default=EvidenceSource.MANUAL)
    metadata = models.JSONField(default=dict, blank=True)
    effective_date = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["evidence_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["evidence", "number"], name="one_evidence_version_number")]

    def __str__(self) -> str:
        return f"{self.evidence.title} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Immutability is the point of a version: refuse any second write of an existing row.
        if self.pk is not None and not self._state.adding:
            raise ValueError("Evidence versions are immutable; add a new version instead.")
        super().save(*args, **kwargs)

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]


class EvidenceAnnotation(TenantModel):
    """A person's note on evidence, kept beside it: machine evidence gets notes, never hand-made versions."""

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="annotations")
    text = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["evidence_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"Note on {self.evidence.title}"
