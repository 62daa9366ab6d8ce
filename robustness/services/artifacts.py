"""Files a run leaves behind (adversarial examples as PNG), written whole or not at all.

Everything goes into a temporary folder beside the run's folder and is moved into place with
one `os.replace` after it is complete; a crash leaves no half-written run folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch
from django.conf import settings
from PIL import Image

from robustness.engine.evaluate import EvaluationConfig, adversarial_examples
from robustness.models.runs import run_folder

SCALE = 4  # tiny images are drawn 4× larger (nearest neighbour) so a person can see them


def run_directory(kind: str, run_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / run_folder(kind, run_id)


def attempt_directory(kind: str, run_id: int, attempt: int) -> Path:
    """Each attempt writes its own folder: a worker that lost its lease can never overwrite or
    delete the files of the attempt that finished the run (the row's `attempt`)."""
    return run_directory(kind, run_id) / f"attempt-{attempt}"


def staging_directory(kind: str, run_id: int) -> Path:
    parent = Path(settings.MEDIA_ROOT) / "robustness" / kind
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".staging-{run_id}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    return staging


def staging_commit(staging: Path, kind: str, run_id: int, attempt: int) -> Path:
    """Move a complete staging folder into place (replacing what this same attempt left)."""
    final = attempt_directory(kind, run_id, attempt)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return final


def artifact_list(folder: Path) -> list[dict[str, Any]]:
    return [{"name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "size": path.stat().st_size}
            for path in sorted(folder.iterdir()) if path.is_file()]


def _png(image: torch.Tensor, path: Path) -> None:
    """image (3, H, W) in [0, 1] → PNG, SCALE× larger."""
    array = (image.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    picture = Image.fromarray(array)
    picture.resize((picture.width * SCALE, picture.height * SCALE), Image.Resampling.NEAREST).save(path, format="PNG")


def adversarial_examples_write(*, classifier: torch.nn.Module, dataset: Any, class_names: tuple[str, ...],
                               config: EvaluationConfig, folder: Path) -> list[dict[str, Any]]:
    """A few images beside their adversarial versions and the perturbation magnified to the full range,
    as PNGs (the engine's `adversarial_examples` makes them: the first attack at the largest ε)."""
    examples = []
    for example in adversarial_examples(classifier, dataset, config):
        i = example.index
        names = {part: f"example-{i}-{part}.png" for part in ("original", "adversarial", "perturbation")}
        _png(example.image, folder / names["original"])
        _png(example.adversarial, folder / names["adversarial"])
        _png(example.perturbation, folder / names["perturbation"])
        examples.append({"index": i, "label": class_names[example.label],
                         "clean_prediction": class_names[example.clean_prediction],
                         "adversarial_prediction": class_names[example.adversarial_prediction],
                         "attack": example.attack, "eps": example.eps, "files": names})
    return examples
