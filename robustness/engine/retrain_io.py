"""Files of a retraining: atomic writes, the resumable training state, the output card.

Every file is written to a temporary name in the same folder and moved into place with
`os.replace`, which is atomic on POSIX: a crash leaves the old file or the new one, never
half of one.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from robustness.engine.checkpoints import ACTIVATION_METADATA_KEY, sha256_file
from robustness.engine.classifier import ZeroShotClassifier
from robustness.engine.errors import CheckpointError
from robustness.engine.models import activation_of
from robustness.engine.records import library_versions

MODEL_FILE = "model.safetensors"
CARD_FILE = "card.json"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(temporary path) then move it onto `path` atomically (fsynced first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        write(temporary)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_torch_save(state: dict[str, Any], path: Path) -> None:
    atomic_write(path, lambda temporary: torch.save(state, temporary))


def load_training_state(path: Path) -> dict[str, Any] | None:
    """The saved training state, or None where there is none (weights_only: no code runs)."""
    if not path.is_file():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)  # type: ignore[no-any-return]  # torch.load is Any
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        raise CheckpointError(f"unreadable training state {path}: {error}") from error


@dataclass(frozen=True)
class RetrainCard:
    """How a retrained checkpoint was made: its parent (path + SHA-256), method, settings, data."""

    method: str
    config: dict[str, Any]
    parent_checkpoint: str | None
    parent_sha256: str | None
    data_description: str
    train_class_names: tuple[str, ...]
    steps_done: int
    resumed_from_step: int
    final_loss: float
    anchor_expansion: dict[str, Any] | None
    device: str
    wall_time_s: float
    versions: dict[str, str]
    checkpoint_file: str = MODEL_FILE
    checkpoint_sha256: str = ""
    trained_parameters: str = "visual"

    @staticmethod
    def build(
        *,
        config: dict[str, Any],
        parent_checkpoint: str | Path | None,
        data_description: str,
        steps_done: int,
        resumed_from_step: int,
        final_loss: float,
        device: str,
        wall_time_s: float,
        train_class_names: Sequence[str] | None,
        anchor_expansion: dict[str, Any] | None,
    ) -> RetrainCard:
        parent = None if parent_checkpoint is None else Path(parent_checkpoint)
        return RetrainCard(
            method=str(config["method"]),
            config=config,
            parent_checkpoint=None if parent is None else str(parent),
            parent_sha256=None if parent is None else sha256_file(parent),
            data_description=data_description,
            train_class_names=tuple(train_class_names or ()),
            steps_done=steps_done,
            resumed_from_step=resumed_from_step,
            final_loss=final_loss,
            anchor_expansion=anchor_expansion,
            device=device,
            wall_time_s=round(wall_time_s, 3),
            versions=library_versions(),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def write_outputs(
    classifier: ZeroShotClassifier, clip_model: nn.Module | None, card: RetrainCard, out: Path
) -> tuple[Path, str, Path]:
    """Write model.safetensors (the whole open_clip state dict where `clip_model` is given,
    whose `visual` is the fine-tuned tower; else the tower under "visual.") and card.json.

    The header records the activation the weights were trained with, so a reload builds the
    same function (a QuickGELU model stays QuickGELU)."""
    from safetensors.torch import save_file

    if clip_model is not None:
        assert getattr(clip_model, "visual", None) is classifier.visual, "clip_model must share the vision tower"
        state = clip_model.state_dict()
    else:
        state = {f"visual.{name}": tensor for name, tensor in classifier.visual.state_dict().items()}
    tensors = {name: tensor.detach().cpu().contiguous().clone() for name, tensor in state.items()}
    checkpoint = out / MODEL_FILE

    activation = activation_of(clip_model if clip_model is not None else classifier.visual)
    metadata = {ACTIVATION_METADATA_KEY: activation} if activation else None

    def write_model(temporary: Path) -> None:
        save_file(tensors, str(temporary), metadata=metadata)

    atomic_write(checkpoint, write_model)
    sha = sha256_file(checkpoint)
    card_path = out / CARD_FILE
    text = RetrainCard(**{**asdict(card), "checkpoint_sha256": sha}).to_json() + "\n"

    def write_card(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    atomic_write(card_path, write_card)
    return checkpoint, sha, card_path
