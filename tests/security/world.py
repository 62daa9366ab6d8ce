"""One row of every kind in an organisation, made through the apps' services, for generic harnesses.

`world_build(organisation, actor, label)` returns a `World`: a dict of named rows plus, for every
kind it could not make (an app not written yet, a service that changed), the reason. Rules that
need a missing row skip with that reason instead of breaking, so the harnesses grow with the apps.

Every title carries `label` (e.g. "zq-acme"), so a response can be searched for another
organisation's data.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from governance.models.tenancy import Organisation
from tests.governance.conftest import answered

Builder = Callable[["World"], Any]


@dataclass
class World:
    organisation: Organisation
    actor: Any
    label: str
    rows: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        import pytest

        if key not in self.rows:
            pytest.skip(f"world has no {key!r}: {self.missing.get(key, 'not built')}")
        return self.rows[key]

    def pk(self, key: str) -> int:
        return self.get(key).pk


def png_bytes(colour: tuple[int, int, int] = (200, 30, 30), size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def image_folder_zip_bytes(classes: tuple[str, ...] = ("cat", "dog"), per_class: int = 2) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in classes:
            for index in range(per_class):
                archive.writestr(f"{name}/{index}.png", png_bytes((40 * index, 90, 20)))
    return buffer.getvalue()


def _catalogs(world: World) -> Any:
    from governance.models import Framework

    framework = Framework.objects.filter(slug="zq-framework").first()
    if framework is None:
        from tests.assessments.factories import framework_make

        framework = framework_make("zq-framework", ["M1", "M2"])
    return framework


def _system(world: World) -> Any:
    from governance import services

    return services.ai_system_create(organisation=world.organisation, actor=world.actor, data={
        "name": f"{world.label} screener", "intended_purpose": f"{world.label}: ranks job applications.",
        "operator_roles": ["provider"], "lifecycle_stage": "design_development", "human_oversight": "human_in_the_loop",
        "review_frequency_days": 180,
        "robustness_thresholds": [{"attack": "screen-pgd10", "epsilon": "4/255", "min_robust_accuracy": 0.4}]})


def _classification(world: World) -> Any:
    from governance import services

    return services.classification_record(ai_system=world.get("system"), actor=world.actor,
                                          answers=answered(annex_iii_points=["Annex III 4(a)"]))


def _model_version(world: World) -> Any:
    from governance import services
    from governance.models import ModelVersion

    version = services.model_version_create(ai_system=world.get("system"), actor=world.actor, data={
        "version": f"{world.label}-v1", "architecture": "ViT-B-32", "pretrained_tag": "openai",
        "class_names": ["cat", "dog"], "prompt_templates": ["a photo of a {}."]})
    ModelVersion.objects.filter(pk=version.pk).update(status="valid", status_reason="")
    version.refresh_from_db()
    return version


def _training_card(world: World) -> Any:
    from governance import services

    return services.training_card_save(model_version=world.get("model_version"), actor=world.actor,
                                       data={"loss_terms": [{"name": "ce", "kind": "accuracy", "weight": 1.0}]})


def _dataset(world: World) -> Any:
    from governance import services
    from governance.models import Dataset

    upload = SimpleUploadedFile(f"{world.label}-pets.zip", image_folder_zip_bytes(), content_type="application/zip")
    dataset = services.dataset_create(organisation=world.organisation, actor=world.actor, name=f"{world.label} pets",
                                      file=upload, ai_system=world.get("system"))
    Dataset.objects.filter(pk=dataset.pk).update(status="valid", status_reason="")
    dataset.refresh_from_db()
    return dataset


def _control(world: World) -> Any:
    from governance import services

    return services.control_create(organisation=world.organisation, actor=world.actor,
                                   requirements=[world.get("requirement")], data={
                                       "ref_id": f"{world.label}-C1", "name": f"{world.label} adversarial testing",
                                       "control_type": "technical", "status": "planned",
                                       "review_frequency_days": 90})


def _risk(world: World) -> Any:
    from governance import services

    return services.risk_create(organisation=world.organisation, actor=world.actor, controls=[world.get("control")],
                                data={"ai_system": world.get("system"), "title": f"{world.label} evasion attacks",
                                      "risk_source": "B.5", "characteristic": "secure_resilient", "likelihood": 3,
                                      "impact": 4, "treatment": "mitigate", "status": "identified"})


def _decision(world: World) -> Any:
    from governance import services

    system = world.get("system")
    services.applicability_propose(ai_system=system, actor=world.actor)
    return system.applicability_decisions.order_by("pk").first() or _raise("no applicability decision proposed")


def _raise(message: str) -> Any:
    raise LookupError(message)


def _assessment(world: World) -> Any:
    from assessments.services import assessment_create

    return assessment_create(organisation=world.organisation, framework=world.get("framework"),
                             ai_system=world.get("system"), actor=world.actor, title=f"{world.label} draft")


def _approved_assessment(world: World) -> Any:
    from assessments.services import assessment_approve, assessment_create, assessment_submit_for_review

    # The actor is its named reviewer and records no result, so four eyes let them approve it.
    assessment = assessment_create(organisation=world.organisation, framework=world.get("framework"),
                                   ai_system=world.get("system"), actor=world.actor, title=f"{world.label} approved",
                                   reviewers=[world.actor])
    assessment_submit_for_review(assessment=assessment, actor=world.actor)
    return assessment_approve(assessment=assessment, actor=world.actor)


def _result(world: World) -> Any:
    return world.get("assessment").results.order_by("pk").first() or _raise("assessment has no results")


def _evidence(world: World) -> Any:
    from assessments.services import evidence_create

    return evidence_create(organisation=world.organisation, title=f"{world.label} policy", kind="document",
                           actor=world.actor, ai_system=world.get("system"))


def _evidence_version(world: World) -> Any:
    from assessments.services import evidence_version_add

    return evidence_version_add(evidence=world.get("evidence"), actor=world.actor,
                                content=f"{world.label} policy text".encode(), filename=f"{world.label}-policy.txt")


def _finding(world: World) -> Any:
    from assessments.services import finding_create

    return finding_create(organisation=world.organisation, title=f"{world.label} finding", description="",
                          severity="high", actor=world.actor, source="manual", ai_system=world.get("system"))


def _engagement(world: World) -> Any:
    from assessments.services import engagement_create

    return engagement_create(organisation=world.organisation, title=f"{world.label} engagement",
                             start_date=date(2026, 11, 1), actor=world.actor)


def _phase(world: World) -> Any:
    return world.get("engagement").phases.order_by("order").first() or _raise("engagement has no phases")


def _action(world: World) -> Any:
    from assessments.services import action_create

    return action_create(engagement=world.get("engagement"), title=f"{world.label} action", actor=world.actor,
                         due_date=date(2026, 11, 10))


def _report(world: World) -> Any:
    from django.utils import timezone

    from assessments.models import Report
    from assessments.services import report_request

    report = report_request(assessment=world.get("assessment"), actor=world.actor)
    pdf = f"%PDF-1.7 {world.label} report".encode()
    report.file.save(f"{world.label}-report.pdf", ContentFile(pdf), save=False)
    Report.objects.filter(pk=report.pk).update(file=report.file.name, status="succeeded", size=len(pdf),
                                               sha256=hashlib.sha256(pdf).hexdigest(), generated_at=timezone.now())
    report.refresh_from_db()
    return report


def _evaluation(world: World) -> Any:
    from robustness.services.run_requests import evaluation_run_request

    run = evaluation_run_request(ai_system=world.get("system"), model_version=world.get("model_version"),
                                 actor=world.actor, config={"builtin_dataset": "synthetic-held-out"})
    return _with_artifact(run)


def _with_artifact(run: Any) -> Any:
    """A finished file of the run (as a worker would leave it), for the artifact download URL."""
    from robustness.services import artifacts

    folder = (artifacts.attempt_directory(run.kind_slug, run.pk, run.attempt)
              if hasattr(artifacts, "attempt_directory") else artifacts.run_directory(run.kind_slug, run.pk))
    folder.mkdir(parents=True, exist_ok=True)
    content = png_bytes((1, 2, 3))
    (folder / "example-0.png").write_bytes(content)
    artifacts = [{"name": "example-0.png", "sha256": hashlib.sha256(content).hexdigest(), "size": len(content),
                  "kind": "adversarial_example"}]
    type(run).objects.filter(pk=run.pk).update(artifacts=artifacts)
    run.refresh_from_db()
    return run


def _anchor_analysis(world: World) -> Any:
    from robustness.services.run_requests import anchor_analysis_request

    return _with_artifact(anchor_analysis_request(ai_system=world.get("system"),
                                                  model_version=world.get("model_version"), actor=world.actor,
                                                  config={}))


def _retraining(world: World) -> Any:
    from robustness.services.run_requests import retraining_run_request

    return _with_artifact(retraining_run_request(ai_system=world.get("system"),
                                                 model_version=world.get("model_version"), actor=world.actor,
                                                 config={"builtin_dataset": "synthetic-held-out", "steps": 2}))


def _crosswalk(world: World) -> Any:
    from governance.models import Crosswalk, Relationship

    first, second = world.get("framework").requirements.order_by("order")[:2]
    crosswalk, _ = Crosswalk.objects.get_or_create(source=first, target=second, defaults={
        "relationship": Relationship.EQUAL, "rationale": "same", "provenance": "test", "order": 1})
    return crosswalk


def _requirement(world: World) -> Any:
    return world.get("framework").requirements.order_by("order").first()


def _membership(world: World) -> Any:
    from governance.models import Membership

    return Membership.objects.filter(organisation=world.organisation, role="consultant").order_by("pk").first() \
        or _raise("no consultant membership")


def _audit_event(world: World) -> Any:
    from governance.models import AuditEvent

    return AuditEvent.objects.filter(organisation=world.organisation).order_by("sequence").first() \
        or _raise("no audit events")


BUILDERS: dict[str, Builder] = {
    "framework": _catalogs,
    "requirement": _requirement,
    "crosswalk": _crosswalk,
    "membership": _membership,
    "system": _system,
    "classification": _classification,
    "model_version": _model_version,
    "training_card": _training_card,
    "dataset": _dataset,
    "control": _control,
    "risk": _risk,
    "decision": _decision,
    "assessment": _assessment,
    "approved_assessment": _approved_assessment,
    "result": _result,
    "evidence": _evidence,
    "evidence_version": _evidence_version,
    "finding": _finding,
    "engagement": _engagement,
    "phase": _phase,
    "action": _action,
    "report": _report,
    "evaluation": _evaluation,
    "anchor_analysis": _anchor_analysis,
    "retraining": _retraining,
    "audit_event": _audit_event,
}


def world_build(organisation: Organisation, actor: Any, label: str) -> World:
    """Every row BUILDERS can make; a builder that fails leaves its reason in `missing`."""
    import pytest

    world = World(organisation=organisation, actor=actor, label=label)
    for key, builder in BUILDERS.items():
        try:
            with transaction.atomic():
                world.rows[key] = builder(world)
        except pytest.skip.Exception as skipped:
            world.missing[key] = f"needs a row that is missing ({skipped.msg})"
        except Exception as error:
            world.missing[key] = f"{type(error).__name__}: {error}"
    return world


def media_files(root: Path | None = None) -> set[str]:
    """Every file under MEDIA_ROOT, relative (to compare the tree before and after)."""
    base = Path(root or settings.MEDIA_ROOT)
    if not base.exists():
        return set()
    return {str(path.relative_to(base)) for path in base.rglob("*") if path.is_file()}
