"""/healthz: database, broker and a live worker, as JSON; 200 only when all three are up."""

from __future__ import annotations

import time
from collections.abc import Callable

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
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


def _check_worker() -> str:
    # A round trip through the `default` queue, which torch jobs never occupy, so a long
    # evaluation on the `robustness` worker cannot make the site look down.
    timeout = settings.HEALTHZ_WORKER_TIMEOUT
    result = ping.apply_async(queue="default", expires=timeout)
    try:
        answer = result.get(timeout=timeout, interval=0.1)
    except CeleryTimeoutError:
        result.revoke()
        raise RuntimeError(f"no worker answered a ping on the default queue within {timeout:g} s") from None
    finally:
        result.forget()
    return f"ok ({answer['hostname']})"


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
        healthy, detail, took_ms = _run(_check_worker)
    else:
        healthy, detail, took_ms = False, "not checked: database or broker is down", 0.0
    report["worker"] = {"healthy": healthy, "detail": detail, "ms": took_ms}
    all_healthy = all(part["healthy"] for part in report.values())
    return JsonResponse({"status": "ok" if all_healthy else "unhealthy", "checks": report},
                        status=200 if all_healthy else 503)
