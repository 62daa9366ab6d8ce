"""The audit trail: one hash chain per organisation, written by the services."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models.tenancy import Organisation


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"


class AuditEvent(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="audit_events")
    sequence = models.PositiveBigIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150, help_text="Username at the time, or 'system'.")
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "sequence"], name="one_audit_sequence_per_org"),
        ]
        indexes = [models.Index(fields=["organisation", "object_type", "object_id"])]
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type} {self.object_id}"
