"""ImageFolder directories and zip archives from untrusted users.

Layout: ``<class folder>/<image file>``, optionally under one top-level folder, plus an
optional ``classes.json`` (a list of names in sorted-folder order, or {folder: name}).
Every check that fails raises `DatasetError` naming the offending entry; nothing is
extracted to disk and no path from the archive is ever joined onto a real directory.
"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, UnidentifiedImageError

from robustness.engine.data.dataset import DatasetLimits, ImageDataset, dataset_from_arrays
from robustness.engine.errors import DatasetError

CLASSES_FILE = "classes.json"
RATIO_CHECK_MIN_BYTES = 1 << 20
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "__MACOSX"})

# (relative posix path inside the dataset, raw bytes)
Entry = tuple[PurePosixPath, bytes]


def load_image_folder(
    path: str | Path, limits: DatasetLimits = DatasetLimits(), image_size: int | None = None
) -> ImageDataset:
    """Load ``path/<class>/<image>``; symlinks, nesting and non-images are refused."""
    root = Path(path)
    if root.is_symlink() or not root.is_dir():
        raise DatasetError(f"dataset folder not found or not a real directory: {root}")
    return _build_dataset(_folder_entries(root, limits), limits, image_size)


def load_image_zip(
    path: str | Path, limits: DatasetLimits = DatasetLimits(), image_size: int | None = None
) -> ImageDataset:
    """Load a zip of ``<class>/<image>``; refuses zip-slip, absolute paths, symlinks, bombs."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = list(_zip_entries(archive, limits))
    except zipfile.BadZipFile as error:
        raise DatasetError(f"{Path(path).name} is not a valid zip archive: {error}") from error
    except FileNotFoundError as error:
        raise DatasetError(f"dataset archive not found: {path}") from error
    return _build_dataset(entries, limits, image_size)


def _folder_entries(root: Path, limits: DatasetLimits) -> Iterator[Entry]:
    total_bytes = 0
    count = 0
    for file in sorted(root.rglob("*")):
        relative = PurePosixPath(file.relative_to(root).as_posix())
        if _is_ignored(relative):
            continue
        if file.is_symlink():
            raise DatasetError(f"{relative}: symbolic links are not allowed in a dataset")
        if file.is_dir():
            continue
        count += 1
        total_bytes += file.stat().st_size
        _check_totals(count, total_bytes, limits)
        yield relative, file.read_bytes()


def _zip_entries(archive: zipfile.ZipFile, limits: DatasetLimits) -> Iterator[Entry]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    declared_total = 0
    for count, info in enumerate(infos, start=1):
        relative = _safe_member_path(info)
        declared_total += info.file_size
        _check_totals(count, declared_total, limits)
        # Small files may legitimately compress well (flat icons); bombs are large.
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_CHECK_MIN_BYTES and ratio > limits.max_compression_ratio:
            raise DatasetError(
                f"{info.filename}: compression ratio {ratio:.0f} exceeds "
                f"{limits.max_compression_ratio:.0f} (possible zip bomb)"
            )
    read_total = 0
    for info in infos:
        relative = _safe_member_path(info)
        if _is_ignored(relative):
            continue
        # The declared size can lie: read at most one byte past what is still allowed.
        with archive.open(info) as member:
            data = member.read(limits.max_total_bytes - read_total + 1)
        read_total += len(data)
        _check_totals(1, read_total, limits)
        yield relative, data


def _safe_member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DatasetError(f"{name}: symbolic links are not allowed in a dataset archive")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise DatasetError(f"{name}: absolute paths are not allowed in a dataset archive")
    if "\\" in name:
        raise DatasetError(f"{name}: backslashes are not allowed in archive paths")
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise DatasetError(f"{name}: '..' path components are not allowed (path traversal)")
    return PurePosixPath(*[part for part in parts if part != "."])


def _check_totals(count: int, total_bytes: int, limits: DatasetLimits) -> None:
    if count > limits.max_files:
        raise DatasetError(f"the dataset has more than {limits.max_files} files")
    if total_bytes > limits.max_total_bytes:
        raise DatasetError(f"the dataset's uncompressed size exceeds {limits.max_total_bytes} bytes")


def _is_ignored(relative: PurePosixPath) -> bool:
    return any(part in IGNORED_NAMES or part.startswith("._") for part in relative.parts)


def _build_dataset(
    entries: Iterator[Entry] | list[Entry], limits: DatasetLimits, image_size: int | None
) -> ImageDataset:
    files = dict(entries)
    files = _strip_common_top_folder(files)
    classes_json = files.pop(PurePosixPath(CLASSES_FILE), None)
    by_folder = _group_by_class_folder(files)
    folders = sorted(by_folder)
    class_names = _class_names(folders, classes_json)
    if len(folders) > limits.max_classes:
        raise DatasetError(f"the dataset has {len(folders)} classes, more than {limits.max_classes}")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, folder in enumerate(folders):
        for relative, data in sorted(by_folder[folder].items()):
            images.append(_decode_image(relative, data, limits, image_size))
            labels.append(label)
    return dataset_from_arrays(images, labels, class_names)


def _strip_common_top_folder(files: dict[PurePosixPath, bytes]) -> dict[PurePosixPath, bytes]:
    """`data/cat/1.png`, `data/dog/2.png` → `cat/1.png`, `dog/2.png` (a zipped folder)."""
    tops = {path.parts[0] for path in files}
    if len(tops) == 1 and all(len(path.parts) >= 3 or path.name == CLASSES_FILE for path in files):
        return {PurePosixPath(*path.parts[1:]): data for path, data in files.items() if len(path.parts) > 1}
    return files


def _group_by_class_folder(files: Mapping[PurePosixPath, bytes]) -> dict[str, dict[PurePosixPath, bytes]]:
    groups: dict[str, dict[PurePosixPath, bytes]] = {}
    for relative, data in files.items():
        if len(relative.parts) != 2:
            raise DatasetError(
                f"{relative}: expected <class folder>/<image file>; files must sit directly in a class folder"
            )
        groups.setdefault(relative.parts[0], {})[relative] = data
    if len(groups) < 2:
        raise DatasetError(f"a dataset needs at least two class folders, found {len(groups)}")
    return groups


def _class_names(folders: list[str], classes_json: bytes | None) -> tuple[str, ...]:
    if classes_json is None:
        return tuple(folder.replace("_", " ") for folder in folders)
    try:
        declared = json.loads(classes_json.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise DatasetError(f"{CLASSES_FILE} is not valid JSON: {error}") from error
    if isinstance(declared, list):
        if len(declared) != len(folders) or not all(isinstance(name, str) for name in declared):
            raise DatasetError(
                f"{CLASSES_FILE} lists {len(declared)} names but there are {len(folders)} class folders"
            )
        return tuple(declared)
    if isinstance(declared, dict):
        missing = [folder for folder in folders if not isinstance(declared.get(folder), str)]
        if missing:
            raise DatasetError(f"{CLASSES_FILE} has no name for class folders {missing[:5]}")
        return tuple(declared[folder] for folder in folders)
    raise DatasetError(f"{CLASSES_FILE} must be a list of names or a {{folder: name}} object")


def _decode_image(relative: PurePosixPath, data: bytes, limits: DatasetLimits, image_size: int | None) -> np.ndarray:
    """HWC uint8 RGB; verified by Pillow, pixel count checked before decoding."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > limits.max_image_pixels:
                raise DatasetError(
                    f"{relative}: {width}x{height} pixels exceeds the limit of {limits.max_image_pixels}"
                )
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            rgb = image.convert("RGB")
    except DatasetError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        raise DatasetError(f"{relative}: not a readable image ({type(error).__name__}: {error})") from error
    if image_size is not None:
        rgb = rgb.resize((image_size, image_size), Image.Resampling.BICUBIC)
    return np.asarray(rgb, dtype=np.uint8)
