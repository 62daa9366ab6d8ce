"""Findings raised by assessments, robustness runs and audits."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.tenancy import TenantModel


class FindingSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Informational"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_REMEDIATION = "in_remediation", "In remediation"
    RESOLVED = "resolved", "Resolved"
    VERIFIED = "verified", "Verified"
    ACCEPTED = "accepted", "Risk accepted"
    DISMISSED = "dismissed", "Dismissed"


# The lifecycle: which status may follow which (closing states reopen to OPEN).
FINDING_TRANSITIONS: dict[str, frozenset[str]] = {
    FindingStatus.OPEN: frozenset({FindingStatus.IN_REMEDIATION, FindingStatus.RESOLVED, FindingStatus.ACCEPTED,
                                   FindingStatus.DISMISSED}),
    FindingStatus.IN_REMEDIATION: frozenset({FindingStatus.RESOLVED, FindingStatus.OPEN, FindingStatus.ACCEPTED}),
    FindingStatus.RESOLVED: frozenset({FindingStatus.VERIFIED, FindingStatus.OPEN}),
    FindingStatus.VERIFIED: frozenset({FindingStatus.OPEN}),
    FindingStatus.ACCEPTED: frozenset({FindingStatus.OPEN}),
    FindingStatus.DISMISSED: frozenset({FindingStatus.OPEN}),
}
OPEN_FINDING_STATUSES = (FindingStatus.OPEN, FindingStatus.IN_REMEDIATION)
SEVERITY_ORDER = [choice.value for choice in FindingSeverity]


class Finding(TenantModel):
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=FindingSeverity.choices, default=FindingSeverity.MEDIUM)
    status = models.CharField(max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    source = models.CharField(max_length=40, default="manual", help_text="manual, assessment, robustness-run, audit…")
    ai_system = models.ForeignKey("governance.AISystem", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="findings")
    assessment = models.ForeignKey("assessments.Assessment", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="findings")
    requirements = models.ManyToManyField("governance.Requirement", blank=True, related_name="findings")
    risks = models.ManyToManyField("governance.Risk", blank=True, related_name="findings")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="findings_owned")
    due_date = models.DateField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "status", "severity"])]

    def __str__(self) -> str:
        return self.title
