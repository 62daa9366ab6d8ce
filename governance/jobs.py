"""The job kernel: how every background job is enqueued (by task name, on commit).

Services enqueue a task by its name (`<app>.task_names`), never by importing the tasks
module: tasks import services, never the other way round, so no import circle can form.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def job_send(name: str, *args: object, queue: str) -> bool:
    """Send the task now. A broker outage must not turn a saved request into a 500: it is logged,
    and the job's reaper (or re-queue) sends it again later."""
    try:
        current_app.send_task(name, args=list(args), queue=queue)
    except Exception:
        logger.exception("could not enqueue %s%r", name, args)
        return False
    return True


def job_enqueue(name: str, pk: int, queue: str) -> None:
    """Send the task for row `pk` once the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: job_send(name, pk, queue=queue))
