"""Small helpers every service uses to record its change in the audit chain."""

from __future__ import annotations

from typing import Any

from django.db import models

from governance.audit import Actor, audit_diff, audit_event_record, audit_snapshot
from governance.models.audit import AuditAction
from governance.models.tenancy import TenantModel


def snapshot(instance: models.Model, *, m2m: tuple[str, ...] = ()) -> dict[str, Any]:
    """Field values plus the ids of the named many-to-many relations (sorted, so diffs are stable)."""
    values = audit_snapshot(instance)
    for name in m2m:
        values[name] = sorted(getattr(instance, name).values_list("pk", flat=True))
    return values


def record_create(instance: TenantModel, *, actor: Actor, m2m: tuple[str, ...] = ()) -> None:
    audit_event_record(organisation=instance.organisation, actor=actor, action=AuditAction.CREATE,
                       instance=instance, changes=snapshot(instance, m2m=m2m))


# Bookkeeping timestamps move on every save; they are not a change of state.
UNRECORDED_FIELDS = frozenset({"updated_at"})


def record_update(instance: TenantModel, before: dict[str, Any], *, actor: Actor,
                  m2m: tuple[str, ...] = ()) -> None:
    """Record the fields that changed; an update that changed nothing writes no event."""
    changes = {key: value for key, value in audit_diff(before, snapshot(instance, m2m=m2m)).items()
               if key not in UNRECORDED_FIELDS}
    if changes:
        audit_event_record(organisation=instance.organisation, actor=actor, action=AuditAction.UPDATE,
                           instance=instance, changes=changes)


def record_delete(instance: TenantModel, *, actor: Actor, m2m: tuple[str, ...] = ()) -> None:
    audit_event_record(organisation=instance.organisation, actor=actor, action=AuditAction.DELETE,
                       instance=instance, changes=snapshot(instance, m2m=m2m))
