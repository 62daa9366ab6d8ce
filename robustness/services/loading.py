"""Rows → engine objects: the model version's classifier and the run's dataset.

The only place (with the other modules of this package) where database rows meet the
engine. Every bad input surfaces as an `EngineError` with a message fit for the run page.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation

from governance.models.registry import Dataset, ModelVersion
from robustness.engine.attacks import PRESET_LABELS, PRESETS
from robustness.engine.builtins import BUILTIN_DATASETS, builtin_dataset
from robustness.engine.checkpoints import sha256_file
from robustness.engine.classifier import DEFAULT_TEMPLATES, ZeroShotClassifier
from robustness.engine.data import ImageDataset, dataset_digest, load_image_zip, subset, validate_dataset_for_model
from robustness.engine.errors import CheckpointError, DatasetError, EngineError, ModelConfigError
from robustness.engine.models import LoadedClip, ModelSpec, checkpoint_shapes_check, load_clip

logger = logging.getLogger(__name__)

ATTACK_PRESETS: tuple[str, ...] = tuple(PRESETS)  # what the forms offer
ATTACK_PRESET_CHOICES: tuple[tuple[str, str], ...] = tuple((name, f"{name}: {PRESET_LABELS[name]}") for name in PRESETS)


def retraining_presets() -> tuple[tuple[str, str], ...]:
    """(name, what the paper's setting is) for every retraining preset (the trainer imported only when asked)."""
    from robustness.engine.finetune import RETRAIN_PRESETS

    return tuple((name, preset.description) for name, preset in RETRAIN_PRESETS.items())


def retraining_methods() -> tuple[str, ...]:
    """The fine-tuning methods a retraining may use (the trainer is imported only when asked)."""
    from robustness.engine.finetune import METHODS

    return METHODS




@dataclass(frozen=True)
class LoadedData:
    dataset: ImageDataset
    name: str
    sha256: str


def torch_threads_apply() -> None:
    """ROBUSTNESS_TORCH_THREADS caps torch's CPU threads on a worker (0: torch's default). On a
    shared CPU, more threads than free cores make every step many times slower."""
    threads = settings.ROBUSTNESS_TORCH_THREADS
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


CHECKPOINT_UNAVAILABLE = "the model version's checkpoint is not available on the worker"


def version_checkpoint_path(version: ModelVersion) -> Path:
    """The stored checkpoint of `version`, only if it lies in its organisation's own storage (review H-1).

    New uploads live under MEDIA_ROOT/checkpoints/<organisation_id>/. A file of the older
    layout (checkpoints/<year>/<month>/) is still opened, but only through the row's own file
    field and only inside MEDIA_ROOT/checkpoints. Anything else is refused with one generic
    message; the detail goes to the worker log only.
    """
    root = (Path(settings.MEDIA_ROOT) / "checkpoints").resolve()
    name = version.checkpoint.name or ""
    try:
        path = Path(version.checkpoint.path).resolve()
    except (SuspiciousFileOperation, ValueError, OSError):  # a stored name outside MEDIA_ROOT
        path = Path("/nonexistent")
    own = root / str(int(version.organisation_id))
    legacy = re.fullmatch(r"checkpoints/\d{4}/\d{2}/[^/\\]+", name) is not None
    allowed = path.is_relative_to(own) or (legacy and path.is_relative_to(root))
    if not allowed or not path.is_file():
        logger.warning("model version %s: checkpoint %r refused or missing (resolved %s, organisation %s)",
                       version.pk, name, path, version.organisation_id)
        raise CheckpointError(CHECKPOINT_UNAVAILABLE)
    return path


SAFETENSORS_HEADER_LIMIT = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


def model_precheck(architecture: str, model_config: Any, checkpoint: Any) -> None:
    """At upload, in milliseconds: the architecture exists (or its config builds) and a `.safetensors`
    checkpoint's names and shapes fit it (read from the file's header alone; other formats, and the
    full load, are checked by the worker). Installed into governance's `MODEL_PRECHECKS`."""
    from governance.uploads import UploadError

    shapes = _safetensors_shapes(checkpoint) if checkpoint is not None else None
    try:
        if shapes is None:
            checkpoint_shapes_check(architecture, model_config, None, source="")
        else:
            checkpoint_shapes_check(architecture, model_config, shapes, source=checkpoint.name or "the checkpoint")
    except ModelConfigError as error:
        raise UploadError(str(error), "model_config" if model_config else "architecture") from None
    except CheckpointError as error:
        raise UploadError(str(error), "checkpoint") from None


def _safetensors_shapes(upload: Any) -> dict[str, tuple[int, ...]] | None:
    """{name: shape} from a safetensors upload's header; None for other formats or an unreadable header
    (the worker then says why)."""
    import json
    import struct

    if not str(getattr(upload, "name", "")).lower().endswith(".safetensors"):
        return None
    upload.seek(0)
    try:
        head = upload.read(8)
        if len(head) != 8:
            return None
        (length,) = struct.unpack("<Q", head)
        if not 0 < length <= SAFETENSORS_HEADER_LIMIT:
            return None
        header = json.loads(upload.read(length))
        return {name: tuple(int(side) for side in entry["shape"]) for name, entry in header.items()
                if name != "__metadata__"}
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    finally:
        upload.seek(0)


def model_spec_for(version: ModelVersion) -> tuple[ModelSpec, str]:
    """The engine spec of a version and the SHA-256 of its weights ("" for a cached tag).

    The checkpoint is only the row's own stored upload; the tag is only ever an open_clip tag.
    """
    if version.checkpoint:
        path = version_checkpoint_path(version)
        digest = sha256_file(path)
        if version.checkpoint_sha256 and digest != version.checkpoint_sha256:
            raise CheckpointError("the stored checkpoint no longer matches the SHA-256 recorded at upload "
                                  f"({version.checkpoint_sha256[:12]}… recorded, {digest[:12]}… found)")
        return ModelSpec(version.architecture, checkpoint_path=str(path), model_config=version.model_config), digest
    return ModelSpec(version.architecture, model_config=version.model_config,
                     pretrained_tag=version.pretrained_tag or None), ""


def model_version_verdict(version: ModelVersion) -> tuple[bool, str]:
    """Whether a registered model version loads offline (its own upload, SHA-256 checked, or an open_clip
    tag) and tokenises its prompts; (False, reason) for bad input."""
    try:
        spec, _digest = model_spec_for(version)
        loaded = load_clip(spec)
        loaded.tokenizer([template.replace("{c}", name).replace("{}", name)
                          for template in version.prompt_templates[:1] for name in version.class_names])
    except EngineError as error:
        return False, str(error)
    parameters = sum(parameter.numel() for parameter in loaded.model.parameters())
    return True, f"Loaded {version.architecture} ({parameters:,} parameters, input {loaded.image_size} px)."


def dataset_verdict(dataset: Dataset) -> tuple[bool, str, list[str] | None, int | None]:
    """Whether an uploaded image zip decodes as hostile-until-proven-otherwise data: (valid, reason,
    class names, image count)."""
    try:
        loaded = load_image_zip(dataset.file.path)
    except EngineError as error:
        return False, str(error), None, None
    names = list(loaded.class_names)
    return True, f"{len(loaded)} images in {len(names)} classes decoded.", names, len(loaded)


def clip_load(version: ModelVersion, device: str) -> tuple[LoadedClip, str]:
    loaded, digest, _ = clip_load_with_spec(version, device)
    return loaded, digest


def clip_load_with_spec(version: ModelVersion, device: str) -> tuple[LoadedClip, str, ModelSpec]:
    """The loaded model, the SHA-256 of its weights and the spec it was built from (for manifests)."""
    torch_threads_apply()
    spec, digest = model_spec_for(version)
    return load_clip(spec, device=device), digest, spec


def classifier_build(loaded: LoadedClip, version: ModelVersion, class_names: tuple[str, ...]) -> ZeroShotClassifier:
    templates = tuple(version.prompt_templates) or DEFAULT_TEMPLATES
    try:
        return ZeroShotClassifier.from_loaded(loaded, class_names, templates)
    except ValueError as error:  # one class, or a template without a placeholder
        raise DatasetError(str(error)) from error


def data_load(*, dataset: Dataset | None, builtin: str, limit: int | None, seed: int) -> LoadedData:
    """The dataset a run names (an uploaded zip row, or a built-in), subset to `limit` images."""
    if dataset is not None:
        loaded = _zip_load(dataset)
        name = dataset.name
        digest = dataset.sha256
    elif builtin in BUILTIN_DATASETS:
        loaded = builtin_dataset(builtin)
        name = builtin
        digest = dataset_digest(loaded)
    else:
        raise DatasetError(f"unknown dataset {builtin!r}; built-ins are {', '.join(BUILTIN_DATASETS)}")
    validate_dataset_for_model(loaded)
    if limit is not None:
        loaded = subset(loaded, limit, seed=seed)
    return LoadedData(loaded, name, digest)


def classes_check(data: ImageDataset, version: ModelVersion) -> tuple[str, ...]:
    """The dataset's classes, which the version must know (zero-shot over those classes)."""
    names = tuple(data.class_names)
    known = set(version.class_names or ())
    unknown = [name for name in names if known and name not in known]
    if unknown:
        raise DatasetError(f"the dataset's classes {unknown[:5]} are not among the model version's classes "
                           f"{list(version.class_names)[:5]}…")
    return names


def _zip_load(dataset: Dataset) -> ImageDataset:
    if not dataset.file:
        raise DatasetError(f"dataset {dataset.name!r} has no file (it was refused at validation)")
    path = dataset.file.path
    if dataset.sha256 and sha256_file(path) != dataset.sha256:
        raise DatasetError(f"dataset {dataset.name!r} no longer matches the SHA-256 recorded at upload")
    return load_image_zip(path)


