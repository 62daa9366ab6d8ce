"""/healthz: database, broker and a live worker, as JSON; 200 only when all three are up.

Anonymous and cheap: the database and broker checks are a query and a connection, and the
worker check answers from the last worker ping kept in the cache for HEALTHZ_WORKER_CACHE_SECONDS.
When it is older, the one caller that wins the cache lock (`cache.add`) sends the ping (at most
one in flight, whoever asks, in every process sharing the cache); callers meanwhile answer from
the previous ping. No task is sent per call, and the answer names no host.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app
from config.tasks import ping


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=2)
    return "ok"


WORKER_CACHE_KEY = "healthz:worker"  # {"healthy", "detail", "checked_at"} of the last ping
WORKER_LOCK_KEY = "healthz:worker:ping-in-flight"


def _ping_worker() -> str:
    # A round trip through the `default` queue, which torch jobs never occupy, so a long
    # evaluation on the `robustness` worker cannot make the site look down.
    timeout = settings.HEALTHZ_WORKER_TIMEOUT
    result = ping.apply_async(queue="default", expires=timeout)
    try:
        result.get(timeout=timeout, interval=0.1)
    except CeleryTimeoutError:
        result.revoke()
        raise RuntimeError(f"no worker answered a ping on the default queue within {timeout:g} s") from None
    finally:
        result.forget()
    return "ok"


def _worker_status() -> tuple[bool, str]:
    """The last ping's answer; refreshed first when stale and no other caller is already pinging."""
    last = cache.get(WORKER_CACHE_KEY)
    now = time.time()
    if last is not None and now - last["checked_at"] < settings.HEALTHZ_WORKER_CACHE_SECONDS:
        return last["healthy"], last["detail"]
    if cache.add(WORKER_LOCK_KEY, 1, timeout=settings.HEALTHZ_WORKER_TIMEOUT + 5):
        try:
            healthy, detail, _ = _run(_ping_worker)
            last = {"healthy": healthy, "detail": detail, "checked_at": time.time()}
            # Kept past its freshness so that callers during the next refresh still have an answer.
            cache.set(WORKER_CACHE_KEY, last, timeout=max(3600, 10 * settings.HEALTHZ_WORKER_CACHE_SECONDS))
        finally:
            cache.delete(WORKER_LOCK_KEY)
        return healthy, detail
    if last is None:
        return False, "not checked yet: a worker ping is under way"
    return last["healthy"], last["detail"]


def _run(check: Callable[[], str]) -> tuple[bool, str, float]:
    started = time.monotonic()
    try:
        detail = check()
        healthy = True
    except Exception as error:
        detail, healthy = f"{type(error).__name__}: {error}", False
    return healthy, detail, round((time.monotonic() - started) * 1000, 1)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database, "broker": _check_broker}
    report: dict[str, dict[str, object]] = {}
    for name, check in checks.items():
        healthy, detail, took_ms = _run(check)
        report[name] = {"healthy": healthy, "detail": detail, "ms": took_ms}
    if all(part["healthy"] for part in report.values()):
        started = time.monotonic()
        healthy, detail = _worker_status()
        took_ms = round((time.monotonic() - started) * 1000, 1)
    else:
        healthy, detail, took_ms = False, "not checked: database or broker is down", 0.0
    report["worker"] = {"healthy": healthy, "detail": detail, "ms": took_ms}
    all_healthy = all(part["healthy"] for part in report.values())
    return JsonResponse({"status": "ok" if all_healthy else "unhealthy", "checks": report},
                        status=200 if all_healthy else 503)
