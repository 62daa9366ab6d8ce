"""Safe checkpoint loading and hashing.

A checkpoint is untrusted input (a risk officer uploads it through a web form), so it is
never unpickled: `.pt`/`.pth`/`.bin` files go through ``torch.load(weights_only=True)``,
which only rebuilds tensors and plain containers and refuses any other global, and
`.safetensors` files hold no code at all; OpenAI's TorchScript `.pt` archives go through the
restricted reader of `torchscript`, which compiles and runs nothing. Anything else is a
`CheckpointError`.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from robustness.engine.errors import CheckpointError
from robustness.engine.torchscript import is_torchscript_archive, read_torchscript

SAFETENSORS_SUFFIX = ".safetensors"
# Training scripts nest the weights under one of these keys (open_clip: "state_dict").
NESTED_STATE_DICT_KEYS = ("state_dict", "model", "model_state_dict")
DATA_PARALLEL_PREFIX = "module."
PICKLE_PROTO_OPCODE = b"\x80"
# OpenAI's CLIP state dicts carry three integers beside the weights (open_clip drops them).
OPENAI_INTEGER_KEYS = ("input_resolution", "context_length", "vocab_size")
STATE_DICT = "state_dict"
OPENAI_STATE_DICT = "openai_state_dict"
OPENAI_TORCHSCRIPT = "openai_torchscript"
# The activation a model was trained with, in the header of the safetensors files we write.
ACTIVATION_METADATA_KEY = "anchorage.activation"


@dataclass(frozen=True)
class CheckpointContents:
    """A checkpoint's tensors, the format they came in, and OpenAI's integers when present.

    `source_format` is `STATE_DICT` (open_clip safetensors/bin/pt, training checkpoints),
    `OPENAI_STATE_DICT` (a state dict with OpenAI's integer keys) or `OPENAI_TORCHSCRIPT`
    (OpenAI's `.pt` archive). Both OpenAI formats mean the weights were trained with QuickGELU.
    `activation` is what a safetensors header of ours says the weights were trained with.
    """

    tensors: dict[str, Tensor]
    source_format: str
    openai_integers: dict[str, int]
    activation: str | None = None

    @property
    def is_openai(self) -> bool:
        return self.source_format in (OPENAI_STATE_DICT, OPENAI_TORCHSCRIPT)


def sha256_file(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (checkpoints can be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_state_dict_file(path: str | Path) -> dict[str, Tensor]:
    """Load a state dict without executing code: {parameter name: CPU tensor} (see `read_checkpoint`)."""
    return read_checkpoint(path).tensors


def read_checkpoint(path: str | Path) -> CheckpointContents:
    """Read a checkpoint without executing code, in any of the formats CLIP users have.

    Accepts a plain state dict (`.pt`, `.pth`, `.bin`), a training checkpoint with the
    weights under "state_dict" / "model" / "model_state_dict", a `.safetensors` file, OpenAI's
    state dict (with its integer keys) and OpenAI's TorchScript archive. "module." prefixes
    (DataParallel/DDP) are stripped. Raises `CheckpointError` when the file is missing,
    unreadable, contains pickled objects other than tensors, or holds no tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}")
    if path.suffix == SAFETENSORS_SUFFIX:
        stored, metadata = _load_safetensors(path)
        return CheckpointContents(_normalise_state_dict(stored, path), STATE_DICT, {},
                                  activation=metadata.get(ACTIVATION_METADATA_KEY))
    if is_torchscript_archive(path):
        archive = read_torchscript(path)
        entries: dict[str, object] = dict(archive.tensors)
        integers = {**archive.integers, **_pop_openai_integers(entries, path)}
        return CheckpointContents(_normalise_state_dict(entries, path), OPENAI_TORCHSCRIPT,
                                  {key: integers[key] for key in OPENAI_INTEGER_KEYS if key in integers})
    raw = dict(_unwrap_training_checkpoint(_load_torch_weights_only(path), path))
    integers = _pop_openai_integers(raw, path)
    return CheckpointContents(_normalise_state_dict(raw, path), OPENAI_STATE_DICT if integers else STATE_DICT,
                              integers)


def _pop_openai_integers(raw: dict[str, object], path: Path) -> dict[str, int]:
    """Remove OpenAI's integer entries (plain ints or 0-d integer tensors) and return them."""
    found: dict[str, int] = {}
    for key in OPENAI_INTEGER_KEYS:
        if key not in raw:
            continue
        value = raw.pop(key)
        if isinstance(value, Tensor) and value.ndim == 0 and not value.is_floating_point():
            value = int(value.item())
        if not isinstance(value, int) or isinstance(value, bool):
            raise CheckpointError(f"{path.name}: {key!r} should be an integer, found a {type(value).__name__}")
        found[key] = value
    return found


def save_state_dict_file(state_dict: Mapping[str, Tensor], path: str | Path, *, activation: str | None = None) -> str:
    """Write a state dict as `.safetensors` (no pickle) and return its SHA-256.

    `activation` ("gelu" / "quick_gelu") goes into the header, so that the file alone says how
    the model must be built when it is loaded again.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != SAFETENSORS_SUFFIX:
        raise CheckpointError(f"save_state_dict_file writes {SAFETENSORS_SUFFIX} files, got {path.name}")
    # safetensors refuses shared storage; a clone per tensor makes every entry its own.
    tensors = {name: tensor.detach().cpu().contiguous().clone() for name, tensor in state_dict.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={ACTIVATION_METADATA_KEY: activation} if activation else None)
    return sha256_file(path)


def _load_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
        return load_file(str(path), device="cpu"), metadata
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path.name} is not a readable safetensors file: {error}") from error


def _load_torch_weights_only(path: Path) -> object:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # torch raises UnpicklingError("Weights only load failed ...") for any global
        # outside its allow-list, and for opcodes it does not implement: nothing ran.
        if _is_pickled_code(path, str(error)):
            raise CheckpointError(
                f"refused to load {path.name}: it contains pickled Python objects other than "
                f"tensors{_blocked_global(str(error))}, which could run arbitrary code. Save only the "
                "model's state_dict (torch.save(model.state_dict(), path)) or use .safetensors."
            ) from error
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint") from error
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint: {error}") from error


def _is_pickled_code(path: Path, message: str) -> bool:
    """A blocked global, or a raw pickle stream (PROTO opcode 0x80) torch cannot vet."""
    if "GLOBAL" in message:
        return True
    with open(path, "rb") as handle:
        return handle.read(1) == PICKLE_PROTO_OPCODE


def _blocked_global(message: str) -> str:
    match = re.search(r"GLOBAL ([\w.]+)", message)
    return f" ({match.group(1)})" if match else ""


def _unwrap_training_checkpoint(raw: object, path: Path) -> Mapping[str, object]:
    if not isinstance(raw, Mapping):
        raise CheckpointError(
            f"{path.name} holds a {type(raw).__name__}, expected a state dict (a mapping of names to tensors)"
        )
    for key in NESTED_STATE_DICT_KEYS:
        nested = raw.get(key)
        if isinstance(nested, Mapping):
            return nested
    return raw


def _normalise_state_dict(raw: Mapping[str, object], path: Path) -> dict[str, Tensor]:
    tensors: dict[str, Tensor] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not isinstance(value, Tensor):
            raise CheckpointError(
                f"{path.name}: entry {name!r} is a {type(value).__name__}, expected a tensor; "
                "is this a state dict?"
            )
        tensors[name.removeprefix(DATA_PARALLEL_PREFIX)] = value
    if not tensors:
        raise CheckpointError(f"{path.name} contains no tensors")
    return tensors
