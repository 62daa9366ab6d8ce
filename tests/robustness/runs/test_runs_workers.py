"""Runs on real worker processes: request → worker → evidence; kill -9 and resume; shards.

The database is the configured one (PostgreSQL in CI, SQLite here); each test brings its own
broker where the broker is the point (the embedded SQLite one and a private Redis).
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments.models import EvidenceVersion, Finding
from robustness.models import EvaluationRun, EvaluationShard, RunStatus
from robustness.services.evaluations import evaluation_run_execute
from robustness.services.maintenance import runs_reap_expired_leases
from robustness.services.publishing import SUPPORTED_REQUIREMENT_URNS
from robustness.services.run_requests import evaluation_run_request
from tests.processes import celery_worker, worker_environment
from tests.robustness.runs.conftest import QUICK_EVALUATION
from tests.robustness.runs.workers import broker, finished, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLOW_EVALUATION = {**QUICK_EVALUATION, "n_examples": 96, "epsilons": [1 / 255, 2 / 255, 4 / 255]}


def test_a_requested_evaluation_runs_on_a_real_worker_and_becomes_evidence(client_as, system, version, tmp_path):
    call_command("load_catalogs", verbosity=0)
    client = client_as("risk_officer")
    answer = client.post("/api/v1/robustness/evaluations/", {"model_version": version.pk, "config": QUICK_EVALUATION},
                         content_type="application/json")
    assert answer.status_code == 201, answer.content
    run_id = answer.json()["id"]
    with celery_worker(queues="robustness"):
        run = wait_for(EvaluationRun, run_id, finished, what="evaluation finished")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.worker.startswith(os.uname().nodename) and run.attempt == 1
    assert run.provenance["model_sha256"] == version.checkpoint_sha256 and run.provenance["data_sha256"]
    version_row = EvidenceVersion.objects.get(pk=run.evidence_version_id)
    assert version_row.metadata["record"] == run.result["record"]
    attached = set(version_row.evidence.requirements.values_list("urn", flat=True))
    assert set(SUPPORTED_REQUIREMENT_URNS) <= attached, "the named requirements (+ crosswalk partners)"
    assert len(attached) > len(SUPPORTED_REQUIREMENT_URNS)
    finding = Finding.objects.get(ai_system=system, title__startswith="Robustness below threshold")
    assert "screen-pgd10 at ε = 4/255" in finding.description
    page = client.get(f"/robustness/evaluations/{run_id}/")
    assert page.status_code == 200 and b"<svg" in page.content and b"Adversarial examples" in page.content
    image = client.get(f"/robustness/evaluations/{run_id}/files/{run.result['examples'][0]['files']['perturbation']}")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


@pytest.mark.parametrize("broker_kind", ["sqlite", "redis"])
def test_a_worker_killed_mid_run_is_resumed_from_its_checkpoint_with_exactly_one_result(
        broker_kind, system, version, member, tmp_path):
    env = worker_environment(ROBUSTNESS_LEASE_SECONDS="3")
    with broker(broker_kind, tmp_path) as url:
        env["CELERY_BROKER_URL"] = url
        run = evaluation_run_request(ai_system=system, model_version=version, actor=member("risk_officer").user,
                                     config=SLOW_EVALUATION)
        with celery_worker(queues="robustness", env=env) as first:
            wait_for(EvaluationRun, run.pk, lambda row: row.checkpoint.get("next_batch", 0) >= 3, timeout=120,
                     what="three batches checkpointed")
            os.killpg(first.pid, signal.SIGKILL)
            killed_at = time.monotonic()
        interrupted = EvaluationRun.objects.get(pk=run.pk)
        assert interrupted.status == RunStatus.RUNNING and interrupted.attempt == 1
        wait_for(EvaluationRun, run.pk, lambda row: row.lease_expires_at < timezone.now(), timeout=30,
                 what="lease expired")
        with celery_worker(queues="robustness", env=env):
            assert runs_reap_expired_leases() == 1  # the server-less broker never redelivers: the reaper does
            done = wait_for(EvaluationRun, run.pk, finished, timeout=180, what="resumed run finished")
        resumed_after = time.monotonic() - killed_at
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert done.attempt == 2 and done.provenance["resumed_from_batch"] >= 3
    assert EvidenceVersion.objects.filter(metadata__run_id=run.pk).count() == 1
    reference = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=SLOW_EVALUATION)
    evaluation_run_execute(run_id=reference.pk)
    reference.refresh_from_db()
    assert _counts(done.result["record"]) == _counts(reference.result["record"]), "resume is exact"
    print(f"\n{broker_kind}: resumed and finished {resumed_after:.1f} s after the kill")


def _counts(record: dict) -> tuple:
    return (record["clean_accuracy"], [(r["attack"], r["eps"], r["robust_accuracy"], r["per_class"])
                                       for r in record["results"]])


def test_a_sharded_evaluation_merges_to_exactly_the_single_worker_result(system, version, member):
    config = {**QUICK_EVALUATION, "n_examples": 40, "split_attacks": True}
    sharded = evaluation_run_request(ai_system=system, model_version=version, actor=member("consultant").user,
                                     config=config, shards=4)
    assert sharded.shard_count == 4
    ranges = sorted({(s.start_batch, s.end_batch) for s in EvaluationShard.objects.filter(run=sharded)})
    assert ranges == [(0, 3), (3, 5)], "batch-aligned ranges × the two ε"
    with celery_worker(queues="robustness", concurrency=2):
        done = wait_for(EvaluationRun, sharded.pk, finished, timeout=240, what="sharded run finished")
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert set(EvaluationShard.objects.filter(run=sharded).values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    single = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=config)
    evaluation_run_execute(run_id=single.pk)
    single.refresh_from_db()
    merged, reference = done.result["record"], single.result["record"]
    assert _counts(merged) == _counts(reference)
    assert merged["clean_per_class"] == reference["clean_per_class"]
    assert EvidenceVersion.objects.filter(metadata__run_id=sharded.pk).count() == 1
