"""Model versions, their training-objective cards and evaluation datasets.

Uploads are checked at once (type, size, structure) and hashed here; loading the checkpoint
or decoding the images happens on a `robustness` worker, enqueued by task name because the
ground floor may not import the robustness app. The worker reports back through
`model_version_validation_finish` / `dataset_validation_finish`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from governance.audit import Actor, actor_user
from governance.jobs import job_enqueue
from governance.models.registry import (
    AISystem,
    Dataset,
    LossTermKind,
    ModelVersion,
    TrainingObjectiveCard,
    ValidationStatus,
)
from governance.services._audit import record_create, record_delete, record_update, snapshot
from governance.services._common import fields_apply, protected_rows_refused, same_organisation_check, validated
from governance.task_names import DATASET_VALIDATE, MODEL_VERSION_VALIDATE
from governance.uploads import (
    UploadError,
    checkpoint_check,
    class_names_check,
    dataset_zip_check,
    file_facts,
    model_config_check,
    model_precheck,
    pretrained_tag_check,
    prompt_templates_check,
)

MODEL_VERSION_FIELDS = ("version", "architecture", "model_config", "pretrained_tag", "class_names",
                        "prompt_templates", "parent")


def validation_enqueue(task_name: str, row_id: int) -> None:
    """Send the validation to a `robustness` worker once the upload is committed."""
    job_enqueue(task_name, row_id, "robustness")


def _upload_errors(function: Any, *args: Any, field: str) -> Any:
    try:
        return function(*args)
    except UploadError as error:
        raise ValidationError({field: str(error)}) from None


def _model_version_prepare(version: ModelVersion, data: Mapping[str, Any], checkpoint: File | None) -> None:
    fields_apply(version, data, allowed=MODEL_VERSION_FIELDS)
    if "pretrained_tag" in data:  # a tag is only ever an open_clip tag, never a path (review H-1)
        version.pretrained_tag = _upload_errors(pretrained_tag_check, version.pretrained_tag or "",
                                                version.architecture, field="pretrained_tag")
    version.class_names = _upload_errors(class_names_check, version.class_names, field="class_names")
    version.prompt_templates = _upload_errors(prompt_templates_check, version.prompt_templates,
                                              field="prompt_templates")
    _upload_errors(model_config_check, version.model_config, field="model_config")
    if checkpoint is not None:
        _upload_errors(checkpoint_check, checkpoint, field="checkpoint")
    if version.pk is None or checkpoint is not None:  # the weights and architecture are fixed once registered
        try:
            model_precheck(version.architecture, version.model_config, checkpoint)
        except UploadError as error:
            raise ValidationError({error.field or "architecture": str(error)}) from None
    has_checkpoint = checkpoint is not None or bool(version.checkpoint)
    if has_checkpoint == bool(version.pretrained_tag.strip()):
        raise ValidationError({"checkpoint": "Upload a checkpoint or name a locally cached pretrained tag "
                                             "(exactly one of the two)."})
    if version.parent is not None:
        same_organisation_check([version.parent], organisation=version.organisation, field="parent")
        if version.pk and version.parent.pk == version.pk:
            raise ValidationError({"parent": "A version cannot be its own parent."})
    validated(version, exclude=["checkpoint", "class_names", "prompt_templates"])


@transaction.atomic
def model_version_create(*, ai_system: AISystem, actor: Actor, data: Mapping[str, Any],
                         checkpoint: File | None = None) -> ModelVersion:
    version = ModelVersion(ai_system=ai_system, organisation=ai_system.organisation,
                           created_by=actor_user(actor))
    _model_version_prepare(version, data, checkpoint)
    if checkpoint is not None:
        facts = file_facts(checkpoint)
        version.checkpoint_sha256, version.checkpoint_size = facts.sha256, facts.size
        version.checkpoint_filename = (checkpoint.name or "")[:255]
        version.checkpoint = checkpoint
    version.status, version.status_reason = ValidationStatus.VALIDATING, "Queued for loading on a worker."
    version.save()
    record_create(version, actor=actor)
    validation_enqueue(MODEL_VERSION_VALIDATE, version.pk)
    return version


@transaction.atomic
def model_version_update(*, model_version: ModelVersion, actor: Actor, data: Mapping[str, Any]) -> ModelVersion:
    """Labels, classes, templates and lineage; the weights of a version never change (make a new one)."""
    allowed = {"version", "class_names", "prompt_templates", "parent"}
    if set(data) - allowed:
        raise ValidationError("Architecture, config and weights are fixed per version: register a new version.")
    before = snapshot(model_version)
    _model_version_prepare(model_version, data, None)
    model_version.save()
    record_update(model_version, before, actor=actor)
    return model_version


@protected_rows_refused
@transaction.atomic
def model_version_delete(*, model_version: ModelVersion, actor: Actor) -> None:
    card = TrainingObjectiveCard.objects.filter(model_version=model_version).first()
    if card is not None:
        record_delete(card, actor=actor)
    for child in model_version.children.all():  # lineage is cut, and the trail says so
        before = snapshot(child)
        child.parent = None
        child.save(update_fields=["parent"])
        record_update(child, before, actor=actor)
    record_delete(model_version, actor=actor)
    stored = model_version.checkpoint
    model_version.delete()
    _file_delete_on_commit(stored)


@transaction.atomic
def model_version_validation_finish(*, model_version_id: int, valid: bool, reason: str,
                                    actor: Actor = None) -> ModelVersion | None:
    """The worker's verdict. Only a `validating` row changes; an invalid upload's file is removed
    at once (the row keeps the reason, hash and size, which is what the user needs to see)."""
    version = ModelVersion.objects.select_for_update().filter(
        pk=model_version_id, status=ValidationStatus.VALIDATING).first()
    if version is None:
        return None
    before = snapshot(version)
    version.status = ValidationStatus.VALID if valid else ValidationStatus.INVALID
    version.status_reason, version.validated_at = reason[:4000], timezone.now()
    _validated_save(version, "checkpoint", valid=valid, before=before, actor=actor)
    return version


def _loss_terms_clean(terms: Any) -> list[dict[str, Any]]:
    if not isinstance(terms, list):
        raise ValidationError({"loss_terms": "Loss terms must be a list of {name, kind, weight}."})
    cleaned = []
    for index, term in enumerate(terms, start=1):
        if not isinstance(term, Mapping) or not str(term.get("name", "")).strip():
            raise ValidationError({"loss_terms": f"Term {index} needs a name."})
        if term.get("kind") not in LossTermKind.values:
            kinds = ", ".join(LossTermKind.values)
            raise ValidationError({"loss_terms": f"Term {index}: kind must be one of {kinds}."})
        try:
            weight = float(term.get("weight", 1.0))
        except (TypeError, ValueError):
            raise ValidationError({"loss_terms": f"Term {index}: weight must be a number."}) from None
        if weight < 0:
            raise ValidationError({"loss_terms": f"Term {index}: weight must not be negative."})
        cleaned.append({"name": str(term["name"]).strip(), "kind": term["kind"], "weight": weight})
    return cleaned


CARD_FIELDS = ("loss_terms", "achieves_intended_outcome", "gaming_risks", "tracks_real_world_metrics",
               "edge_case_treatment")


@transaction.atomic
def training_card_save(*, model_version: ModelVersion, actor: Actor, data: Mapping[str, Any]) -> TrainingObjectiveCard:
    """Create or update the card; whether a robustness term is present follows from the terms."""
    card = TrainingObjectiveCard.objects.filter(model_version=model_version).first()
    before = snapshot(card) if card else None
    card = card or TrainingObjectiveCard(model_version=model_version, organisation=model_version.organisation)
    fields_apply(card, data, allowed=CARD_FIELDS)
    card.loss_terms = _loss_terms_clean(card.loss_terms)
    card.has_adversarial_robustness_term = any(
        term["kind"] == LossTermKind.ROBUSTNESS and term["weight"] > 0 for term in card.loss_terms)
    card.updated_by = actor_user(actor)
    card.save()
    if before is None:
        record_create(card, actor=actor)
    else:
        record_update(card, before, actor=actor)
    return card


@transaction.atomic
def dataset_create(*, organisation: Any, actor: Actor, name: str, file: UploadedFile,
                   ai_system: AISystem | None = None, description: str = "") -> Dataset:
    summary = _upload_errors(dataset_zip_check, file, field="file")
    if ai_system is not None:
        same_organisation_check([ai_system], organisation=organisation, field="ai_system")
    facts = file_facts(file)
    dataset = Dataset(organisation=organisation, name=name, ai_system=ai_system, description=description,
                      original_filename=(file.name or "")[:255], sha256=facts.sha256, size=facts.size,
                      class_names=[folder.replace("_", " ") for folder in summary.class_folders],
                      image_count=summary.image_count, status=ValidationStatus.VALIDATING,
                      status_reason="Queued for decoding on a worker.",
                      created_by=actor_user(actor))
    validated(dataset, exclude=["file"])
    dataset.file = file
    dataset.save()
    record_create(dataset, actor=actor)
    validation_enqueue(DATASET_VALIDATE, dataset.pk)
    return dataset


@protected_rows_refused
@transaction.atomic
def dataset_delete(*, dataset: Dataset, actor: Actor) -> None:
    record_delete(dataset, actor=actor)
    stored = dataset.file
    dataset.delete()
    _file_delete_on_commit(stored)


@transaction.atomic
def dataset_validation_finish(*, dataset_id: int, valid: bool, reason: str, class_names: list[str] | None = None,
                              image_count: int | None = None, actor: Actor = None) -> Dataset | None:
    dataset = Dataset.objects.select_for_update().filter(pk=dataset_id, status=ValidationStatus.VALIDATING).first()
    if dataset is None:
        return None
    before = snapshot(dataset)
    dataset.status = ValidationStatus.VALID if valid else ValidationStatus.INVALID
    dataset.status_reason, dataset.validated_at = reason[:4000], timezone.now()
    if class_names is not None:
        dataset.class_names = list(class_names)
    if image_count is not None:
        dataset.image_count = image_count
    _validated_save(dataset, "file", valid=valid, before=before, actor=actor)
    return dataset


def _validated_save(row: Any, file_field: str, *, valid: bool, before: dict[str, Any], actor: Any) -> None:
    """Save a row whose validation finished. An invalid upload's file goes once the transaction
    commits; its reason, hash and size stay, so the user can still see why it was refused."""
    stored = getattr(row, file_field) if not valid and getattr(row, file_field) else None
    if stored:
        setattr(row, file_field, None)
    row.save()
    record_update(row, before, actor=actor)
    _file_delete_on_commit(stored)


def _file_delete_on_commit(stored: Any) -> None:
    """Remove an upload's file once the transaction that dropped it commits (never before)."""
    if stored:
        name, storage = stored.name, stored.storage
        transaction.on_commit(lambda: storage.delete(name))
