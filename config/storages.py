"""File storage that writes every file whole or not at all (the embedded default's MEDIA_ROOT)."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage


class StagedFile(File):
    """A complete file on disk that Django's storage moves into place with one rename."""

    def __init__(self, path: Path) -> None:
        super().__init__(None, name=str(path))
        self.path = path

    def temporary_file_path(self) -> str:
        return str(self.path)


class WholeFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose saves are atomic.

    Django's own storage writes straight into the final name, so a full disk leaves a truncated
    file behind. Here the data goes to a hidden file in the target folder first (the same
    volume, so the move is one rename); when writing fails, that file and the folders this save
    created are removed, and the tree under MEDIA_ROOT is as it was.
    """

    def _save(self, name: str, content: File) -> str:
        folder = Path(self.path(name)).parent
        created = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / f".incomplete-{uuid.uuid4().hex}"
        try:
            _write(staged, content)
            return super()._save(name, StagedFile(staged))  # type: ignore[misc]  # django-stubs omit Storage._save
        except BaseException:
            staged.unlink(missing_ok=True)
            for path in created:
                with contextlib.suppress(OSError):
                    path.rmdir()
            raise


def _write(path: Path, content: File) -> None:
    """Stream `content` into a new file at `path` (flushed and closed, so a full disk raises here)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    with os.fdopen(descriptor, "wb") as output:
        for chunk in content.chunks():
            output.write(chunk if isinstance(chunk, bytes) else chunk.encode())
