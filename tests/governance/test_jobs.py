"""The job kernel: services enqueue tasks by name, on commit only; no module of ours imports a tasks module."""

from __future__ import annotations

import pytest
from celery import current_app
from django.db import transaction

from governance.jobs import job_enqueue, job_send


@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: calls.append((name, args, queue)))
    return calls


def test_a_job_is_sent_by_its_task_name_only_once_the_transaction_commits(db, sent,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        job_enqueue("assessments.tasks.report_generate_task", 41, "default")
        assert sent == []
    assert sent == [("assessments.tasks.report_generate_task", [41], "default")]


def test_a_rolled_back_transaction_sends_no_job(db, sent, django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError),
          transaction.atomic()):
        job_enqueue("robustness.tasks.evaluation_run_execute", 7, "robustness")
        raise RuntimeError("the request failed after enqueueing")
    assert callbacks == [] and sent == []


def test_a_broker_outage_is_logged_not_raised(monkeypatch, caplog):
    def refuse(name, args, queue):
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app, "send_task", refuse)
    assert job_send("robustness.tasks.evaluation_run_execute", 7, queue="robustness") is False
    assert "could not enqueue robustness.tasks.evaluation_run_execute(7,)" in caplog.text


def test_every_task_name_names_a_registered_task():
    import importlib

    from assessments import task_names as assessments_names
    from config.celery import app
    from governance import task_names as governance_names
    from robustness import task_names as robustness_names

    for tasks_module in ("config.tasks", "governance.tasks", "assessments.tasks", "robustness.tasks"):
        importlib.import_module(tasks_module)  # importing a tasks module registers its tasks
    names = {value for module in (governance_names, assessments_names, robustness_names)
             for key, value in vars(module).items() if key.isupper() and key != "QUEUE"}
    assert len(names) == 15
    assert sorted(names - set(app.tasks)) == []


def test_the_report_reaper_is_scheduled_every_minute_on_the_default_queue(db):
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("schedule_periodic_tasks", verbosity=0)
    reaper = PeriodicTask.objects.get(task="assessments.tasks.reports_reap_expired_leases")
    assert (reaper.queue, reaper.interval.every, reaper.interval.period) == ("default", 1, "minutes")
