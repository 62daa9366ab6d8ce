"""Write and verify the audit trail: one SHA-256 hash chain per organisation.

Every service that changes tenant data calls `audit_event_record` inside its own transaction,
so an event exists exactly when the change does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from governance.models.audit import AuditAction, AuditEvent
from governance.models.tenancy import Organisation

GENESIS_HASH = "0" * 64
Actor = AbstractBaseUser | AnonymousUser | None


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item) for item in value]
    return value


def audit_snapshot(instance: models.Model) -> dict[str, Any]:
    """The concrete field values of a row, JSON-safe (foreign keys as ids)."""
    return {field.attname: _json_safe(getattr(instance, field.attname)) for field in instance._meta.concrete_fields}


def audit_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields that changed between two snapshots."""
    return {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}


def _event_hash(event: AuditEvent) -> str:
    payload = {
        "organisation": event.organisation_id,
        "sequence": event.sequence,
        "actor": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "created_at": event.created_at.isoformat(),
        "previous_hash": event.previous_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_event_record(
    *,
    organisation: Organisation,
    actor: Actor,
    action: AuditAction | str,
    instance: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the organisation's chain. Must run inside the change's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_event_record must run inside the transaction of the change it records")
    # Lock the organisation row: concurrent writers of one organisation queue up, so the chain
    # never forks (SQLite serialises writers anyway; PostgreSQL needs the row lock).
    head = Organisation.objects.select_for_update().get(pk=organisation.pk)
    user = actor if isinstance(actor, AbstractBaseUser) else None
    event = AuditEvent(
        organisation=head,
        sequence=head.audit_head_sequence + 1,
        actor=user,
        actor_label=user.get_username() if user else "system",
        action=AuditAction(action),
        object_type=object_type or (instance._meta.label if instance is not None else ""),
        object_id=object_id or (str(instance.pk) if instance is not None else ""),
        object_repr=(str(instance) if instance is not None else object_id)[:300],
        changes=_json_safe(changes or {}),
        created_at=timezone.now(),
        previous_hash=head.audit_head_hash or GENESIS_HASH,
    )
    event.hash = _event_hash(event)
    event.save()
    Organisation.objects.filter(pk=head.pk).update(audit_head_sequence=event.sequence, audit_head_hash=event.hash)
    organisation.audit_head_sequence, organisation.audit_head_hash = event.sequence, event.hash
    return event


@dataclass(frozen=True)
class ChainProblem:
    organisation: str
    sequence: int
    problem: str


def audit_chain_verify(organisation: Organisation) -> list[ChainProblem]:
    """Recompute the chain: an edited, inserted or deleted event (the newest included) is found."""
    problems: list[ChainProblem] = []
    expected_previous, expected_sequence = GENESIS_HASH, 1
    for event in AuditEvent.objects.filter(organisation=organisation).order_by("sequence").iterator():
        if event.sequence != expected_sequence:
            problems.append(ChainProblem(organisation.slug, event.sequence,
                                         f"expected event #{expected_sequence}: events are missing"))
        if event.previous_hash != expected_previous:
            problems.append(ChainProblem(organisation.slug, event.sequence, "does not link to the event before it"))
        if _event_hash(event) != event.hash:
            problems.append(ChainProblem(organisation.slug, event.sequence, "content was edited after it was written"))
        expected_previous, expected_sequence = event.hash, event.sequence + 1
    if (expected_sequence - 1, expected_previous) != (organisation.audit_head_sequence,
                                                       organisation.audit_head_hash or GENESIS_HASH):
        problems.append(ChainProblem(organisation.slug, organisation.audit_head_sequence,
                                     "the newest events were deleted (chain ends before its recorded head)"))
    return problems
