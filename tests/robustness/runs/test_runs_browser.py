"""A risk officer requests an evaluation in a real browser and watches it finish live."""

from __future__ import annotations

import pytest

from robustness.models import EvaluationRun, RunStatus
from tests.browser import ConsoleWatch, chromium, screenshot
from tests.conftest import PASSWORD
from tests.processes import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_risk_officer_requests_an_evaluation_and_watches_its_progress_live(live_server, system, version):
    with celery_worker(queues="robustness"), chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        watch = ConsoleWatch(page)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "oscar")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/robustness/systems/{system.pk}/evaluations/new/")
        page.select_option("#id_model_version", str(version.pk))
        page.fill("#id_n_examples", "96")
        page.fill("#id_batch_size", "8")
        page.click("main button.primary")
        page.wait_for_selector("[data-run-status-url]")
        run_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
        assert page.url.endswith(f"/robustness/evaluations/{run_id}/")
        # Running, then succeeded with charts: the page follows the run by polling its status JSON.
        page.locator("[data-field=status]", has_text="Running").wait_for(timeout=90_000)
        screenshot(page, "robustness-01-running")
        page.wait_for_selector("svg.chart", timeout=120_000)
        assert page.inner_text("[data-field=status]") == "Succeeded"
        assert page.locator("img[alt^='perturbation']").count() == 4
        screenshot(page, "robustness-02-results")
        assert watch.errors == []
    assert EvaluationRun.objects.get(pk=run_id).status == RunStatus.SUCCEEDED
