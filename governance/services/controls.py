"""The organisation's controls, each mapped to requirements of any framework."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from governance.audit import Actor
from governance.models.catalog import Requirement
from governance.models.controls import Control
from governance.models.tenancy import Organisation
from governance.services._audit import record_create, record_delete, record_update, snapshot
from governance.services._common import fields_apply, member_check, protected_rows_refused, validated

CONTROL_FIELDS = ("ref_id", "name", "description", "control_type", "owner", "status", "review_frequency_days",
                  "last_reviewed")
M2M = ("requirements",)


def _prepare(control: Control, data: Mapping[str, Any]) -> None:
    fields_apply(control, data, allowed=CONTROL_FIELDS)
    member_check(control.owner, organisation=control.organisation, field="owner")
    validated(control)


@transaction.atomic
def control_create(*, organisation: Organisation, actor: Actor, data: Mapping[str, Any],
                   requirements: Iterable[Requirement] = ()) -> Control:
    control = Control(organisation=organisation)
    _prepare(control, data)
    control.save()
    control.requirements.set(list(requirements))
    record_create(control, actor=actor, m2m=M2M)
    return control


@transaction.atomic
def control_update(*, control: Control, actor: Actor, data: Mapping[str, Any],
                   requirements: Iterable[Requirement] | None = None) -> Control:
    before = snapshot(control, m2m=M2M)
    _prepare(control, data)
    control.save()
    if requirements is not None:
        control.requirements.set(list(requirements))
    record_update(control, before, actor=actor, m2m=M2M)
    return control


@protected_rows_refused
@transaction.atomic
def control_delete(*, control: Control, actor: Actor) -> None:
    record_delete(control, actor=actor, m2m=M2M)
    control.delete()
