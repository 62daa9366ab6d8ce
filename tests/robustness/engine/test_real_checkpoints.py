"""Real CLIP checkpoints: every format users bring reloads the exact function, QuickGELU included.

Known answers: a randomly initialised ViT-B-32 and RN50, built with QuickGELU as OpenAI trained
them, are saved as open_clip safetensors, an open_clip `.bin`, OpenAI's state dict (with its three
integer keys) and OpenAI's TorchScript archive; each reloads with logits `torch.equal` to the
original's on the CPU. The same weights run with GELU give other logits, so a loader that swapped
the activation fails here.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import open_clip
import pytest
import torch

from robustness.engine.checkpoints import read_checkpoint, save_state_dict_file
from robustness.engine.errors import CheckpointError, ModelConfigError
from robustness.engine.models import GELU, QUICK_GELU, ModelSpec, activation_of, build_model, load_clip

ARCHITECTURES = ("ViT-B-32", "RN50")
OPENAI_INTEGERS = {"input_resolution": 224, "context_length": 77, "vocab_size": 49408}


def _logits(model, images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        image = torch.nn.functional.normalize(model.encode_image(images), dim=-1)
        words = torch.nn.functional.normalize(model.encode_text(text), dim=-1)
        return model.logit_scale.exp() * image @ words.t()


@pytest.fixture(scope="module", params=ARCHITECTURES)
def original(request, tmp_path_factory):
    """A random QuickGELU model of the architecture, its inputs, logits and files in every format."""
    architecture = request.param
    torch.manual_seed(0)
    model = build_model(architecture, quick_gelu=True).eval()
    images = torch.rand(2, 3, 224, 224)
    text = open_clip.get_tokenizer(architecture)(["a photo of a cat", "a photo of a dog", "a diagram"])
    folder = tmp_path_factory.mktemp(architecture)
    state = model.state_dict()
    files = {
        "safetensors": folder / "open_clip_model.safetensors",
        "bin": folder / "open_clip_pytorch_model.bin",
        "openai_state_dict": folder / "openai-state-dict.pt",
        "openai_torchscript": folder / f"{architecture}.pt",
    }
    save_state_dict_file(state, files["safetensors"], activation=QUICK_GELU)
    torch.save(state, files["bin"])
    torch.save({**state, **OPENAI_INTEGERS}, files["openai_state_dict"])
    _save_torchscript(model, images, files["openai_torchscript"])
    return architecture, model, images, text, _logits(model, images, text), files


def _save_torchscript(model, images, path: Path) -> None:
    """OpenAI's archive layout: CLIP's parameters and buffers at the root, its integers as buffers."""
    root = torch.nn.Module()
    for name, child in model.named_children():
        root.add_module(name, child)
    for name, parameter in model.named_parameters(recurse=False):
        root.register_parameter(name, parameter)
    persistent = set(model.state_dict())
    for name, buffer in model.named_buffers(recurse=False):
        root.register_buffer(name, buffer, persistent=name in persistent)
    for name, value in OPENAI_INTEGERS.items():
        root.register_buffer(name, torch.tensor(value))
    root.forward = model.encode_image  # type: ignore[method-assign]
    torch.jit.trace(root, (images[:1],), check_trace=False).save(str(path))


@pytest.mark.parametrize("form", ["safetensors", "openai_state_dict", "openai_torchscript"])
def test_every_format_reloads_the_exact_function_with_quick_gelu(original, form) -> None:
    architecture, _, images, text, expected, files = original
    loaded = load_clip(ModelSpec(architecture, checkpoint_path=files[form]))
    assert loaded.activation == QUICK_GELU
    assert loaded.checkpoint_format == {"safetensors": "state_dict"}.get(form, form)
    assert torch.equal(_logits(loaded.model, images, text), expected)


def test_a_plain_bin_needs_the_activation_declared_and_then_is_exact(original) -> None:
    architecture, _, images, text, expected, files = original
    guessed = load_clip(ModelSpec(architecture, checkpoint_path=files["bin"]))
    assert guessed.activation == GELU  # nothing in the file says otherwise: open_clip's default
    assert not torch.allclose(_logits(guessed.model, images, text), expected, atol=1e-3)
    declared = load_clip(ModelSpec(architecture, checkpoint_path=files["bin"], activation=QUICK_GELU))
    assert torch.equal(_logits(declared.model, images, text), expected)
    named = load_clip(ModelSpec(f"{architecture}-quickgelu", checkpoint_path=files["bin"]))
    assert named.activation == QUICK_GELU
    assert torch.equal(_logits(named.model, images, text), expected)


def test_gelu_against_openai_weights_is_refused_with_the_reasons(original) -> None:
    architecture, _, _, _, _, files = original
    with pytest.raises(ModelConfigError, match=r"declares gelu; the checkpoint is in OpenAI's format"):
        load_clip(ModelSpec(architecture, checkpoint_path=files["openai_torchscript"], activation=GELU))
    with pytest.raises(ModelConfigError, match=r"metadata says quick_gelu"):
        load_clip(ModelSpec(architecture, checkpoint_path=files["safetensors"], activation=GELU))


def test_openai_integers_are_read_and_checked_against_the_architecture(original, tmp_path) -> None:
    architecture, model, _, _, _, files = original
    for form in ("openai_state_dict", "openai_torchscript"):
        assert read_checkpoint(files[form]).openai_integers == OPENAI_INTEGERS
    wrong = tmp_path / "wrong.pt"
    torch.save({**model.state_dict(), **OPENAI_INTEGERS, "context_length": 64}, wrong)
    with pytest.raises(CheckpointError, match="context_length 64 \\(the architecture has 77\\)"):
        load_clip(ModelSpec(architecture, checkpoint_path=wrong))


def test_a_torchscript_archive_with_code_in_its_pickle_runs_nothing(original, tmp_path) -> None:
    _, _, _, _, _, files = original
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    hostile = tmp_path / "hostile.pt"
    with zipfile.ZipFile(files["openai_torchscript"]) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith("/data.pkl"):
                data = pickle.dumps(Payload(), protocol=2)
            target.writestr(item, data)
    with pytest.raises(CheckpointError, match="refused global"):
        read_checkpoint(hostile)
    assert not marker.exists()


def test_a_torchscript_archive_with_a_short_storage_is_refused(original, tmp_path) -> None:
    _, _, _, _, _, files = original
    broken = tmp_path / "short.pt"
    with zipfile.ZipFile(files["openai_torchscript"]) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith("/data/0"):
                data = data[: len(data) // 2]
            target.writestr(item, data)
    with pytest.raises(CheckpointError, match="bytes, expected"):
        read_checkpoint(broken)


def test_a_cached_hub_tag_resolves_open_clips_real_file_names(tmp_path, monkeypatch) -> None:
    """open_clip stores a hub tag as open_clip_model.safetensors or open_clip_pytorch_model.bin."""
    import huggingface_hub.constants

    from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG

    model = build_model(TINY_ARCHITECTURE, TINY_MODEL_CONFIG)
    snapshot = tmp_path / "models--acme--tiny" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (tmp_path / "models--acme--tiny" / "refs").mkdir()
    (tmp_path / "models--acme--tiny" / "refs" / "main").write_text("0123abcd")
    save_state_dict_file(model.state_dict(), snapshot / "open_clip_model.safetensors")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(open_clip, "get_pretrained_cfg", lambda *_: {"hf_hub": "acme/tiny/"})
    loaded = load_clip(ModelSpec(TINY_ARCHITECTURE, pretrained_tag="acme-tag", model_config=TINY_MODEL_CONFIG))
    assert torch.equal(loaded.model.visual.conv1.weight, model.visual.conv1.weight)


def test_gelu_and_quick_gelu_compute_different_functions_on_the_same_weights(original) -> None:
    """The guard the known answers rely on: a swapped activation is visible in the logits."""
    architecture, model, images, text, expected, _ = original
    swapped = build_model(architecture, quick_gelu=False).eval()
    swapped.load_state_dict(model.state_dict())
    assert not torch.allclose(_logits(swapped, images, text), expected, atol=1e-3)


def test_a_retrained_quick_gelu_model_reloads_as_quick_gelu(tmp_path) -> None:
    """The retrained file says in its header which activation it was trained with."""
    from robustness.engine.classifier import ZeroShotClassifier
    from robustness.engine.retrain_io import RetrainCard, write_outputs
    from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG

    spec = ModelSpec(TINY_ARCHITECTURE, model_config=TINY_MODEL_CONFIG, activation=QUICK_GELU)
    loaded = load_clip(spec)
    assert activation_of(loaded.model) == QUICK_GELU
    classifier = ZeroShotClassifier.from_loaded(loaded, ("red", "blue"), ("a {} square",))
    card = RetrainCard(method="tecoa", config={}, parent_checkpoint=None, parent_sha256=None, data_description="",
                       train_class_names=("red", "blue"), steps_done=0, resumed_from_step=0, final_loss=0.0,
                       anchor_expansion=None, device="cpu", wall_time_s=0.0, versions={})
    checkpoint, _, _ = write_outputs(classifier, loaded.model, card, tmp_path)
    again = load_clip(ModelSpec(TINY_ARCHITECTURE, checkpoint_path=checkpoint, model_config=TINY_MODEL_CONFIG))
    assert again.activation == QUICK_GELU and activation_of(again.model) == QUICK_GELU
    assert all(torch.equal(a, b) for a, b in zip(again.model.state_dict().values(),
                                                  loaded.model.state_dict().values(), strict=True))
    with pytest.raises(ModelConfigError, match="metadata says quick_gelu"):
        load_clip(ModelSpec(TINY_ARCHITECTURE, checkpoint_path=checkpoint, model_config=TINY_MODEL_CONFIG,
                            activation=GELU))
    plain = load_clip(ModelSpec(TINY_ARCHITECTURE, model_config=TINY_MODEL_CONFIG))
    assert plain.activation == GELU and activation_of(plain.model) == GELU


def test_a_checkpoint_of_another_width_is_a_checkpoint_error_not_an_assertion(tmp_path) -> None:
    """open_clip's resize asserts ("text pos_embed width changed!"); the loader answers in words."""
    from robustness.engine.tiny import TINY_ARCHITECTURE, TINY_MODEL_CONFIG

    wider = {**TINY_MODEL_CONFIG, "text_cfg": {**TINY_MODEL_CONFIG["text_cfg"],
                                               "width": TINY_MODEL_CONFIG["text_cfg"]["width"] * 2}}
    path = tmp_path / "wider.safetensors"
    save_state_dict_file(build_model("anchorage-tiny-wider-text", wider).state_dict(), path)
    with pytest.raises(CheckpointError, match="does not fit the architecture"):
        load_clip(ModelSpec(TINY_ARCHITECTURE, checkpoint_path=path, model_config=TINY_MODEL_CONFIG))
