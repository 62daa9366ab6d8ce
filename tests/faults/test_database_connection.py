"""A worker's database connection is dropped in the middle of a run (PostgreSQL: pg_terminate_backend).

The worker must notice, reconnect, take its run up again from the last checkpoint and finish it
with exactly one evidence version and one set of files, without waiting for its lease to expire.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from assessments.models import EvidenceVersion
from robustness.models import EvaluationRun, RunStatus
from robustness.services.run_requests import evaluation_run_request
from tests.processes import celery_worker, worker_environment
from tests.processes import test_database_url as database_url
from tests.robustness.runs.conftest import QUICK_EVALUATION
from tests.robustness.runs.workers import finished, wait_for
from tests.security.world import media_files

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EIGHT_BATCHES = {**QUICK_EVALUATION, "n_examples": 64}


def worker_backends_terminate(application_name: str) -> int:
    """Drop every connection the worker holds to the test database; never this test's own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND application_name = %s AND pid <> pg_backend_pid()", [application_name])
        pids = [pid for (pid,) in cursor.fetchall()]
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    return len(pids)


def test_a_run_whose_database_connection_drops_reconnects_and_finishes_once(system, version, member):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no server connection to drop; CI runs this on PostgreSQL (DATABASE_URL)")
    application_name = f"fault-worker-{uuid.uuid4().hex[:8]}"
    # A lease far longer than the test: the run must come back through the worker, not the reaper.
    env = worker_environment(DATABASE_URL=f"{database_url()}?application_name={application_name}",
                             ROBUSTNESS_LEASE_SECONDS="900")
    run = evaluation_run_request(ai_system=system, model_version=version, actor=member("risk_officer").user,
                                 config=EIGHT_BATCHES)
    with celery_worker(queues="robustness", env=env) as worker:
        wait_for(EvaluationRun, run.pk, lambda row: row.checkpoint.get("next_batch", 0) >= 2, timeout=120,
                 what="two batches checkpointed")
        assert worker_backends_terminate(application_name) >= 1
        assert EvaluationRun.objects.get(pk=run.pk).status == RunStatus.RUNNING, "dropped in the middle of the run"
        done = wait_for(EvaluationRun, run.pk, finished, timeout=180, what="run finished after the drop")
        assert worker.poll() is None, "the worker outlives its connection"
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert done.attempt == 2, "taken up again once, by a new claim"
    assert done.provenance["resumed_from_batch"] >= 2, "from its checkpoint, not from the start"
    evidence = EvidenceVersion.objects.get(metadata__run_id=run.pk)
    assert done.evidence_version_id == evidence.pk
    media = Path(settings.MEDIA_ROOT)
    run_folder = media / "robustness" / "evaluations" / str(run.pk)
    assert [path.name for path in run_folder.iterdir()] == ["attempt-2"]
    assert sorted(media_files(run_folder / "attempt-2")) == sorted(item["name"] for item in done.artifacts)
    assert media_files(media / "evidence") == {evidence.file.name.removeprefix("evidence/")}
    assert not list((media / "robustness" / "evaluations").glob(".staging-*"))
