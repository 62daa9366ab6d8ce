"""The risk register (ISO/IEC 23894 clause 6), scored on the organisation's own matrix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from governance.audit import Actor
from governance.models.controls import Control
from governance.models.risks import Risk
from governance.models.tenancy import Organisation
from governance.services._audit import record_create, record_delete, record_update, snapshot
from governance.services._common import (
    fields_apply,
    member_check,
    protected_rows_refused,
    same_organisation_check,
    validated,
)

RISK_FIELDS = ("ai_system", "title", "description", "risk_source", "characteristic", "likelihood", "impact",
               "treatment", "treatment_plan", "residual_likelihood", "residual_impact", "owner", "status",
               "next_review")
M2M = ("controls",)


def _scale_check(risk: Risk) -> None:
    matrix = risk.organisation.risk_matrix
    levels = {"likelihood": len(matrix["likelihood"]), "impact": len(matrix["impact"])}
    for name, scale in (("likelihood", "likelihood"), ("impact", "impact"),
                        ("residual_likelihood", "likelihood"), ("residual_impact", "impact")):
        value = getattr(risk, name)
        if value is not None and not 1 <= value <= levels[scale]:
            raise ValidationError({name: f"Choose a level from 1 to {levels[scale]} on the organisation's matrix."})
    if (risk.residual_likelihood is None) != (risk.residual_impact is None):
        raise ValidationError({"residual_impact": "Give both residual likelihood and residual impact, or neither."})


def _prepare(risk: Risk, data: Mapping[str, Any], controls: list[Control] | None) -> None:
    fields_apply(risk, data, allowed=RISK_FIELDS)
    _scale_check(risk)
    member_check(risk.owner, organisation=risk.organisation, field="owner")
    same_organisation_check([risk.ai_system], organisation=risk.organisation, field="ai_system")
    same_organisation_check(controls or [], organisation=risk.organisation, field="controls")
    validated(risk)


@transaction.atomic
def risk_create(*, organisation: Organisation, actor: Actor, data: Mapping[str, Any],
                controls: Iterable[Control] = ()) -> Risk:
    risk = Risk(organisation=organisation)
    controls = list(controls)
    _prepare(risk, data, controls)
    risk.save()
    risk.controls.set(controls)
    record_create(risk, actor=actor, m2m=M2M)
    return risk


@transaction.atomic
def risk_update(*, risk: Risk, actor: Actor, data: Mapping[str, Any],
                controls: Iterable[Control] | None = None) -> Risk:
    before = snapshot(risk, m2m=M2M)
    controls = list(controls) if controls is not None else None
    _prepare(risk, data, controls)
    risk.save()
    if controls is not None:
        risk.controls.set(controls)
    record_update(risk, before, actor=actor, m2m=M2M)
    return risk


@protected_rows_refused
@transaction.atomic
def risk_delete(*, risk: Risk, actor: Actor) -> None:
    record_delete(risk, actor=actor, m2m=M2M)
    risk.delete()
