"""Test-only fault: a full disk under one folder, for a worker process started with this folder on PYTHONPATH.

Python imports `sitecustomize` at start-up, before Celery or Django. While the file named by
ANCHORAGE_TEST_DISK_FULL exists, the folder written in it is on a full volume: a file opened
for writing below it is still created (as on a real disk, where an inode is left), but its
data goes to /dev/full, so the kernel itself answers ENOSPC ("No space left on device") when
the data is flushed. Removing the file frees the space. Nothing of the product knows of this.
"""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

_SWITCH = os.environ.get("ANCHORAGE_TEST_DISK_FULL", "")
_open = io.open


def _full_folder() -> Path | None:
    try:
        return Path(Path(_SWITCH).read_text().strip())
    except OSError:
        return None


def _on_full_volume(path: str) -> bool:
    folder = _full_folder()
    return folder is not None and Path(os.path.abspath(path)).is_relative_to(folder)


def _writing(mode: str) -> bool:
    return any(flag in mode for flag in "wax+")


def _open_on_full_volume(file, mode="r", *args, **kwargs):
    if isinstance(file, int):  # os.fdopen (Django's storage): swap the file for /dev/full under the fd
        if _writing(mode) and _on_full_volume(os.readlink(f"/proc/self/fd/{file}")):
            full = os.open("/dev/full", os.O_WRONLY)
            os.dup2(full, file)
            os.close(full)
        return _open(file, mode, *args, **kwargs)
    if _writing(mode) and isinstance(file, str | os.PathLike) and _on_full_volume(os.fspath(file)):
        _open(file, mode, *args, **kwargs).close()  # the file appears, empty
        return _open("/dev/full", mode.replace("x", "w").replace("a", "w"), *args, **kwargs)
    return _open(file, mode, *args, **kwargs)


if _SWITCH:
    builtins.open = io.open = _open_on_full_volume
