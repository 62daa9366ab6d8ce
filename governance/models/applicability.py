"""The Statement of Applicability: per AI system and requirement, proposed then decided."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.catalog import Requirement
from governance.models.registry import AISystem
from governance.models.tenancy import TenantModel


class ApplicabilityDecision(TenantModel):
    ai_system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="applicability_decisions")
    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="+")
    proposed_applicable = models.BooleanField()
    proposal_justification = models.TextField()
    applicable = models.BooleanField()
    justification = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requirement__framework", "requirement__order"]
        constraints = [
            models.UniqueConstraint(fields=["ai_system", "requirement"], name="one_decision_per_system_requirement"),
        ]

    def __str__(self) -> str:
        return f"{self.ai_system}: {self.requirement.ref_id} {'applies' if self.applicable else 'excluded'}"

    @property
    def state(self) -> str:
        if self.decided_at is None:
            return "proposed"
        return "confirmed" if self.applicable == self.proposed_applicable else "overridden"
