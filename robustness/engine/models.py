"""Loading open_clip models from a local checkpoint or a locally cached pretrained tag.

open_clip builds the architecture; the weights always come through our own safe loader
(`checkpoints.read_checkpoint`). We never hand a file path to open_clip: its
`load_state_dict` falls back to an unrestricted ``torch.load`` when ``weights_only`` raises
``TypeError``, does not unwrap ``{"model": ...}`` training checkpoints, and would download a
pretrained tag that is not cached. Nothing here downloads: a tag resolves only from the
local cache (as if ``HF_HUB_OFFLINE=1``), or fails at once with `ModelConfigError`.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeAlias

import open_clip
import torch
from torch import Tensor

from robustness.engine.checkpoints import OPENAI_TORCHSCRIPT, CheckpointContents, read_checkpoint
from robustness.engine.errors import CheckpointError, ModelConfigError

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")
REQUIRED_CONFIG_KEYS = ("embed_dim", "vision_cfg", "text_cfg")
MAX_KEYS_IN_MESSAGE = 5
HF_WEIGHTS_NAME = "open_clip_pytorch_model.bin"  # open_clip.constants
HF_SAFE_WEIGHTS_NAME = "open_clip_model.safetensors"
GELU = "gelu"
QUICK_GELU = "quick_gelu"
ACTIVATIONS = (GELU, QUICK_GELU)

Tokenizer = Callable[..., Tensor]
# open_clip ships no type information, so this reads as Any to mypy; it names what we hold.
ClipModel: TypeAlias = "open_clip.CLIP | open_clip.CustomTextCLIP"


@dataclass(frozen=True)
class ModelSpec:
    """What to load: an open_clip architecture and where its weights come from.

    The two sources are kept apart (security review H-1): `checkpoint_path` is a local file
    that the caller has already vetted (an organisation's own upload, the demo model);
    `pretrained_tag` is only ever looked up as an open_clip tag of `architecture` ("openai",
    "laion2b_s34b_b79k", ...) whose weights must already be in the local cache, never as a
    path. At most one may be given; neither means random initialisation (tests).
    `model_config` is a custom open_clip config, registered under `architecture` before the
    model is built. `activation` is what the owner declares ("gelu" or "quick_gelu"); None
    lets the weights decide (see `activation_decide`).
    """

    architecture: str
    checkpoint_path: str | Path | None = None
    model_config: dict[str, Any] | None = None
    pretrained_tag: str | None = None
    activation: str | None = None


@dataclass(frozen=True)
class LoadedClip:
    """An fp32 open_clip model in eval mode plus what the zero-shot wrapper needs.

    `mean`/`std` are per-channel normalisation constants for images in [0, 1];
    `image_size` is the square side the vision tower expects. `activation` is the one the
    model was built with and `checkpoint_format` the format its weights came in ("none" for
    random weights).
    """

    model: ClipModel
    tokenizer: Tokenizer
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    activation: str = GELU
    checkpoint_format: str = "none"


def load_clip(spec: ModelSpec, device: str | torch.device = "cpu") -> LoadedClip:
    """Build `spec.architecture` with open_clip and load its weights safely.

    Raises `ModelConfigError` for an unknown architecture, invalid config, uncached tag or an
    activation that the architecture, tag, checkpoint and declaration disagree on, and
    `CheckpointError` for an unsafe or mismatching checkpoint.
    """
    preprocess_override: dict[str, Any] = {}
    checkpoint: Path | None = None
    tag_config: Mapping[str, Any] | None = None
    if spec.model_config is not None:
        register_model_config(spec.architecture, spec.model_config)
    _require_known_architecture(spec.architecture)
    if spec.checkpoint_path and spec.pretrained_tag:
        raise ModelConfigError("give a checkpoint file or a pretrained tag, not both")
    if spec.checkpoint_path:
        checkpoint = Path(spec.checkpoint_path)
        if not checkpoint.is_file():
            raise CheckpointError(f"checkpoint file not found: {checkpoint.name}")
    elif spec.pretrained_tag:
        checkpoint, preprocess_override, tag_config = _resolve_pretrained(spec.architecture, spec.pretrained_tag)
    contents = read_checkpoint(checkpoint) if checkpoint is not None else None
    activation = activation_decide(spec.architecture, declared=spec.activation, contents=contents,
                                   tag=(spec.pretrained_tag, tag_config) if tag_config is not None else None)
    model = build_model(spec.architecture, preprocess_override=preprocess_override,
                        quick_gelu=activation == QUICK_GELU)
    if checkpoint is not None and contents is not None:
        _check_openai_integers(model, contents, checkpoint.name)
        load_weights_into(model, _without_script_only_buffers(model, contents), source=checkpoint.name)
    model = model.to(device).eval()
    return LoadedClip(model=model, tokenizer=_tokenizer(spec.architecture), **_preprocess(model),
                      activation=activation, checkpoint_format=contents.source_format if contents else "none")


def activation_decide(architecture: str, *, declared: str | None = None,
                      contents: CheckpointContents | None = None,
                      tag: tuple[str | None, Mapping[str, Any]] | None = None) -> str:
    """GELU or QuickGELU, from every source that knows, refusing when they disagree.

    The sources: the owner's declaration; an architecture whose config sets ``quick_gelu``
    (open_clip's "-quickgelu" names); a pretrained tag's config; an OpenAI-format checkpoint
    (OpenAI trained every CLIP with QuickGELU) or our own safetensors metadata. With no
    source, the architecture's default (GELU) holds. open_clip itself only warns on a tag
    mismatch and drops the flag when weights are loaded from a file (its issue #771).
    """
    if declared is not None and declared not in ACTIVATIONS:
        raise ModelConfigError(f"unknown activation {declared!r}; choose {' or '.join(ACTIVATIONS)}")
    evidence: list[tuple[str, str]] = []
    if declared is not None:
        evidence.append((f"the model version declares {declared}", declared))
    if (open_clip.get_model_config(architecture) or {}).get("quick_gelu"):
        evidence.append((f"architecture {architecture} is a QuickGELU configuration", QUICK_GELU))
    if tag is not None:
        name, config = tag
        value = QUICK_GELU if config.get("quick_gelu") else GELU
        evidence.append((f"pretrained tag {name!r} was trained with {value}", value))
    if contents is not None and contents.is_openai:
        evidence.append((f"the checkpoint is in OpenAI's format ({contents.source_format}), trained with "
                         f"{QUICK_GELU}", QUICK_GELU))
    if contents is not None and contents.activation is not None:
        evidence.append((f"the checkpoint's metadata says {contents.activation}", contents.activation))
    values = {value for _, value in evidence}
    if len(values) > 1:
        raise ModelConfigError(
            "the activation is ambiguous: " + "; ".join(reason for reason, _ in evidence)
            + ". Choose the architecture (or the declared activation) that matches how the weights were trained; "
            "a model run with the wrong one computes a different function.")
    return values.pop() if values else GELU


def activation_of(module: torch.nn.Module) -> str | None:
    """The transformer activation a built module runs: QuickGELU, GELU, or None (a ResNet tower)."""
    from open_clip.transformer import QuickGELU

    layers = list(module.modules())
    if any(isinstance(layer, QuickGELU) for layer in layers):
        return QUICK_GELU
    if any(isinstance(layer, torch.nn.GELU) for layer in layers):
        return GELU
    return None


def build_model(
    architecture: str,
    model_config: Mapping[str, Any] | None = None,
    *,
    preprocess_override: Mapping[str, Any] | None = None,
    quick_gelu: bool = False,
) -> ClipModel:
    """A randomly initialised fp32 CPU open_clip model (registering `model_config` first)."""
    if model_config is not None:
        register_model_config(architecture, model_config)
    _require_known_architecture(architecture)
    try:
        # pretrained_text=False: HF text towers would otherwise fetch base weights.
        return open_clip.create_model(
            architecture,
            pretrained=None,
            pretrained_image=False,
            pretrained_text=False,
            force_quick_gelu=quick_gelu,
            force_preprocess_cfg=dict(preprocess_override or {}),
        )
    except (TypeError, ValueError, KeyError, RuntimeError, AssertionError) as error:
        raise ModelConfigError(f"open_clip cannot build architecture {architecture!r}: {error}") from error


def _without_script_only_buffers(model: ClipModel, contents: CheckpointContents) -> dict[str, Tensor]:
    """A TorchScript archive keeps every buffer, non-persistent ones (open_clip's ``attn_mask``) too.

    Those are rebuilt by the architecture, not loaded, so they are dropped from an archive's
    tensors; any other key still has to match.
    """
    if contents.source_format != OPENAI_TORCHSCRIPT:
        return contents.tensors
    persistent = set(model.state_dict())
    transient = {name for name, _ in model.named_buffers() if name not in persistent}
    return {name: tensor for name, tensor in contents.tensors.items() if name not in transient}


def checkpoint_shapes_check(architecture: str, model_config: Mapping[str, Any] | None,
                            shapes: Mapping[str, tuple[int, ...]] | None, *, source: str) -> None:
    """Refuse, before any weight is read, a checkpoint whose names and shapes do not fit `architecture`.

    The architecture is built on the meta device (no memory, milliseconds even for ViT-L/14). The
    positional embeddings may differ in length (the loader resizes them); anything else must match.
    Raises `ModelConfigError` for an unknown architecture, `CheckpointError` naming the keys. With
    `shapes` None only the architecture is checked.
    """
    if model_config is not None:
        register_model_config(architecture, model_config)
    _require_known_architecture(architecture)
    with torch.device("meta"):
        try:
            model = open_clip.create_model(architecture, pretrained=None, pretrained_image=False,
                                           pretrained_text=False, device="meta")
        except (TypeError, ValueError, KeyError, RuntimeError, AssertionError) as error:
            raise ModelConfigError(f"open_clip cannot build architecture {architecture!r}: {error}") from error
    if shapes is None:  # the architecture alone
        return
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    given = {name.removeprefix("module."): tuple(shape) for name, shape in shapes.items()}
    problems = _mismatches(expected, given, _shapes_fit)
    if problems:
        raise CheckpointError(f"{source} is not a checkpoint of {architecture}: {problems}")


def _shapes_fit(name: str, given: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    if given == expected:
        return True
    if name == "logit_scale":
        return int(torch.Size(given).numel()) == int(torch.Size(expected).numel()) == 1
    if name.endswith("positional_embedding") and len(given) == len(expected):
        return given[1:] == expected[1:]  # a longer or shorter sequence is resized on load
    return False


def _check_openai_integers(model: ClipModel, contents: CheckpointContents, source: str) -> None:
    """OpenAI's integers must describe the model they are loaded into."""
    actual = {"context_length": getattr(model, "context_length", None),
              "vocab_size": getattr(model, "vocab_size", None),
              "input_resolution": _preprocess(model)["image_size"]}
    wrong = [f"{key} {value} (the architecture has {actual[key]})" for key, value in contents.openai_integers.items()
             if actual.get(key) is not None and actual[key] != value]
    if wrong:
        raise CheckpointError(f"checkpoint {source} was saved for another architecture: " + ", ".join(wrong))


def register_model_config(architecture: str, model_config: Mapping[str, Any]) -> None:
    """Register a custom open_clip config under `architecture` (idempotent).

    open_clip's registry is filled from JSON files, so the config is written to a
    per-process folder that `open_clip.add_model_config` scans.
    """
    missing = [key for key in REQUIRED_CONFIG_KEYS if key not in model_config]
    if missing:
        raise ModelConfigError(f"model config for {architecture!r} lacks {', '.join(missing)}")
    if not architecture or "/" in architecture or architecture.startswith((".", "hf-hub:", "local-dir:")):
        raise ModelConfigError(f"invalid architecture name for a custom config: {architecture!r}")
    existing = open_clip.get_model_config(architecture)
    if existing is not None and existing == json.loads(json.dumps(dict(model_config))):
        return
    if existing is not None and architecture not in _registered_names():
        raise ModelConfigError(f"{architecture!r} is a built-in open_clip architecture; choose another name")
    config_dir = _custom_config_dir()
    (config_dir / f"{architecture}.json").write_text(json.dumps(dict(model_config)))
    _registered_names().add(architecture)
    open_clip.add_model_config(config_dir)


def load_weights_into(model: ClipModel, state_dict: dict[str, Tensor], *, source: str) -> None:
    """Load `state_dict` strictly, after open_clip's format conversions.

    Raises `CheckpointError` naming the missing, unexpected and wrongly shaped keys.
    """
    from open_clip.convert import convert_state_dict
    from open_clip.model import convert_to_custom_text_state_dict, resize_pos_embed, resize_text_pos_embed

    state_dict = convert_state_dict(model, dict(state_dict))
    if "positional_embedding" in state_dict and not hasattr(model, "positional_embedding"):
        state_dict = convert_to_custom_text_state_dict(state_dict)
    if "logit_scale" in state_dict and state_dict["logit_scale"].ndim != model.logit_scale.ndim:
        state_dict["logit_scale"] = state_dict["logit_scale"].reshape(model.logit_scale.shape)
    try:
        resize_pos_embed(state_dict, model)
        resize_text_pos_embed(state_dict, model)
    except (AssertionError, RuntimeError, ValueError) as error:  # e.g. "text pos_embed width changed!"
        raise CheckpointError(f"checkpoint {source} does not fit the architecture: its positional embeddings "
                              f"have another width ({error or 'shapes differ'})") from error
    _check_state_dict_matches(model, state_dict, source)
    model.load_state_dict(state_dict, strict=True)


def _check_state_dict_matches(model: ClipModel, state_dict: Mapping[str, Tensor], source: str) -> None:
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    given = {name: tuple(tensor.shape) for name, tensor in state_dict.items()}
    problems = _mismatches(expected, given, lambda _name, found, wanted: found == wanted)
    if problems:
        raise CheckpointError(f"checkpoint {source} does not fit the architecture: {problems}")


def _mismatches(expected: Mapping[str, tuple[int, ...]], given: Mapping[str, tuple[int, ...]],
                fits: Callable[[str, tuple[int, ...], tuple[int, ...]], bool]) -> str:
    """The missing, unexpected and wrongly shaped keys, a few of each named ("" when all fit)."""
    missing, unexpected = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
    wrong = [f"{name} (checkpoint {given[name]}, model {expected[name]})" for name in sorted(set(expected) & set(given))
             if not fits(name, given[name], expected[name])]
    problems = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong)):
        if keys:
            more = f" and {len(keys) - MAX_KEYS_IN_MESSAGE} more" if len(keys) > MAX_KEYS_IN_MESSAGE else ""
            problems.append(f"{len(keys)} {label}: {', '.join(keys[:MAX_KEYS_IN_MESSAGE])}{more}")
    return "; ".join(problems)


def _require_known_architecture(architecture: str) -> None:
    known = open_clip.list_models()
    if architecture not in known:
        close = difflib.get_close_matches(architecture, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ModelConfigError(f"unknown open_clip architecture {architecture!r}{hint}")


def _resolve_pretrained(architecture: str, tag: str) -> tuple[Path, dict[str, Any], Mapping[str, Any]]:
    """The cached file of an open_clip pretrained tag, its preprocessing and its config.

    The tag is only ever looked up among open_clip's own tags of `architecture`; it is never
    turned into a path, so a tag cannot name a file on the worker (H-1).
    """
    known = open_clip.list_pretrained_tags_by_model(architecture)
    tag_config = open_clip.get_pretrained_cfg(architecture, tag) if is_plain_tag(tag) else None
    if not tag_config:
        raise ModelConfigError(
            f"{tag!r} is not a pretrained tag of {architecture!r} (known tags: {', '.join(known) or 'none'})"
        )
    preprocess = {key: tag_config[key] for key in ("mean", "std") if key in tag_config}
    return _cached_tag_file(architecture, tag, tag_config), preprocess, tag_config


def is_plain_tag(tag: str) -> bool:
    """A tag is a bare name: no path separator, no parent reference, no checkpoint suffix."""
    return bool(tag) and not any(mark in tag for mark in ("/", "\\", "..", "\0", ":")) and not (
        tag.lower().endswith(CHECKPOINT_SUFFIXES))


def _cached_tag_file(architecture: str, tag: str, tag_config: Mapping[str, Any]) -> Path:
    """The cached weights of a tag; looks only at the disk (never the network)."""
    candidates: list[Path] = []
    if tag_config.get("hf_hub"):
        candidates += _hf_cache_candidates(str(tag_config["hf_hub"]))
    if tag_config.get("url"):
        clip_cache = Path(os.path.expanduser("~/.cache/clip"))
        candidates.append(clip_cache / os.path.basename(str(tag_config["url"])))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ModelConfigError(
        f"pretrained tag {tag!r} of {architecture!r} is not in the local cache and Anchorage never "
        "downloads weights; upload the checkpoint file instead, or place it in the open_clip / "
        "Hugging Face cache on the worker"
    )


def _hf_cache_candidates(hf_hub: str) -> list[Path]:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return []
    repo_id, filename = os.path.split(hf_hub)
    names = _hub_file_names(filename)
    found = [try_to_load_from_cache(repo_id=repo_id, filename=name) for name in names]
    return [Path(path) for path in found if isinstance(path, str)]


def _hub_file_names(filename: str) -> list[str]:
    """The names open_clip stores a hub tag's weights under, safetensors first (as it prefers).

    No file name means open_clip's default `open_clip_pytorch_model.bin`, whose safetensors
    twin is `open_clip_model.safetensors`; another `.bin`/`.pth` name has its twin beside it.
    """
    if not filename or filename == HF_WEIGHTS_NAME:
        return [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME]
    if filename.endswith((".bin", ".pth")):
        return [filename[:-4] + ".safetensors", filename]
    return [filename]


def _tokenizer(architecture: str) -> Tokenizer:
    try:
        tokenizer: Tokenizer = open_clip.get_tokenizer(architecture)
        return tokenizer
    except (OSError, ValueError, RuntimeError) as error:
        raise ModelConfigError(f"no offline tokenizer for {architecture!r}: {error}") from error


def _preprocess(model: ClipModel) -> dict[str, Any]:
    config = open_clip.get_model_preprocess_cfg(model)
    size = config.get("size", getattr(model.visual, "image_size", 224))
    side = size if isinstance(size, int) else size[0]
    if not isinstance(size, int) and size[0] != size[1]:
        raise ModelConfigError(f"only square image sizes are supported, got {tuple(size)}")
    mean = tuple(float(v) for v in config.get("mean", open_clip.OPENAI_DATASET_MEAN))
    std = tuple(float(v) for v in config.get("std", open_clip.OPENAI_DATASET_STD))
    return {"image_size": int(side), "mean": mean, "std": std}


@lru_cache(maxsize=1)
def _custom_config_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="anchorage-open-clip-configs-"))


@lru_cache(maxsize=1)
def _registered_names() -> set[str]:
    return set()
