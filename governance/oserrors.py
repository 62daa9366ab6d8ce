"""Operating-system errors the platform names: a full disk is the machine's fault, not the request's.

Pure (no Django): the web's 507 middleware (`config.errors`) and the outcomes of background
jobs both ask `is_disk_full` here, so no app imports the wiring in `config`.
"""

from __future__ import annotations

import errno

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS
