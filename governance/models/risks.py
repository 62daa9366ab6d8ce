"""The risk register, following ISO/IEC 23894 clause 6 (identify, analyse, evaluate, treat, monitor)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from governance.models.controls import Control
from governance.models.registry import AISystem
from governance.models.tenancy import TenantModel


class RiskSource(models.TextChoices):
    """ISO/IEC 23894:2023 Annex B risk sources (ids and titles; the catalog's B.2-B.8)."""

    COMPLEXITY_OF_ENVIRONMENT = "B.2", "B.2 Complexity of environment"
    TRANSPARENCY_EXPLAINABILITY = "B.3", "B.3 Lack of transparency and explainability"
    LEVEL_OF_AUTOMATION = "B.4", "B.4 Level of automation"
    MACHINE_LEARNING = "B.5", "B.5 Risk sources related to machine learning"
    HARDWARE = "B.6", "B.6 System hardware issues"
    LIFE_CYCLE = "B.7", "B.7 System life cycle issues"
    TECHNOLOGY_READINESS = "B.8", "B.8 Technology readiness"


class TrustworthinessCharacteristic(models.TextChoices):
    """NIST AI RMF 1.0 trustworthiness characteristics."""

    VALID_RELIABLE = "valid_reliable", "Valid and reliable"
    SAFE = "safe", "Safe"
    SECURE_RESILIENT = "secure_resilient", "Secure and resilient"
    ACCOUNTABLE_TRANSPARENT = "accountable_transparent", "Accountable and transparent"
    EXPLAINABLE_INTERPRETABLE = "explainable_interpretable", "Explainable and interpretable"
    PRIVACY_ENHANCED = "privacy_enhanced", "Privacy-enhanced"
    FAIR = "fair", "Fair, with harmful bias managed"


class RiskTreatment(models.TextChoices):
    MITIGATE = "mitigate", "Mitigate"
    TRANSFER = "transfer", "Transfer"
    AVOID = "avoid", "Avoid"
    ACCEPT = "accept", "Accept"


class RiskStatus(models.TextChoices):
    """The steps of ISO/IEC 23894 clause 6.4-6.6."""

    IDENTIFIED = "identified", "Identified (6.4.2)"
    ANALYSED = "analysed", "Analysed (6.4.3)"
    EVALUATED = "evaluated", "Evaluated (6.4.4)"
    TREATED = "treated", "In treatment (6.5)"
    MONITORED = "monitored", "Monitored (6.6)"
    CLOSED = "closed", "Closed"


class Risk(TenantModel):
    ai_system = models.ForeignKey(AISystem, null=True, blank=True, on_delete=models.SET_NULL, related_name="risks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    risk_source = models.CharField(max_length=10, choices=RiskSource.choices)
    characteristic = models.CharField(max_length=40, choices=TrustworthinessCharacteristic.choices)
    likelihood = models.PositiveSmallIntegerField()
    impact = models.PositiveSmallIntegerField()
    treatment = models.CharField(max_length=20, choices=RiskTreatment.choices, default=RiskTreatment.MITIGATE)
    treatment_plan = models.TextField(blank=True)
    residual_likelihood = models.PositiveSmallIntegerField(null=True, blank=True)
    residual_impact = models.PositiveSmallIntegerField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    status = models.CharField(max_length=20, choices=RiskStatus.choices, default=RiskStatus.IDENTIFIED)
    next_review = models.DateField(null=True, blank=True)
    controls = models.ManyToManyField(Control, blank=True, related_name="risks")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("governance:risk-detail", args=[self.pk])

    @property
    def inherent_score(self) -> int:
        return self.likelihood * self.impact

    @property
    def residual_score(self) -> int | None:
        if self.residual_likelihood is None or self.residual_impact is None:
            return None
        return self.residual_likelihood * self.residual_impact
