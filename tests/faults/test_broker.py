"""Faults of the platform's own parts: the broker dies and comes back under a running worker."""

from __future__ import annotations

import time
import uuid

import pytest
from celery import Celery
from django_celery_results.models import TaskResult
from kombu import Connection

from tests.processes import PrivateRedis, celery_worker, worker_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def ping_through(broker_url: str, timeout: float = 90) -> TaskResult:
    """Send a ping through `broker_url` and wait for the worker's result in the database."""
    # An explicit connection: Celery lets a CELERY_BROKER_URL in the environment (CI's Redis)
    # win over the app's own broker setting.
    sender = Celery("fault-probe", set_as_current=False)  # never the test process's current_app
    task_id = str(uuid.uuid4())
    with Connection(broker_url) as connection:
        sender.send_task("config.tasks.ping", task_id=task_id, queue="default", connection=connection)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = TaskResult.objects.filter(task_id=task_id).first()
        if row is not None and row.status == "SUCCESS":
            return row
        time.sleep(0.3)
    raise AssertionError(f"ping {task_id} was not answered within {timeout} s")


def test_a_worker_survives_a_broker_crash_and_serves_again_when_it_returns():
    broker = PrivateRedis()
    broker.start()
    try:
        with celery_worker(queues="default", env=worker_environment(CELERY_BROKER_URL=broker.url)) as worker:
            first = ping_through(broker.url)
            broker.stop()
            time.sleep(2)
            assert worker.poll() is None, "the worker outlives its broker"
            broker.start()
            second = ping_through(broker.url)
            assert worker.poll() is None
        assert first.worker == second.worker, "the same worker process answered before and after"
        assert TaskResult.objects.filter(status="SUCCESS").count() == 2
    finally:
        broker.stop()
