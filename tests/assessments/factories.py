"""Rows the assessments tests need: two tiny frameworks with a crosswalk, an AI system, evidence."""

from __future__ import annotations

import json
from datetime import date

from django.utils import timezone

from assessments.services import evidence_create, evidence_version_add
from governance.models import AISystem, Crosswalk, Framework, ModelVersion, Relationship, Requirement
from governance.models.tenancy import Organisation

# A record shaped like robustness.engine.records.RobustnessRecord.to_json() (trimmed).
ENGINE_RECORD = {
    "schema": "anchorage.robustness-record/1", "dataset": "synthetic-shapes", "n_examples": 200, "n_classes": 4,
    "class_names": ["a", "b", "c", "d"], "clean_accuracy": {"value": 0.91, "low": 0.86, "high": 0.94},
    "clean_per_class": [], "clean_worst_class": None, "seed": 0, "batch_size": 32,
    "versions": {"torch": "2.x"}, "device": "cpu", "anchor_diagnostics": None,
    "results": [
        {"attack": "screen-pgd10", "attack_description": "PGD-10", "attack_library": "torchattacks",
         "threat_model": "Linf", "eps": 1 / 255, "eps_label": "1/255",
         "robust_accuracy": {"value": 0.62, "low": 0.55, "high": 0.68},
         "attack_success_rate": {"value": 0.3, "low": 0.2, "high": 0.4},
         "defence_success_rate": {"value": 0.7, "low": 0.6, "high": 0.8}, "per_class": [], "worst_class": None},
        {"attack": "screen-pgd10", "attack_description": "PGD-10", "attack_library": "torchattacks",
         "threat_model": "Linf", "eps": 4 / 255, "eps_label": "4/255",
         "robust_accuracy": {"value": 0.21, "low": 0.16, "high": 0.27},
         "attack_success_rate": {"value": 0.7, "low": 0.6, "high": 0.8},
         "defence_success_rate": {"value": 0.3, "low": 0.2, "high": 0.4}, "per_class": [], "worst_class": None},
    ],
}


def framework_make(slug: str, refs: list[str]) -> Framework:
    framework = Framework.objects.create(
        urn=f"urn:test:{slug}", slug=slug, ref_id=slug.upper(), name=f"Framework {slug}", edition="2023",
        publisher="Test", text_policy="paraphrase", checksum="0" * 64, loaded_at=timezone.now())
    for order, ref in enumerate(refs):
        Requirement.objects.create(framework=framework, urn=f"urn:test:{slug}:{ref}", ref_id=ref, kind="control",
                                   title=f"Requirement {ref}", text_status="paraphrase", assessable=True,
                                   order=order)
    return framework


def catalog_make() -> tuple[Framework, Framework]:
    """NIST-like `nist` (M1, M2, M3) and ISO-like `iso` (A1, A2); M1 = A1, M2 ⊂ A2."""
    nist, iso = framework_make("nist", ["M1", "M2", "M3"]), framework_make("iso", ["A1", "A2"])
    requirement = {r.ref_id: r for r in Requirement.objects.all()}
    Crosswalk.objects.create(source=requirement["M1"], target=requirement["A1"], relationship=Relationship.EQUAL,
                             rationale="same", provenance="test", order=1)
    Crosswalk.objects.create(source=requirement["M2"], target=requirement["A2"], relationship=Relationship.SUBSET,
                             rationale="part", provenance="test", order=2)
    return nist, iso


def ai_system_make(organisation: Organisation, name: str = "Vision triage") -> AISystem:
    return AISystem.objects.create(
        organisation=organisation, name=name, intended_purpose="Sort parcels by picture",
        robustness_thresholds=[{"attack": "screen-pgd10", "epsilon": 4 / 255, "min_robust_accuracy": 0.4}])


def model_version_make(ai_system: AISystem, version: str = "1.0") -> ModelVersion:
    return ModelVersion.objects.create(organisation=ai_system.organisation, ai_system=ai_system, version=version,
                                       architecture="ViT-B-32", checkpoint_sha256="ab" * 32, status="valid")


def evidence_with_version(organisation: Organisation, actor, *, title: str = "Policy", content: bytes = b"policy v1",
                          valid_until: date | None = None, ai_system: AISystem | None = None, kind: str = "document"):
    evidence = evidence_create(organisation=organisation, title=title, kind=kind, actor=actor, ai_system=ai_system)
    version = evidence_version_add(evidence=evidence, actor=actor, content=content, filename=f"{title}.txt",
                                   valid_until=valid_until)
    return evidence, version


def robustness_evidence(organisation: Organisation, actor, ai_system: AISystem, *, model_version: str = "1.0"):
    evidence = evidence_create(organisation=organisation, title=f"Robustness {model_version}",
                               kind="robustness_result", actor=actor, ai_system=ai_system)
    version = evidence_version_add(evidence=evidence, actor=actor, content=json.dumps(ENGINE_RECORD).encode(),
                                   filename="record.json", source="robustness-run",
                                   metadata={"model_version_label": model_version})
    return evidence, version


def four_eyes_lock(assessment, locker, reviewer=None, reason: str = "Not in this period."):
    """Submit and lock as `locker`; `reviewer` (alice unless given: a named reviewer who recorded nothing)
    approves. Requirements still not assessed get a recorded reason first, as the lock requires."""
    from django.contrib.auth import get_user_model

    from assessments.services import (
        assessment_approve,
        assessment_lock,
        assessment_submit_for_review,
        assessment_update,
        requirement_result_update,
    )

    reviewer = reviewer or get_user_model().objects.get(username="alice")
    assessment_update(assessment=assessment, actor=locker, reviewers=[reviewer])
    for result in assessment.results.filter(applicable=True, result="not_assessed", not_assessed_reason=""):
        requirement_result_update(result=result, actor=locker, not_assessed_reason=reason, infer=False)
    assessment_submit_for_review(assessment=assessment, actor=locker)
    assessment_approve(assessment=assessment, actor=reviewer)
    return assessment_lock(assessment=assessment, actor=locker)
