"""Folders of files that rows keep outside FileFields, for export_organisation / import_organisation.

A row that writes files under MEDIA_ROOT by its own id (a robustness run's `robustness/<kind>/<id>/`)
says so with a `media_folder()` method returning that folder relative to MEDIA_ROOT. The export
carries every file in it as `files/<sha256>`, listed in the manifest's `folder_files` with the
row and the file's path inside the folder; the import writes them into the folder of the NEW row
(new id, new place). This module knows nothing of the apps that use it (governance is the ground
floor); it only asks rows for their folder.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.conf import settings
from django.db import models

FILES_DIR = "files"


class FolderError(ValueError):
    """A folder cannot be restored; the message says why and nothing of it was left behind."""


def media_folder_of(row: models.Model) -> Path | None:
    """The row's own folder under MEDIA_ROOT, or None for rows that keep none."""
    folder = getattr(row, "media_folder", None)
    return Path(settings.MEDIA_ROOT) / folder() if callable(folder) else None


def hashed_copy(source: BinaryIO, out: Path) -> tuple[str, int]:
    """Copy `source` into `out/files/<sha256>`; returns (sha256, size)."""
    digest, size = hashlib.sha256(), 0
    incoming = out / FILES_DIR / "incoming"
    incoming.parent.mkdir(parents=True, exist_ok=True)
    with incoming.open("wb") as copy:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
            copy.write(chunk)
    sha = digest.hexdigest()
    incoming.replace(out / FILES_DIR / sha)
    return sha, size


def folder_export(row: models.Model, out: Path) -> list[dict[str, Any]]:
    """Every regular file in the row's folder (symbolic links are not followed), as manifest entries."""
    folder = media_folder_of(row)
    if folder is None or not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as source:
            sha, size = hashed_copy(source, out)
        entries.append({"model": row._meta.label, "pk": row.pk, "path": path.relative_to(folder).as_posix(),
                        "sha256": sha, "size": size})
    return entries


def is_safe_relative(path: Any) -> bool:
    """A plain relative path that stays inside the folder it is joined to (no zip-slip)."""
    if not isinstance(path, str) or not path or "\\" in path or "\x00" in path:
        return False
    pure = PurePosixPath(path)
    return not pure.is_absolute() and all(part not in ("", ".", "..") for part in pure.parts) \
        and pure.as_posix() == path


def folder_restore(row: models.Model, entries: list[dict[str, Any]], export: Path) -> Path:
    """Write the entries (already verified) into the row's folder, which must not exist yet.

    Returns the folder, for the caller to remove if the import fails later. Raises FolderError
    when the folder exists (files of another row: never merged, never overwritten).
    """
    folder = media_folder_of(row)
    if folder is None:
        raise FolderError(f"{row._meta.label} keeps no folder of files in this installation")
    if folder.exists():
        raise FolderError(f"{folder} exists already (files of another {row._meta.label})")
    folder.mkdir(parents=True)
    try:
        for entry in entries:
            _restore_one(folder, entry, export)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _restore_one(folder: Path, entry: dict[str, Any], export: Path) -> None:
    target = folder / entry["path"]
    if not is_safe_relative(entry["path"]) or not target.resolve().is_relative_to(folder.resolve()):
        raise FolderError(f"the export holds an unsafe path: {entry['path']!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(export / FILES_DIR / entry["sha256"], target)
