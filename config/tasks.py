"""Platform tasks: the worker ping behind /healthz and the diagnostics API."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from celery import shared_task


@shared_task(name="config.tasks.ping", ignore_result=False, time_limit=30, soft_time_limit=25)
def ping() -> dict[str, str]:
    """Answer from a live worker: proves the broker delivers and a worker on `default` runs."""
    return {"pong": "ok", "hostname": socket.gethostname(), "at": datetime.now(UTC).isoformat()}
