"""Helpers for tests with real worker processes: broker switching and waiting on run rows."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from celery import current_app
from django.db import models

from robustness.models import RunStatus
from tests.processes import private_redis


@contextlib.contextmanager
def _app_broker(url: str) -> Iterator[str]:
    """Point this process's Celery app (what the services send with) at another broker."""
    conf = current_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI sets it).
    saved_environment = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url

    def reset() -> None:
        # Drop references only: kombu caches producer pools per connection, so closing ours
        # would break the next send through the same URL.
        current_app._pool = None
        current_app.amqp._producer_pool = None

    conf.broker_url = url
    conf.broker_transport_options = {} if url.startswith("sqla+") else {"visibility_timeout": 3600}
    reset()
    assert current_app.connection_for_write().as_uri().split(":")[0] == url.split(":")[0]
    try:
        yield url
    finally:
        conf.broker_url, conf.broker_transport_options = saved
        if saved_environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_environment
        reset()


@contextlib.contextmanager
def broker(kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh broker of the given kind for one test: "sqlite" (the embedded default) or "redis"."""
    if kind == "sqlite":
        with _app_broker("sqla+sqlite:///" + str(tmp_path / "broker.sqlite3")) as url:
            yield url
    else:
        with private_redis() as redis_url, _app_broker(redis_url) as url:
            yield url


def wait_for(model: type[models.Model], pk: int, condition, timeout: float = 120, what: str = "") -> models.Model:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = model.objects.get(pk=pk)
        if condition(row):
            return row
        time.sleep(0.2)
    row = model.objects.get(pk=pk)
    raise AssertionError(f"{what or 'condition'} not met within {timeout} s: status={row.status} "
                         f"progress={row.progress} message={row.message!r} error={row.error!r}")


def finished(row: models.Model) -> bool:
    return row.status in RunStatus.finished()
