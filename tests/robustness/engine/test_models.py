"""Model loading: custom configs, offline-only pretrained tags, clear mismatch errors."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import open_clip
import pytest
import torch

from robustness.engine.errors import CheckpointError, ModelConfigError
from robustness.engine.models import LoadedClip, ModelSpec, load_clip, register_model_config
from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG, tiny_model


def _wider_config() -> dict:
    config = copy.deepcopy(TINY_MODEL_CONFIG)
    config["vision_cfg"]["width"] = 48
    return config


def test_custom_config_is_registered_and_built() -> None:
    config = copy.deepcopy(TINY_MODEL_CONFIG)
    config["embed_dim"] = 24

    loaded = load_clip(ModelSpec("acme-custom-vit", model_config=config))

    assert "acme-custom-vit" in open_clip.list_models()
    assert loaded.image_size == 32
    assert loaded.mean == pytest.approx(open_clip.OPENAI_DATASET_MEAN)
    assert loaded.std == pytest.approx(open_clip.OPENAI_DATASET_STD)
    with torch.no_grad():
        features = loaded.model.encode_image(torch.rand(2, 3, 32, 32))
    assert features.shape == (2, 24)
    assert not loaded.model.training


def test_tokenizer_uses_the_configs_context_length(tiny_clip: LoadedClip) -> None:
    tokens = tiny_clip.tokenizer(["a red circle"])

    assert tokens.shape == (1, TINY_MODEL_CONFIG["text_cfg"]["context_length"])


def test_tiny_model_is_deterministic_for_a_seed() -> None:
    first, second, other = tiny_model(seed=3), tiny_model(seed=3), tiny_model(seed=4)

    pairs = zip(first.state_dict().values(), second.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    assert not torch.equal(first.visual.conv1.weight, other.visual.conv1.weight)


def test_unknown_architecture_is_a_clear_error() -> None:
    with pytest.raises(ModelConfigError, match=r"unknown open_clip architecture 'ViT-B-33'; did you mean .*ViT-B-32"):
        load_clip(ModelSpec("ViT-B-33"))


def test_config_without_text_tower_is_refused() -> None:
    with pytest.raises(ModelConfigError, match="lacks text_cfg"):
        load_clip(ModelSpec("acme-broken", model_config={"embed_dim": 8, "vision_cfg": {}}))


def test_custom_config_cannot_shadow_a_builtin_architecture() -> None:
    with pytest.raises(ModelConfigError, match="'ViT-B-32' is a built-in open_clip architecture"):
        register_model_config("ViT-B-32", TINY_MODEL_CONFIG)


def test_wrong_shape_checkpoint_names_the_mismatching_tensors(tmp_path: Path, tiny_clip: LoadedClip) -> None:
    checkpoint = tmp_path / "tiny.pt"
    torch.save(tiny_clip.model.state_dict(), checkpoint)

    with pytest.raises(CheckpointError, match=r"tiny\.pt does not fit the architecture: \d+ wrong shapes: visual\."):
        load_clip(ModelSpec("acme-wider", checkpoint_path=str(checkpoint), model_config=_wider_config()))


def test_missing_and_unexpected_keys_are_named(tmp_path: Path, tiny_clip: LoadedClip) -> None:
    state_dict = dict(tiny_clip.model.state_dict())
    del state_dict["text_projection"]
    state_dict["head.extra"] = torch.zeros(3)
    checkpoint = tmp_path / "edited.pt"
    torch.save(state_dict, checkpoint)

    with pytest.raises(CheckpointError, match=r"1 missing keys: text_projection; 1 unexpected keys: head.extra"):
        load_clip(ModelSpec(TINY_ARCHITECTURE, checkpoint_path=str(checkpoint), model_config=TINY_MODEL_CONFIG))


def test_checkpoint_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="checkpoint file not found"):
        load_clip(ModelSpec(TINY_ARCHITECTURE, checkpoint_path=str(tmp_path / "nope.pt"),
                            model_config=TINY_MODEL_CONFIG))


def test_uncached_pretrained_tag_fails_fast_without_downloading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty ~/.cache/clip
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda **_: None)  # an empty HF cache
    started = time.monotonic()

    with pytest.raises(ModelConfigError, match="pretrained tag 'openai' of 'ViT-B-32' is not in the local cache"):
        load_clip(ModelSpec("ViT-B-32", pretrained_tag="openai"))
    assert time.monotonic() - started < 2.0


def test_unknown_pretrained_tag_lists_the_known_ones() -> None:
    message = r"'not-a-tag' is not a pretrained tag .*openai"
    with pytest.raises(ModelConfigError, match=message):
        load_clip(ModelSpec("ViT-B-32", pretrained_tag="not-a-tag"))


def test_cached_pretrained_tag_loads_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_clip: LoadedClip
) -> None:
    cached = tmp_path / "open_clip_model.safetensors"
    from robustness.engine.checkpoints import save_state_dict_file

    save_state_dict_file(tiny_clip.model.state_dict(), cached)
    monkeypatch.setattr(open_clip, "get_pretrained_cfg", lambda *_: {"hf_hub": "acme/tiny/"})
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda **kwargs: str(cached))

    loaded = load_clip(ModelSpec(TINY_ARCHITECTURE, pretrained_tag="acme-tag", model_config=TINY_MODEL_CONFIG))

    assert torch.equal(loaded.model.visual.conv1.weight, tiny_clip.model.visual.conv1.weight)
