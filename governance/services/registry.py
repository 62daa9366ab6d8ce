"""AI systems and their EU AI Act classification."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import Actor, actor_user
from governance.eu_ai_act import Classification, classify
from governance.models.catalog import Requirement
from governance.models.registry import AISystem, Dataset, EUAIActClassification, OperatorRole
from governance.models.risks import Risk
from governance.models.tenancy import Organisation
from governance.services._audit import record_create, record_delete, record_update, snapshot
from governance.services._common import fields_apply, member_check, protected_rows_refused, validated
from governance.services.model_versions import model_version_delete
from governance.thresholds import thresholds_clean

AI_SYSTEM_FIELDS = (
    "name", "intended_purpose", "owner", "business_owner", "operator_roles", "lifecycle_stage",
    "deployment_context", "affected_persons", "human_oversight", "human_oversight_description",
    "review_frequency_days", "last_reviewed", "robustness_thresholds",
)


def operator_roles_clean(roles: Any) -> list[str]:
    """One or more `OperatorRole` values, each once, in the enumeration's order."""
    if isinstance(roles, str) or not isinstance(roles, (list, tuple)):
        raise ValidationError({"operator_roles": "A list of roles, e.g. [\"provider\", \"deployer\"]."})
    unknown = [role for role in roles if role not in OperatorRole.values]
    if unknown:
        raise ValidationError({"operator_roles": f"Unknown role(s): {', '.join(map(str, unknown))}; choose from "
                                                 f"{', '.join(OperatorRole.values)}."})
    if not roles:
        raise ValidationError({"operator_roles": "Name at least one role (provider, deployer, importer, "
                                                 "distributor, product manufacturer)."})
    return [role for role in OperatorRole.values if role in roles]


def _ai_system_prepare(system: AISystem, data: Mapping[str, Any]) -> None:
    fields_apply(system, data, allowed=AI_SYSTEM_FIELDS)
    system.operator_roles = operator_roles_clean(system.operator_roles)
    try:
        system.robustness_thresholds = thresholds_clean(system.robustness_thresholds or [])
    except ValueError as error:
        raise ValidationError({"robustness_thresholds": str(error)}) from None
    member_check(system.owner, organisation=system.organisation, field="owner")
    validated(system)


@transaction.atomic
def ai_system_create(*, organisation: Organisation, actor: Actor, data: Mapping[str, Any]) -> AISystem:
    system = AISystem(organisation=organisation)
    _ai_system_prepare(system, data)
    system.save()
    record_create(system, actor=actor)
    return system


@transaction.atomic
def ai_system_update(*, ai_system: AISystem, actor: Actor, data: Mapping[str, Any]) -> AISystem:
    before = snapshot(ai_system)
    _ai_system_prepare(ai_system, data)
    ai_system.save()
    record_update(ai_system, before, actor=actor)
    return ai_system


@protected_rows_refused
@transaction.atomic
def ai_system_delete(*, ai_system: AISystem, actor: Actor) -> None:
    """Delete the system; the trail also records what goes with it (versions, classification)
    and the rows that stay but lose their link (datasets, risks)."""
    for version in ai_system.model_versions.all():
        model_version_delete(model_version=version, actor=actor)
    classification = EUAIActClassification.objects.filter(ai_system=ai_system).first()
    if classification is not None:
        record_delete(classification, actor=actor)
    linked: list[Dataset | Risk] = [*ai_system.datasets.all(), *ai_system.risks.all()]
    for row in linked:
        before = snapshot(row)
        row.ai_system = None
        row.save(update_fields=["ai_system"])
        record_update(row, before, actor=actor)
    record_delete(ai_system, actor=actor)
    ai_system.delete()


def _application_date(outcome: Classification) -> tuple[Any, str]:
    """The date from the loaded EU AI Act catalog (it carries the amendments), else the built-in one."""
    anchor = outcome.application
    if anchor is None:  # incomplete: nothing decided, no date
        return None, ""
    requirement = (Requirement.objects.filter(framework__slug="eu-ai-act", ref_id=anchor.anchor_ref_id)
                   .exclude(applies_from=None).order_by("-framework__published").first())
    if requirement is not None:
        return requirement.applies_from, f"{anchor.anchor_ref_id}: {requirement.applies_from_source}"
    return anchor.fallback, f"{anchor.anchor_ref_id}: {anchor.fallback_source}"


def _roles_answer(ai_system: AISystem, actor: Actor, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The roles question: absent, the system's roles are the answer; answered, they become the system's."""
    answers = dict(answers)
    if "operator_roles" not in answers:
        answers["operator_roles"] = list(ai_system.operator_roles or [])
    elif answers["operator_roles"]:
        roles = operator_roles_clean(answers["operator_roles"])
        answers["operator_roles"] = roles
        if roles != ai_system.operator_roles:
            before = snapshot(ai_system)
            ai_system.operator_roles = roles
            ai_system.save(update_fields=["operator_roles", "updated_at"])
            record_update(ai_system, before, actor=actor)
    return answers


@transaction.atomic
def classification_record(*, ai_system: AISystem, actor: Actor, answers: Mapping[str, Any]) -> EUAIActClassification:
    """Run the guided questions through `classify` and store the result on the system (one per system).
    Blank answers the path needs give an "incomplete" result that names them, never "minimal"."""
    try:
        outcome = classify(answers)
    except ValueError as error:
        raise ValidationError(str(error)) from None
    answers = _roles_answer(ai_system, actor, answers)
    outcome = classify(answers)
    application_date, source = _application_date(outcome)
    rationale = " ".join((outcome.rationale, *outcome.notes))
    existing = EUAIActClassification.objects.filter(ai_system=ai_system).first()
    row = existing or EUAIActClassification(ai_system=ai_system, organisation=ai_system.organisation)
    before = snapshot(row) if existing else None
    row.answers = answers
    row.result, row.rationale = outcome.result, rationale
    row.prohibited_practices = list(outcome.prohibited_practices)
    row.annex_iii_points = list(outcome.annex_iii_points)
    row.transparency_obligations = list(outcome.transparency_obligations)
    row.general_purpose_model = outcome.general_purpose_model
    row.general_purpose_model_provider, row.systemic_risk = outcome.general_purpose_model_provider, \
        outcome.systemic_risk
    row.annex_i_section_b = outcome.annex_i_section_b
    row.missing_answers = list(outcome.missing_answers)
    row.application_date, row.application_date_source = application_date, source
    row.classified_by = actor_user(actor)
    row.classified_at = timezone.now()
    row.save()
    if before is None:
        record_create(row, actor=actor)
    else:
        record_update(row, before, actor=actor)
    return row
