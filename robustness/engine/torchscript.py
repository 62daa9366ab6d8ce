"""A restricted reader of TorchScript archives (OpenAI's CLIP `.pt` files): tensors only, no code.

`torch.jit.load` would compile and run the archive's TorchScript, and `torch.load` refuses the
format with ``weights_only=True``. An archive is a zip: ``<name>/data.pkl`` pickles the module
tree, ``<name>/data/<key>`` holds the raw bytes of each storage, and ``<name>/code/`` holds the
class definitions as TorchScript source. We read them as data:

- ``data.pkl`` goes through an unpickler whose `find_class` answers only tensor rebuilding,
  storage types, ``OrderedDict`` and the archive's own ``__torch__`` module classes (each becomes
  an inert `ScriptModuleState` that only stores its attribute dict); any other global is refused.
- which attributes are parameters and buffers is read from the ``__parameters__`` and
  ``__buffers__`` lines of the class definitions, as text (never compiled), so plain tensor
  attributes (OpenAI's ``attn_mask``) stay out of the state dict, as in ``module.state_dict()``.
- integer attributes of the root module (``input_resolution``, ``context_length``,
  ``vocab_size``) are returned beside the tensors.
"""

from __future__ import annotations

import ast
import pickle
import re
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch
from torch import Tensor

from robustness.engine.errors import CheckpointError

STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "DoubleStorage": torch.float64,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}
MANGLE = re.compile(r"\.___torch_mangle_\d+")
CLASS_LINE = re.compile(r"^class (\w+)\(Module\):\s*$")
LIST_LINE = re.compile(r"^\s+(__parameters__|__buffers__) = (\[.*\])\s*$")


class ScriptModuleState:
    """One module of the archive's tree: its qualified class name and pickled attribute dict.

    The unpickler makes one inert subclass per ``__torch__`` class name (NEWOBJ needs a type);
    BUILD hands it the attribute dict, and nothing else ever runs.
    """

    qualified_name = ""

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("the TorchScript archive holds a module with custom state; only plain "
                                         "modules can be read")
        self.attributes = state

    @property
    def state(self) -> dict[str, Any]:
        return dict(getattr(self, "attributes", {}))


@dataclass(frozen=True)
class TorchScriptContents:
    """The tensors of an archive's parameters and buffers by dotted name, and the root's integers."""

    tensors: dict[str, Tensor]
    integers: dict[str, int]


def is_torchscript_archive(path: str | Path) -> bool:
    """A zip whose first folder has ``constants.pkl`` and ``code/`` (how TorchScript saves)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    prefix = _prefix(names)
    return prefix is not None and f"{prefix}constants.pkl" in names and any(
        name.startswith(f"{prefix}code/") for name in names)


def read_torchscript(path: str | Path) -> TorchScriptContents:
    """Read an archive's parameters and buffers without compiling or running anything in it."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            prefix = _prefix(names)
            if prefix is None or f"{prefix}data.pkl" not in names:
                raise CheckpointError(f"{path.name} is not a TorchScript archive")
            if f"{prefix}byteorder" in names and archive.read(f"{prefix}byteorder").strip() != b"little":
                raise CheckpointError(f"{path.name} was saved on a big-endian machine; convert it first")
            kinds = _tensor_attributes(archive, prefix, names)
            with archive.open(f"{prefix}data.pkl") as handle:
                root = _ArchiveUnpickler(handle, archive, prefix).load()
    except (zipfile.BadZipFile, OSError, EOFError, pickle.UnpicklingError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path.name} is not a readable TorchScript archive: {error}") from error
    if not isinstance(root, ScriptModuleState):
        raise CheckpointError(f"{path.name}: the archive's data is not a module")
    tensors: dict[str, Tensor] = {}
    _collect(root, "", kinds, tensors)
    integers = {name: value for name, value in root.state.items()
                if isinstance(value, int) and not isinstance(value, bool)}
    return TorchScriptContents(tensors=tensors, integers=integers)


def _prefix(names: list[str]) -> str | None:
    first = names[0].split("/", 1)[0] if names else ""
    return f"{first}/" if first and all(name.startswith(f"{first}/") for name in names) else None


def _tensor_attributes(archive: zipfile.ZipFile, prefix: str, names: list[str]) -> dict[str, set[str]]:
    """{qualified class name without mangling: names of its parameters and buffers}, read as text."""
    kinds: dict[str, set[str]] = {}
    code = f"{prefix}code/"
    for name in names:
        if not (name.startswith(code) and name.endswith(".py")):
            continue
        module = name[len(code):-len(".py")].replace("/", ".")
        current: str | None = None
        for line in archive.read(name).decode("utf-8", errors="replace").splitlines():
            if match := CLASS_LINE.match(line):
                current = MANGLE.sub("", f"{module}.{match.group(1)}")
                kinds.setdefault(current, set())
            elif current and (match := LIST_LINE.match(line)):
                listed = ast.literal_eval(match.group(2))
                kinds[current].update(str(item) for item in listed)
    return kinds


def _collect(module: ScriptModuleState, prefix: str, kinds: Mapping[str, set[str]], out: dict[str, Tensor]) -> None:
    declared = kinds.get(MANGLE.sub("", module.qualified_name))
    if declared is None:
        raise CheckpointError(f"the archive does not define class {module.qualified_name}")
    for name, value in module.state.items():
        if isinstance(value, ScriptModuleState):
            _collect(value, f"{prefix}{name}.", kinds, out)
        elif isinstance(value, Tensor) and name in declared:
            out[f"{prefix}{name}"] = value


class _ArchiveUnpickler(pickle.Unpickler):
    """Rebuilds tensors from the archive's storages; refuses every global outside its short list."""

    def __init__(self, handle: IO[bytes], archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(handle)
        self._archive = archive
        self._prefix = prefix
        self._storages: dict[str, Tensor] = {}
        self._classes: dict[str, type[ScriptModuleState]] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            qualified = f"{module}.{name}"
            if qualified not in self._classes:
                self._classes[qualified] = type(name, (ScriptModuleState,), {"qualified_name": qualified})
            return self._classes[qualified]
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return lambda data, requires_grad, hooks, *rest: data
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        raise pickle.UnpicklingError(f"refused global {module}.{name}: the archive may only hold modules and "
                                     "tensors")

    def persistent_load(self, pid: Any) -> Tensor:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        _, dtype, key, _location, numel = pid
        if not isinstance(dtype, torch.dtype) or not isinstance(key, str) or not isinstance(numel, int):
            raise pickle.UnpicklingError(f"malformed storage reference {pid!r}")
        if key not in self._storages:
            raw = bytearray(self._archive.read(f"{self._prefix}data/{key}"))
            expected = numel * torch.empty((), dtype=dtype).element_size()
            if len(raw) != expected:
                raise pickle.UnpicklingError(f"storage {key} holds {len(raw)} bytes, expected {expected}")
            self._storages[key] = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        return self._storages[key]


def _rebuild_tensor(storage: Tensor, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                    requires_grad: bool, hooks: object, *metadata: object) -> Tensor:
    if not isinstance(storage, Tensor):
        raise pickle.UnpicklingError("a tensor without a storage")
    needed = offset + sum((extent - 1) * step for extent, step in zip(size, stride, strict=True)) + 1
    if size and min(size) > 0 and needed > storage.numel():
        raise pickle.UnpicklingError("a tensor reaches past the end of its storage")
    return storage.as_strided(size, stride, offset).clone()
