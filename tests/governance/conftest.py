"""Governance fixtures: Acme's registry, filled through the services as a user would."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from governance import services
from governance.models import Framework, Requirement, Role
from tests.factories import UserFactory

FIXTURE_CATALOGS = Path(__file__).parent / "fixtures" / "catalogs"


def png_bytes(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_upload(entries: dict[str, bytes], name: str = "data.zip") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def image_folder_zip(classes: tuple[str, ...] = ("cat", "dog"), per_class: int = 2) -> SimpleUploadedFile:
    return zip_upload({f"{name}/{index}.png": png_bytes((40 * index, 90, 20)) for name in classes
                       for index in range(per_class)})


SYSTEM_DATA = {
    "name": "CV screener", "intended_purpose": "Ranks job applications for recruiters.",
    "operator_roles": ["provider"], "lifecycle_stage": "design_development", "human_oversight": "human_in_the_loop",
    "review_frequency_days": 180,
    "robustness_thresholds": [{"attack": "screen-pgd10", "epsilon": "4/255", "min_robust_accuracy": 0.4}],
}


# Every EU AI Act question answered "none" / "no" (a blank answer is not a "no": it leaves the result incomplete).
ALL_NO: dict[str, Any] = {
    "operator_roles": ["provider"], "prohibited_practices": [], "annex_i_product": False,
    "annex_i_third_party_assessment": False, "annex_i_section_b": False, "annex_iii_points": [], "profiling": False,
    "public_service_deployer": False, "derogation_conditions": [], "transparency_obligations": [],
    "general_purpose_model": False, "general_purpose_model_provider": False, "systemic_risk": False,
}


def answered(**answers: Any) -> dict[str, Any]:
    """A complete set of classification answers: these, and "none" / "no" to the rest."""
    return {**ALL_NO, **answers}


def form_answers(**answers: Any) -> dict[str, Any]:
    """The same answers as the guided web form posts them: "none" for an empty list, "yes" / "no"."""
    posted: dict[str, Any] = {}
    for key, value in answered(**answers).items():
        if isinstance(value, bool):
            posted[key] = "yes" if value else "no"
        elif isinstance(value, list):
            posted[key] = value or (["none"] if key != "operator_roles" else [])
        elif value is not None:
            posted[key] = value
    return posted


@pytest.fixture
def fixture_catalogs(db) -> SimpleNamespace:
    services.catalogs_load(directory=FIXTURE_CATALOGS)
    return SimpleNamespace(eu=Framework.objects.get(slug="eu-ai-act"), nist=Framework.objects.get(slug="nist-ai-rmf"))


@pytest.fixture
def alice(member):
    return member(Role.ORG_ADMIN).user


@pytest.fixture
def world(acme, globex, alice, fixture_catalogs, settings, tmp_path) -> SimpleNamespace:
    """One of everything in Acme, so that every page and endpoint has a row to act on."""
    settings.MEDIA_ROOT = tmp_path / "media"
    system = services.ai_system_create(organisation=acme, actor=alice, data=SYSTEM_DATA)
    services.classification_record(ai_system=system, actor=alice, answers=answered(annex_iii_points=["Annex III 4(a)"]))
    version = services.model_version_create(
        ai_system=system, actor=alice, data={"version": "v1", "architecture": "ViT-B-32", "pretrained_tag": "openai",
                                             "class_names": ["cat", "dog"], "prompt_templates": ["a photo of a {}."]})
    card = services.training_card_save(model_version=version, actor=alice,
                                       data={"loss_terms": [{"name": "ce", "kind": "accuracy", "weight": 1.0}]})
    dataset = services.dataset_create(organisation=acme, actor=alice, name="Pets", file=image_folder_zip(),
                                      ai_system=system)
    requirement = Requirement.objects.get(framework__slug="eu-ai-act", ref_id="Art 15(5)")
    control = services.control_create(organisation=acme, actor=alice, requirements=[requirement], data={
        "ref_id": "C-1", "name": "Adversarial testing", "control_type": "technical", "status": "planned",
        "review_frequency_days": 90})
    risk = services.risk_create(organisation=acme, actor=alice, controls=[control], data={
        "ai_system": system, "title": "Evasion attacks", "risk_source": "B.5", "characteristic": "secure_resilient",
        "likelihood": 3, "impact": 4, "treatment": "mitigate", "status": "identified"})
    services.applicability_propose(ai_system=system, actor=alice)
    decision = system.applicability_decisions.get(requirement=requirement)
    UserFactory(username="newbie")
    return SimpleNamespace(system=system, version=version, card=card, dataset=dataset, control=control, risk=risk,
                           decision=decision, requirement=requirement, catalogs=fixture_catalogs)


def organisation_state(organisation) -> dict[str, object]:
    """Every governance row of one organisation, field by field (and its many-to-many links)."""
    from governance.audit import audit_snapshot
    from governance.models import (
        AISystem,
        ApplicabilityDecision,
        AuditEvent,
        Control,
        Dataset,
        EUAIActClassification,
        Membership,
        ModelVersion,
        Organisation,
        Risk,
        TrainingObjectiveCard,
    )

    state: dict[str, object] = {}
    for model in (AISystem, EUAIActClassification, ModelVersion, TrainingObjectiveCard, Dataset,
                  ApplicabilityDecision, Control, Risk, Membership, AuditEvent):
        state[model.__name__] = [audit_snapshot(row) for row in model.objects.filter(organisation=organisation)
                                 .order_by("pk")]
    state["control_requirements"] = sorted(Control.requirements.through.objects.filter(
        control__organisation=organisation).values_list("control_id", "requirement_id"))
    state["risk_controls"] = sorted(Risk.controls.through.objects.filter(
        risk__organisation=organisation).values_list("risk_id", "control_id"))
    state["organisation"] = audit_snapshot(Organisation.objects.get(pk=organisation.pk))
    return state
