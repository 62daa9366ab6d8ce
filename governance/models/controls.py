"""The organisation's own controls, each mapped to requirements of any framework."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from governance.models.catalog import Requirement
from governance.models.tenancy import MAX_REVIEW_DAYS, TenantModel


class ControlStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IMPLEMENTED = "implemented", "Implemented"
    OPERATING = "operating", "Operating effectively"
    RETIRED = "retired", "Retired"


class ControlType(models.TextChoices):
    POLICY = "policy", "Policy"
    PROCEDURE = "procedure", "Procedure"
    TECHNICAL = "technical", "Technical"


class Control(TenantModel):
    ref_id = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    control_type = models.CharField(max_length=20, choices=ControlType.choices, default=ControlType.PROCEDURE)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    status = models.CharField(max_length=20, choices=ControlStatus.choices, default=ControlStatus.PLANNED)
    review_frequency_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1), MaxValueValidator(MAX_REVIEW_DAYS)],
        help_text="Days between reviews (1 to 3650).")
    last_reviewed = models.DateField(null=True, blank=True)
    requirements = models.ManyToManyField(Requirement, blank=True, related_name="controls")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ref_id"]
        constraints = [models.UniqueConstraint(fields=["organisation", "ref_id"], name="one_control_ref_per_org")]

    def __str__(self) -> str:
        return f"{self.ref_id} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("governance:control-detail", args=[self.pk])

    @property
    def next_review(self) -> date | None:
        return self.last_reviewed + timedelta(days=self.review_frequency_days) if self.last_reviewed else None
