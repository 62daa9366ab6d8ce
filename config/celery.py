"""The Celery app: queues ``default`` (light work, health pings) and ``robustness`` (torch)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue
from kombu.transport import sqlalchemy as kombu_sqlalchemy

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

# The server-less broker polls its SQLite table; kombu 5.7 rejects `polling_interval` as a
# transport option (TypeError), so the class attribute is the only way to poll faster than 1 s.
kombu_sqlalchemy.Transport.polling_interval = 0.2

app = Celery("anchorage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("robustness"))
app.autodiscover_tasks(["config", "governance", "assessments", "robustness"])
