"""Write and verify the audit trail: one SHA-256 hash chain per organisation, anchored outside the database.

Every service that changes tenant data calls `audit_event_record` inside its own transaction,
so an event exists exactly when the change does.

The chain alone proves nothing to someone who can write the database: they can rewrite events
and recompute every hash and the head. So each head is also *anchored*: when the transaction
that advanced it commits, one line `{"organisation", "slug", "sequence", "hash", "hmac"}` is
appended to the file AUDIT_ANCHOR_PATH (outside the database; make it append-only or ship it to
WORM storage), signed with HMAC-SHA256 under AUDIT_ANCHOR_KEY (default: derived from SECRET_KEY,
for development). `manage.py audit_verify` checks the chain, each line's HMAC, and that the
event at the last anchored sequence still has the anchored hash (and that none is missing).
`manage.py audit_verify --anchor` appends the current heads (first anchoring, after a restore).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from governance.models.audit import AuditAction, AuditEvent
from governance.models.tenancy import Organisation

GENESIS_HASH = "0" * 64
# `request.user` as django-stubs types it (AUTH_USER_MODEL is the stock User), or None for the system.
Actor = User | AnonymousUser | None


def actor_user(actor: Actor) -> User | None:
    """The signed-in person behind an actor (for `created_by`-style columns); None for the system or a visitor."""
    return actor if isinstance(actor, AbstractBaseUser) else None


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
    user = actor_user(actor)
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
    # Anchor the new head once it is real (a rolled-back change leaves no anchor behind).
    transaction.on_commit(lambda: audit_anchor_append(head.pk, head.slug, event.sequence, event.hash))
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


def _anchor_path() -> Path | None:
    path = getattr(settings, "AUDIT_ANCHOR_PATH", "")
    return Path(path) if path else None


def _anchor_key() -> bytes:
    key = getattr(settings, "AUDIT_ANCHOR_KEY", "")
    if key:
        return key.encode()
    # Development default: derived from SECRET_KEY, so the key is never stored in the database.
    return hashlib.sha256(b"anchorage-audit-anchor:" + settings.SECRET_KEY.encode()).digest()


def _anchor_mac(line: dict[str, Any]) -> str:
    payload = {key: line[key] for key in ("organisation", "slug", "sequence", "hash")}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hmac.new(_anchor_key(), canonical.encode(), hashlib.sha256).hexdigest()


def audit_anchor_append(organisation_id: int, slug: str, sequence: int, head_hash: str) -> bool:
    """Append one signed head to the anchor file (locked, fsynced); False when anchoring is off."""
    path = _anchor_path()
    if path is None:
        return False
    line = {"organisation": organisation_id, "slug": slug, "sequence": sequence, "hash": head_hash}
    line["hmac"] = _anchor_mac(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return True


def audit_anchor_verify(organisations: Any) -> list[ChainProblem]:
    """The database's heads against the anchor file: lines must verify, and each organisation's
    event at its last anchored sequence must still carry the anchored hash (rewritten or deleted
    events, even with a recomputed chain, are found). An organisation with events and no anchor
    is a problem too. Empty when anchoring is off (AUDIT_ANCHOR_PATH empty)."""
    path = _anchor_path()
    if path is None:
        return []
    problems: list[ChainProblem] = []
    last: dict[int, dict[str, Any]] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for number, text in enumerate(lines, start=1):
        try:
            line = json.loads(text)
            valid = isinstance(line, dict) and hmac.compare_digest(str(line.get("hmac", "")), _anchor_mac(line))
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            problems.append(ChainProblem("anchor", number, f"line {number} of {path.name} fails its HMAC"))
            continue
        known = last.get(line["organisation"])
        if known is None or line["sequence"] >= known["sequence"]:
            last[line["organisation"]] = line
    for organisation in organisations:
        anchored = last.get(organisation.pk)
        if anchored is None:
            if organisation.audit_head_sequence:
                problems.append(ChainProblem(organisation.slug, organisation.audit_head_sequence,
                                             "the head is not anchored (run `audit_verify --anchor`)"))
            continue
        if organisation.audit_head_sequence < anchored["sequence"]:
            problems.append(ChainProblem(organisation.slug, anchored["sequence"],
                                         "events up to the anchored head were deleted"))
            continue
        event = AuditEvent.objects.filter(organisation=organisation, sequence=anchored["sequence"]).first()
        if event is None or event.hash != anchored["hash"]:
            problems.append(ChainProblem(organisation.slug, anchored["sequence"],
                                         "does not match the anchored head: the trail was rewritten"))
        elif organisation.audit_head_sequence > anchored["sequence"]:
            problems.append(ChainProblem(
                organisation.slug, organisation.audit_head_sequence,
                f"{organisation.audit_head_sequence - anchored['sequence']} event(s) after the last anchor "
                "are not anchored (run `audit_verify --anchor`)"))
    return problems


def audit_anchor_heads(organisations: Any) -> int:
    """Anchor every organisation's current head (first anchoring, or after a restore); how many."""
    return sum(audit_anchor_append(o.pk, o.slug, o.audit_head_sequence, o.audit_head_hash or GENESIS_HASH)
               for o in organisations if o.audit_head_sequence)
