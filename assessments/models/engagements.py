"""90-day remediation engagements: phases with milestones, actions, baseline vs closing posture."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.tenancy import TenantModel


class EngagementStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class ActionStatus(models.TextChoices):
    TODO = "todo", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_ACTION_STATUSES = (ActionStatus.TODO, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED)


class Engagement(TenantModel):
    """`organisation` is the client; the lead is the consultant who opened it."""

    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    start_date = models.DateField()
    end_date = models.DateField()
    status = models.CharField(max_length=10, choices=EngagementStatus.choices, default=EngagementStatus.ACTIVE)
    baseline_assessments = models.ManyToManyField("assessments.Assessment", blank=True, related_name="+")
    closing_assessments = models.ManyToManyField("assessments.Assessment", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-id"]

    def __str__(self) -> str:
        return self.title


class Phase(TenantModel):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    start_date = models.DateField()
    end_date = models.DateField(help_text="The phase's milestone date.")

    class Meta:
        ordering = ["engagement_id", "order"]
        constraints = [models.UniqueConstraint(fields=["engagement", "order"], name="one_phase_per_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Action(TenantModel):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="actions")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="actions_owned")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.TODO)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent, 0–100.")
    findings = models.ManyToManyField("assessments.Finding", blank=True, related_name="actions")
    controls = models.ManyToManyField("governance.Control", blank=True, related_name="actions")
    evidence_versions = models.ManyToManyField("assessments.EvidenceVersion", blank=True, related_name="actions")
    closure_evidence = models.ManyToManyField("assessments.EvidenceVersion", blank=True, related_name="closed_actions")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["organisation", "status", "due_date"])]
        constraints = [models.CheckConstraint(condition=models.Q(progress__lte=100), name="action_progress_le_100")]

    def __str__(self) -> str:
        return self.title
