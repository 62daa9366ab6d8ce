"""What can be checked at once when a file is uploaded: type, size, zip structure, class count.

Runs in the web request (form and API alike) and reads only the zip's central directory —
nothing is decompressed or extracted. The full, hostile-input-proof check (decoding every
image, loading the checkpoint) runs later on a worker through the engine.
"""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files import File

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "__MACOSX"})
CLASSES_FILE = "classes.json"
MAX_DATASET_FILES = 50_000
MAX_UNCOMPRESSED_BYTES = 1 << 30
MODEL_CONFIG_KEYS = ("embed_dim", "vision_cfg", "text_cfg")


class UploadError(ValueError):
    """The upload is refused; the message says why, in words the uploader can act on. `field`: the form
    field at fault where the check knows it ("" lets the caller decide)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int


@dataclass(frozen=True)
class ZipSummary:
    class_folders: tuple[str, ...]
    image_count: int


def max_upload_bytes() -> int:
    return int(getattr(settings, "MAX_UPLOAD_BYTES", 512 * 1024 * 1024))


def file_facts(handle: Any) -> FileFacts:
    """SHA-256 and size, read in chunks (an UploadedFile or any binary file object)."""
    digest, size = hashlib.sha256(), 0
    chunks = handle.chunks() if hasattr(handle, "chunks") else iter(lambda: handle.read(1 << 20), b"")
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return FileFacts(sha256=digest.hexdigest(), size=size)


def _size_check(name: str, size: int) -> None:
    if size == 0:
        raise UploadError(f"{name} is empty.")
    limit = max_upload_bytes()
    if size > limit:
        raise UploadError(f"{name} is {size:,} bytes; the limit is {limit:,} bytes.")


def checkpoint_check(upload: Any) -> None:
    name = getattr(upload, "name", "checkpoint")
    if not name.lower().endswith(CHECKPOINT_SUFFIXES):
        raise UploadError(f"{name}: a checkpoint must be one of {', '.join(CHECKPOINT_SUFFIXES)}.")
    _size_check(name, upload.size)


PRETRAINED_TAG_REFUSED = ("Not a pretrained tag of this architecture known to open_clip. Name one of its tags "
                          "(for example 'openai' for ViT-B-32), or upload the checkpoint file instead.")


def pretrained_tag_check(tag: str, architecture: str) -> str:
    """A pretrained tag is only ever an open_clip tag of `architecture`, never a path (review H-1).

    Every refusal gives the same message, so the answer says nothing about the worker's files.
    """
    tag = (tag or "").strip()
    if not tag:
        return ""
    import open_clip  # heavy (torch); only needed when a tag is named

    try:
        known = open_clip.list_pretrained_tags_by_model(architecture)
    except Exception:  # an unknown architecture has no tags
        known = []
    if tag not in known:
        raise UploadError(PRETRAINED_TAG_REFUSED)
    return tag


# Quick checks an installed lab adds (robustness.apps registers one): called with the architecture, the
# model config and the checkpoint upload (or None), each raises UploadError with the reason. Governance sits
# below the lab and cannot import it, so the lab plugs its knowledge of architectures in here.
MODEL_PRECHECKS: list[Callable[[str, Any, Any], None]] = []


def model_precheck(architecture: str, model_config: Any, checkpoint: Any) -> None:
    """Refuse at upload what can be refused at once: an unknown architecture, weights that do not fit it."""
    for check in MODEL_PRECHECKS:
        check(architecture, model_config, checkpoint)


def model_config_check(config: Any) -> None:
    if config is None:
        return
    if not isinstance(config, dict):
        raise UploadError("The model config must be a JSON object (an open_clip model config).")
    missing = [key for key in MODEL_CONFIG_KEYS if key not in config]
    if missing:
        raise UploadError(f"The model config lacks {', '.join(missing)} (an open_clip config needs "
                          f"{', '.join(MODEL_CONFIG_KEYS)}).")


def class_names_check(names: Any) -> list[str]:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise UploadError("Class names must be a list of text.")
    cleaned = [name.strip() for name in names if name.strip()]
    if len(cleaned) < 2:
        raise UploadError("Give at least two class names: zero-shot classification chooses between classes.")
    if len(set(cleaned)) != len(cleaned):
        raise UploadError("Class names must be unique.")
    return cleaned


def prompt_templates_check(templates: Any) -> list[str]:
    if not isinstance(templates, list) or not all(isinstance(item, str) for item in templates):
        raise UploadError("Prompt templates must be a list of text.")
    cleaned = [item.strip() for item in templates if item.strip()]
    if not cleaned:
        raise UploadError("Give at least one prompt template, e.g. 'a photo of a {}.'.")
    for template in cleaned:
        if "{}" not in template and "{c}" not in template:
            raise UploadError(f"Prompt template {template!r} has no '{{}}' placeholder for the class name.")
    return cleaned


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UploadError(f"{name}: symbolic links are not allowed in a dataset archive.")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or "\\" in name:
        raise UploadError(f"{name}: absolute or Windows paths are not allowed in a dataset archive.")
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise UploadError(f"{name}: '..' path components are not allowed (path traversal).")
    return PurePosixPath(*[part for part in parts if part != "."])


def _strip_top_folder(paths: list[PurePosixPath]) -> list[PurePosixPath]:
    tops = {path.parts[0] for path in paths}
    if len(tops) == 1 and all(len(path.parts) >= 3 or path.name == CLASSES_FILE for path in paths):
        return [PurePosixPath(*path.parts[1:]) for path in paths if len(path.parts) > 1]
    return paths


def dataset_zip_check(upload: File) -> ZipSummary:
    """An ImageFolder zip: `<class>/<image>` (optionally under one top folder), two classes or more."""
    name = getattr(upload, "name", "dataset")
    if not name.lower().endswith(".zip"):
        raise UploadError(f"{name}: upload the evaluation data as a .zip of class folders (ImageFolder layout).")
    _size_check(name, upload.size)
    try:
        with zipfile.ZipFile(upload) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
    except zipfile.BadZipFile:
        raise UploadError(f"{name} is not a valid zip archive.") from None
    finally:
        upload.seek(0)
    if len(infos) > MAX_DATASET_FILES:
        raise UploadError(f"{name} holds {len(infos):,} files; the limit is {MAX_DATASET_FILES:,}.")
    if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED_BYTES:
        raise UploadError(f"{name} unpacks to more than {MAX_UNCOMPRESSED_BYTES:,} bytes.")
    paths = [_member_path(info) for info in infos]
    paths = [path for path in paths if not any(p in IGNORED_NAMES or p.startswith("._") for p in path.parts)]
    return _structure(name, _strip_top_folder(paths))


def _structure(name: str, paths: list[PurePosixPath]) -> ZipSummary:
    folders: dict[str, int] = {}
    for path in paths:
        if path == PurePosixPath(CLASSES_FILE):
            continue
        if len(path.parts) != 2:
            raise UploadError(f"{name}: {path} is not <class folder>/<image file>; images must sit directly "
                              "in one folder per class.")
        if not path.name.lower().endswith(IMAGE_SUFFIXES):
            raise UploadError(f"{name}: {path} is not an image ({', '.join(IMAGE_SUFFIXES)}).")
        folders[path.parts[0]] = folders.get(path.parts[0], 0) + 1
    if len(folders) < 2:
        raise UploadError(f"{name}: found {len(folders)} class folder(s); a dataset needs at least two classes.")
    return ZipSummary(class_folders=tuple(sorted(folders)), image_count=sum(folders.values()))


def json_list_parse(text: str, *, what: str) -> list[Any]:
    """A form field holding a JSON list, or one item per line."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except ValueError as error:
            raise UploadError(f"{what}: not valid JSON ({error}).") from None
        if not isinstance(value, list):
            raise UploadError(f"{what}: expected a JSON list.")
        return value
    return [line.strip() for line in stripped.splitlines() if line.strip()]
