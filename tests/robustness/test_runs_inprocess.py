"""Runs executed in this process (the worker's service body, without a broker)."""

from __future__ import annotations

import pytest

from assessments.models import EvidenceVersion, Finding
from robustness.models import EvaluationRun, RunStatus
from robustness.services.evaluations import evaluation_run_execute
from robustness.services.requests import evaluation_run_request
from tests.robustness.conftest import QUICK_EVALUATION

pytestmark = pytest.mark.django_db


def test_an_evaluation_run_finishes_with_a_record_evidence_and_a_threshold_finding(system, version, member):
    oscar = member("risk_officer").user
    run = evaluation_run_request(ai_system=system, model_version=version, actor=oscar, config=QUICK_EVALUATION)
    assert evaluation_run_execute(run_id=run.pk) == "succeeded"
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    record = run.result["record"]
    assert record["n_examples"] == 24 and len(record["results"]) == 2
    assert EvidenceVersion.objects.filter(pk=run.evidence_version_id).exists()
    assert Finding.objects.filter(ai_system=system, title__startswith="Robustness below threshold").count() == 1
