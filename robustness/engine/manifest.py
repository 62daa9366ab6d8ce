"""Re-run manifests: everything an outsider needs to reproduce an evaluation's figures.

A manifest names the model (architecture, activation, config, checkpoint SHA-256 and format, the
preprocessing the tower sees), the data (where it came from, the file's SHA-256, the subset drawn
from it and the digest of the exact images evaluated, the class names and prompt templates), the
evaluation settings (`EvaluationConfig.to_dict()`, whose attack presets fix every attack
parameter), the library versions and the device. `rerun` rebuilds all of it from files the caller
supplies, refuses any file whose hash differs, evaluates, and compares the counts.

On the same device type and library versions the figures are identical (the per-batch seeds are
a pure function of (seed, batch)); across CPU and CUDA they may differ in the last examples that
sit on a decision boundary, which is why the device is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from robustness.engine.data import ImageDataset, dataset_digest, load_image_folder, load_image_zip, subset
from robustness.engine.errors import EngineError
from robustness.engine.evaluate import EvaluationConfig
from robustness.engine.models import LoadedClip, ModelSpec

MANIFEST_SCHEMA = "anchorage-rerun-1"
# What a tower sees: the dataset's decoded uint8 pixels, bicubic-resized to the model's square
# input when their size differs, in [0, 1]; ε applies there; then the model's mean/std.
PREPROCESSING = "decoded RGB uint8 → bicubic resize to image_size × image_size where needed → [0, 1] (ε here) → " \
                "normalise with mean/std inside the classifier"
COUNT_FIELDS = ("n_examples", "n_classes", "class_names", "clean_accuracy", "clean_per_class")
RESULT_FIELDS = ("attack", "attack_description", "eps", "robust_accuracy", "attack_success_rate",
                 "defence_success_rate", "per_class")


class ManifestError(EngineError):
    """A manifest is malformed, or a file given for it is not the one it names."""


@dataclass(frozen=True)
class RunManifest:
    """An evaluation, reproducible: see the module docstring for each part."""

    model: dict[str, Any]
    data: dict[str, Any]
    evaluation: dict[str, Any]
    versions: dict[str, str]
    device: str
    schema: str = MANIFEST_SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> RunManifest:
        if not isinstance(raw, Mapping) or raw.get("schema") != MANIFEST_SCHEMA:
            raise ManifestError(f"not a re-run manifest (schema {MANIFEST_SCHEMA!r} expected)")
        try:
            return RunManifest(model=dict(raw["model"]), data=dict(raw["data"]), evaluation=dict(raw["evaluation"]),
                               versions=dict(raw["versions"]), device=str(raw["device"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ManifestError(f"the manifest lacks {error}") from error


def manifest_build(*, spec: ModelSpec, loaded: LoadedClip, checkpoint_sha256: str, source: str, file_sha256: str,
                   subset_of: tuple[int, int] | None, evaluated: ImageDataset, templates: Sequence[str],
                   config: EvaluationConfig, versions: Mapping[str, str], device: str) -> RunManifest:
    """The manifest of one evaluation. `source` says where the images came from ("builtin:digits",
    "zip:<name>", "folder:<name>"); `subset_of` is (limit, seed) when a subset was drawn."""
    return RunManifest(
        model={"architecture": spec.architecture, "model_config": spec.model_config, "activation": loaded.activation,
               "pretrained_tag": spec.pretrained_tag, "checkpoint_sha256": checkpoint_sha256,
               "checkpoint_format": loaded.checkpoint_format, "image_size": loaded.image_size,
               "mean": list(loaded.mean), "std": list(loaded.std), "preprocessing": PREPROCESSING},
        data={"source": source, "file_sha256": file_sha256,
              "subset": None if subset_of is None else {"limit": subset_of[0], "seed": subset_of[1]},
              "digest": dataset_digest(evaluated), "n_images": len(evaluated),
              "class_names": list(evaluated.class_names), "templates": list(templates)},
        evaluation=config.to_dict(),
        versions=dict(versions),
        device=device,
    )


def manifest_model_spec(manifest: RunManifest, checkpoint: str | Path | None,
                        sha256: Callable[[Path], str]) -> ModelSpec:
    """The model to load, refusing a checkpoint whose SHA-256 is not the manifest's."""
    model = manifest.model
    expected = str(model.get("checkpoint_sha256") or "")
    if expected and checkpoint is None:
        raise ManifestError(f"the run used a checkpoint with SHA-256 {expected}; give it with --checkpoint")
    if checkpoint is not None:
        found = sha256(Path(checkpoint))
        if expected and found != expected:
            raise ManifestError(f"{Path(checkpoint).name} has SHA-256 {found}, the run used {expected}")
    return ModelSpec(str(model["architecture"]), checkpoint_path=checkpoint, model_config=model.get("model_config"),
                     pretrained_tag=model.get("pretrained_tag") or None, activation=model.get("activation"))


def manifest_dataset(manifest: RunManifest, path: str | Path | None,
                     sha256: Callable[[Path], str]) -> ImageDataset:
    """The evaluated images, rebuilt: a built-in by name, an archive or folder from `path`; the
    subset drawn again; refused unless file hash and image digest are the manifest's."""
    from robustness.engine.builtins import builtin_dataset

    data = manifest.data
    kind, _, name = str(data["source"]).partition(":")
    if kind == "builtin":
        dataset = builtin_dataset(name)
    else:
        if path is None:
            raise ManifestError(f"the run evaluated {data['source']}; give its {kind} with --dataset PATH")
        if kind == "zip":
            expected = str(data.get("file_sha256") or "")
            if expected and sha256(Path(path)) != expected:
                raise ManifestError(f"{Path(path).name} is not the archive the run used (SHA-256 differs)")
            dataset = load_image_zip(path)
        elif kind == "folder":
            dataset = load_image_folder(path)
        else:
            raise ManifestError(f"unknown data source {data['source']!r}")
    chosen = data.get("subset")
    if chosen:
        dataset = subset(dataset, int(chosen["limit"]), seed=int(chosen["seed"]))
    return manifest_images_check(manifest, dataset)


def manifest_images_check(manifest: RunManifest, dataset: ImageDataset) -> ImageDataset:
    """`dataset` if its images are the ones the run evaluated, else ManifestError."""
    if dataset_digest(dataset) != manifest.data["digest"]:
        raise ManifestError("the images are not the ones the run evaluated (their digest differs)")
    return dataset


def record_differences(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """Where two records' figures differ ("" list: identical), naming the field."""
    differences = [f"{name}: {expected.get(name)!r} → {found.get(name)!r}" for name in COUNT_FIELDS
                   if expected.get(name) != found.get(name)]
    old, new = list(expected.get("results") or []), list(found.get("results") or [])
    if len(old) != len(new):
        differences.append(f"results: {len(old)} → {len(new)} attack × ε entries")
    for before, after in zip(old, new, strict=False):
        for name in RESULT_FIELDS:
            if before.get(name) != after.get(name):
                differences.append(f"{before.get('attack')} @ {before.get('eps_label')}: {name} differs")
    return differences
