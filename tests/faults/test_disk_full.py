"""The disk fills up while a run writes its files (a worker started with the disk_full/ hook).

The run must fail with a reason that says so, keep nothing (no evidence, no findings, no file
or folder of its own under MEDIA_ROOT), and run again as soon as there is space.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from assessments.models import Evidence, EvidenceVersion, Finding
from robustness.models import EvaluationRun, RobustnessAlert, RunStatus
from robustness.services.run_requests import evaluation_run_request, run_rerun
from tests.processes import celery_worker, worker_environment
from tests.robustness.runs.conftest import QUICK_EVALUATION
from tests.robustness.runs.workers import finished, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOOK = Path(__file__).resolve().parent / "disk_full"


def tree(folder: Path) -> list[str]:
    """Every file and folder below `folder`, as sorted relative paths."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.mark.parametrize("full_folder", ["robustness", "evidence"], ids=["artifacts", "evidence-file"])
def test_a_run_that_fills_the_disk_fails_cleanly_and_runs_again_once_there_is_space(
        full_folder, client_as, system, version, member, tmp_path):
    media = Path(settings.MEDIA_ROOT)
    (media / "robustness" / "evaluations").mkdir(parents=True)  # what any earlier run leaves: the kind's folder
    switch = tmp_path / "disk-full"
    switch.write_text(str(media / full_folder))
    env = worker_environment(ANCHORAGE_TEST_DISK_FULL=str(switch),
                             PYTHONPATH=os.pathsep.join(filter(None, [str(HOOK), os.environ.get("PYTHONPATH")])))
    before = tree(media)
    officer = member("risk_officer").user
    run = evaluation_run_request(ai_system=system, model_version=version, actor=officer, config=QUICK_EVALUATION)
    with celery_worker(queues="robustness", env=env):
        failed = wait_for(EvaluationRun, run.pk, finished, timeout=120, what="run ended on the full disk")
        assert failed.status == RunStatus.FAILED and failed.attempt == 1
        assert failed.error.startswith("The disk is full (no space left on the device)"), failed.error
        assert (failed.evidence_version_id, failed.result, failed.artifacts) == (None, {}, [])
        assert (Evidence.objects.count(), EvidenceVersion.objects.count(), Finding.objects.count(),
                RobustnessAlert.objects.count()) == (0, 0, 0, 0)
        assert tree(media) == before, "no file or folder of the failed run is left"

        switch.unlink()  # space freed
        again = run_rerun(run=failed, actor=officer)
        done = wait_for(EvaluationRun, again.pk, finished, timeout=120, what="re-run finished")
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert EvidenceVersion.objects.get().metadata["run_id"] == again.pk
    assert sorted(path.name for path in (media / "robustness" / "evaluations" / str(again.pk) / "attempt-1").iterdir()
                  ) == sorted(item["name"] for item in done.artifacts)
    client = client_as("risk_officer")
    assert client.get(f"/api/v1/robustness/evaluations/{run.pk}/").json()["error"] == failed.error
    page = client.get(f"/robustness/evaluations/{run.pk}/")
    assert b"<strong>Error:</strong> The disk is full (no space left on the device)" in page.content
