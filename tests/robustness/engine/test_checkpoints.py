"""Checkpoints are untrusted uploads: load tensors, never run code."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest
import torch

from robustness.engine.checkpoints import load_state_dict_file, save_state_dict_file, sha256_file
from robustness.engine.errors import CheckpointError, EngineError
from robustness.engine.models import LoadedClip, ModelSpec, load_clip
from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG


class _CreatesMarkerWhenUnpickled:
    """Unpickling this runs os.system("touch <marker>"): the classic pickle exploit."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def _spec(path: Path) -> ModelSpec:
    return ModelSpec(TINY_ARCHITECTURE, checkpoint_path=str(path), model_config=TINY_MODEL_CONFIG)


def _same_outputs(first: LoadedClip, second: LoadedClip) -> bool:
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    tokens = first.tokenizer(["a red circle", "a blue star"])
    with torch.no_grad():
        return torch.equal(first.model.encode_image(images), second.model.encode_image(images)) and torch.equal(
            first.model.encode_text(tokens), second.model.encode_text(tokens)
        )


def test_torch_save_with_pickle_payload_is_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "evil.pt"
    torch.save({"state_dict": {"weight": torch.zeros(1)}, "extra": _CreatesMarkerWhenUnpickled(marker)}, checkpoint)

    with pytest.raises(CheckpointError, match=r"refused to load evil\.pt: it contains pickled Python objects"):
        load_state_dict_file(checkpoint)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_legacy_raw_pickle_payload_is_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "evil.pt"
    checkpoint.write_bytes(pickle.dumps(_CreatesMarkerWhenUnpickled(marker)))

    with pytest.raises(CheckpointError, match=r"refused to load evil.pt"):
        load_state_dict_file(checkpoint)
    assert not marker.exists()


def test_load_clip_refuses_pickle_payload_before_building_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "evil.pt"
    torch.save(_CreatesMarkerWhenUnpickled(marker), checkpoint)

    with pytest.raises(CheckpointError, match="refused"):
        load_clip(_spec(checkpoint))
    assert not marker.exists()


def test_plain_state_dict_round_trip_gives_identical_outputs(tmp_path: Path, tiny_clip: LoadedClip) -> None:
    checkpoint = tmp_path / "model.pt"
    torch.save(tiny_clip.model.state_dict(), checkpoint)

    assert _same_outputs(tiny_clip, load_clip(_spec(checkpoint)))


@pytest.mark.parametrize("key", ["state_dict", "model"])
def test_training_checkpoint_with_ddp_prefix_round_trip(tmp_path: Path, tiny_clip: LoadedClip, key: str) -> None:
    checkpoint = tmp_path / "epoch_10.pt"
    wrapped = {f"module.{name}": tensor for name, tensor in tiny_clip.model.state_dict().items()}
    torch.save({key: wrapped, "epoch": 10, "optimizer": {"lr": torch.tensor(0.1)}}, checkpoint)

    state_dict = load_state_dict_file(checkpoint)

    assert set(state_dict) == set(tiny_clip.model.state_dict())
    assert _same_outputs(tiny_clip, load_clip(_spec(checkpoint)))


def test_safetensors_round_trip_gives_identical_outputs(tmp_path: Path, tiny_clip: LoadedClip) -> None:
    checkpoint = tmp_path / "model.safetensors"
    digest = save_state_dict_file(tiny_clip.model.state_dict(), checkpoint)

    assert digest == sha256_file(checkpoint)
    assert _same_outputs(tiny_clip, load_clip(_spec(checkpoint)))


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"anchorage" * 100_000)

    assert sha256_file(path) == hashlib.sha256(b"anchorage" * 100_000).hexdigest()


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="checkpoint file not found"):
        load_state_dict_file(tmp_path / "absent.pt")


def test_garbage_bytes_are_not_a_checkpoint(tmp_path: Path) -> None:
    for name in ("garbage.pt", "garbage.safetensors"):
        (tmp_path / name).write_bytes(b"\x00not a checkpoint at all")
        with pytest.raises(CheckpointError, match=f"{name} is not a readable"):
            load_state_dict_file(tmp_path / name)


def test_non_tensor_entries_are_rejected(tmp_path: Path) -> None:
    checkpoint = tmp_path / "weird.pt"
    torch.save({"weight": torch.zeros(2), "note": "hello"}, checkpoint)

    with pytest.raises(CheckpointError, match="entry 'note' is a str, expected a tensor"):
        load_state_dict_file(checkpoint)


def test_checkpoint_errors_are_engine_errors() -> None:
    assert issubclass(CheckpointError, EngineError)
