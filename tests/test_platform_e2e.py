"""The platform end to end: a web request reaches a real worker, /healthz tells the truth.

These tests run against the configured database and broker (PostgreSQL and Redis in CI); the
embedded default (SQLite + the server-less SQLAlchemy broker) has its own smoke test in
test_embedded_default.py.
"""

from __future__ import annotations

import json
import time

import pytest
from django_celery_results.models import TaskResult

from tests.conftest import PASSWORD
from tests.processes import celery_worker
from tests.web import WebSession

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for_ping(session: WebSession, task_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = session.get(f"/api/v1/diagnostics/worker-ping/{task_id}/").json()
        if answer["status"] != "PENDING":
            return answer
        time.sleep(0.3)
    raise AssertionError(f"task {task_id} still pending after {timeout} s")


def test_task_enqueued_by_a_web_request_runs_in_a_real_worker_and_is_persisted(live_server, acme):
    session = WebSession(live_server.url)
    session.login("alice", PASSWORD)  # the diagnostics are for organisation admins and staff
    with celery_worker(queues="default") as worker:
        accepted = session.post("/api/v1/diagnostics/worker-ping/")
        assert accepted.status == 202
        task_id = accepted.json()["task_id"]
        answer = wait_for_ping(session, task_id)
    assert answer["status"] == "SUCCESS"
    assert answer["result"]["pong"] == "ok"
    row = TaskResult.objects.get(task_id=task_id)
    assert row.status == "SUCCESS"
    assert row.task_name == "config.tasks.ping"
    assert json.loads(row.result)["pong"] == "ok"
    name = worker.args[worker.args.index("-n") + 1].split("@")[0]  # test-<random>, unique to this worker
    assert row.worker.startswith(f"{name}@"), "the result came from our separately started worker"


def test_anonymous_cannot_enqueue_work(live_server, acme):
    answer = WebSession(live_server.url).post("/api/v1/diagnostics/worker-ping/")
    assert answer.status == 403
    assert TaskResult.objects.count() == 0


def test_healthz_is_healthy_with_a_worker_and_unhealthy_when_it_stops(live_server):
    from django.core.cache import cache

    from config.health import WORKER_CACHE_KEY

    session = WebSession(live_server.url)
    with celery_worker(queues="default"):
        healthy = session.get("/healthz")
        assert healthy.status == 200, healthy.body
        assert healthy.json()["status"] == "ok"
        assert {name: part["healthy"] for name, part in healthy.json()["checks"].items()} == {
            "database": True, "broker": True, "worker": True}
        assert healthy.json()["checks"]["worker"]["detail"] == "ok", "no host name in the public answer"
    # The worker answer is the cached last ping (HEALTHZ_WORKER_CACHE_SECONDS): drop it, as its
    # expiry would, so the next call pings again and finds no worker.
    cache.delete(WORKER_CACHE_KEY)
    unhealthy = session.get("/healthz")
    assert unhealthy.status == 503
    checks = unhealthy.json()["checks"]
    assert (checks["database"]["healthy"], checks["broker"]["healthy"], checks["worker"]["healthy"]) == (
        True, True, False)
    assert "no worker answered" in checks["worker"]["detail"]
