"""Reports on the job kernel: claimed with a lease, re-sent by the reaper when their worker died,
ended by the kernel's failure policy, and stored rows renamed to the one status vocabulary."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import current_app
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from assessments.models import Report
from assessments.services import assessment_create, report_generate, report_request
from assessments.services.reports import reports_reap_expired_leases
from governance.jobs import job_claim
from governance.models.audit import AuditEvent
from governance.models.jobs import JobStatus

pytestmark = pytest.mark.usefixtures("frozen_clock")
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)  # the frozen clock's FROZEN_NOW
MIGRATED = ("assessments", "0006_report_statuses_and_progress_renamed")
BEFORE = ("assessments", "0004_signoff_and_final_reports")


@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: calls.append((name, args, queue)))
    return calls


@pytest.fixture
def requested(acme, nist, oscar):
    return report_request(assessment=assessment_create(organisation=acme, framework=nist, actor=oscar), actor=oscar)


def test_a_claimed_report_holds_a_fifteen_minute_lease_that_no_second_worker_can_take(requested):
    claim = job_claim(model=Report, pk=requested.pk, worker="worker-a")
    assert claim is not None and claim.attempt == 1
    assert job_claim(model=Report, pk=requested.pk, worker="worker-b") is None
    row = Report.objects.get(pk=requested.pk)
    assert (row.status, row.worker, row.started_at) == (JobStatus.RUNNING, "worker-a", T0)
    assert row.lease_expires_at == T0 + dt.timedelta(minutes=15)


def test_the_reaper_resends_a_report_whose_worker_died_and_the_next_worker_finishes_it(requested, sent,
                                                                                       frozen_clock):
    job_claim(model=Report, pk=requested.pk, worker="died-mid-render")
    frozen_clock.move_to(T0 + dt.timedelta(minutes=14))
    assert reports_reap_expired_leases() == 0 and sent == [], "a live lease is left alone"
    frozen_clock.move_to(T0 + dt.timedelta(minutes=16))
    assert reports_reap_expired_leases() == 1
    assert sent == [("assessments.tasks.report_generate_task", [requested.pk], "default")]
    report = report_generate(report_id=requested.pk)
    assert (report.status, report.attempt, report.progress, report.message) == (JobStatus.SUCCEEDED, 2, 1.0, "Ready")
    assert report.finished_at == T0 + dt.timedelta(minutes=16) and report.lease_expires_at is None
    assert reports_reap_expired_leases() == 0, "a finished report is never re-sent"


def test_the_reaper_resends_a_pending_report_no_worker_ever_took(requested, sent, frozen_clock):
    frozen_clock.move_to(T0 + dt.timedelta(minutes=9))
    assert reports_reap_expired_leases() == 0
    frozen_clock.move_to(T0 + dt.timedelta(minutes=11))
    assert reports_reap_expired_leases() == 1
    assert sent == [("assessments.tasks.report_generate_task", [requested.pk], "default")]


def test_a_transient_database_error_hands_the_lease_back_for_the_retry(requested, monkeypatch):
    def dropped(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("assessments.reporting.pdf.report_pdf_render", dropped)
    with pytest.raises(OperationalError):
        report_generate(report_id=requested.pk)
    row = Report.objects.get(pk=requested.pk)
    assert (row.status, row.attempt, row.error) == (JobStatus.RUNNING, 1, "")
    assert row.lease_expires_at == T0 - dt.timedelta(seconds=1), "handed back: the retry claims it at once"


def test_a_render_failure_is_terminal_says_why_and_is_audited(requested, monkeypatch):
    def broken(**kwargs):
        raise ValueError("a chart could not be drawn")

    monkeypatch.setattr("assessments.reporting.pdf.report_pdf_render", broken)
    report = report_generate(report_id=requested.pk)
    assert (report.status, report.message) == (JobStatus.FAILED, "Failed.")
    assert report.error == "Failed unexpectedly (ValueError: a chart could not be drawn)."
    event = AuditEvent.objects.filter(object_type="assessments.Report", object_id=str(report.pk)).latest("sequence")
    assert event.changes["status"] == [JobStatus.RUNNING, JobStatus.FAILED]
    assert event.actor_label == "system"


def _rows_at(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_renames_done_to_succeeded_and_progress_to_a_fraction_and_back(acme, nist, oscar):
    assessment = assessment_create(organisation=acme, framework=nist, actor=oscar)
    old_apps = _rows_at(BEFORE)
    OldReport = old_apps.get_model("assessments", "Report")
    common = {"organisation_id": acme.pk, "assessment_id": assessment.pk}
    OldReport.objects.create(version=1, status="done", progress=100, **common)
    OldReport.objects.create(version=2, status="running", progress=10, **common)
    OldReport.objects.create(version=3, status="failed", progress=10, **common)
    OldReport.objects.create(version=4, status="pending", progress=0, **common)

    new_apps = _rows_at(MIGRATED)
    NewReport = new_apps.get_model("assessments", "Report")
    assert list(NewReport.objects.order_by("version").values_list("status", "progress")) == [
        ("succeeded", 1.0), ("running", 0.1), ("failed", 0.1), ("pending", 0.0)]
    NewReport.objects.filter(version=4).update(status="cancelled")

    back = _rows_at(BEFORE).get_model("assessments", "Report")
    assert list(back.objects.order_by("version").values_list("status", "progress")) == [
        ("done", 100), ("running", 10), ("failed", 10), ("failed", 0)]
    _rows_at(MIGRATED)
