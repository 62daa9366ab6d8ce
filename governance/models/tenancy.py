"""Organisations, memberships and the base class of every tenant-owned row."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# A review cycle longer than ten years is a typing error, and would overflow date arithmetic.
MAX_REVIEW_DAYS = 3650


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", "Organisation admin"
    RISK_OFFICER = "risk_officer", "Risk officer"
    CONSULTANT = "consultant", "Consultant"
    AUDITOR = "auditor", "Auditor"


def default_risk_matrix() -> dict[str, list[str]]:
    """A 5 x 5 matrix; an organisation may relabel or resize its scales (3 to 7 levels)."""
    return {
        "likelihood": ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"],
        "impact": ["Negligible", "Minor", "Moderate", "Major", "Severe"],
    }


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The head of the audit hash chain, so that deleting the newest events is detected too.
    audit_head_sequence = models.PositiveBigIntegerField(default=0)
    audit_head_hash = models.CharField(max_length=64, blank=True, default="")
    risk_matrix = models.JSONField(default=default_risk_matrix)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """One per user and organisation; a consultant holds one in each client organisation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]
        ordering = ["organisation__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.get_role_display()})"


class TenantModel(models.Model):
    """Every row but the global catalogs belongs to one organisation."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
