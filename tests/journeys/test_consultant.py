"""Carol, a consultant, runs a 90-day engagement for her client Globex in a real browser.

She switches to the client, records a baseline assessment, opens the engagement (three phases,
actions with owners), diagnoses the class anchors of the client's model, retrains it with
alignment cross-entropy on a real Celery worker, watches the new model version being evaluated
automatically, and reads the before/after on the retraining run and on the engagement. Every
step is a screenshot under var/test-output/journeys/; any console error or unexpected failed
request fails the journey.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import Page

from assessments.models import Assessment, Engagement, EvidenceVersion
from governance.models.registry import AISystem
from robustness.models import AnchorAnalysis, EvaluationRun, RetrainingRun, RunStatus
from robustness.services.comparisons import before_after
from robustness.services.evaluations import evaluation_run_execute
from robustness.services.run_requests import evaluation_run_request
from tests.assessments.factories import framework_make
from tests.browser import chromium
from tests.journeys.harness import Journey, journey
from tests.processes import celery_worker
from tests.robustness.runs.conftest import QUICK_EVALUATION, make_version

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The worker shares two CPU cores with other work: one torch thread is many times faster.
os.environ["ROBUSTNESS_TORCH_THREADS"] = "1"
WORKER_WAIT = 240_000  # ms: a busy shared machine, never a fixed sleep
RETRAINING = {"id_steps": "4", "id_eps": "4/255", "id_batch_size": "8", "id_checkpoint_every": "2", "id_seed": "1"}


@pytest.fixture
def parcel_sorter(globex, settings, tmp_path) -> AISystem:
    """Globex's AI system with a tiny open_clip model, screened two weeks before the engagement."""
    settings.MEDIA_ROOT = tmp_path / "media"
    framework_make("nist", ["M1", "M2", "M3"])
    system = AISystem.objects.create(organisation=globex, name="Parcel sorter", intended_purpose="Sort parcels",
                                     robustness_thresholds=[{"attack": "screen-pgd10", "epsilon": 4 / 255,
                                                             "min_robust_accuracy": 0.9}])
    version = make_version(system)
    screening = evaluation_run_request(ai_system=system, model_version=version, actor=None, config=QUICK_EVALUATION)
    assert evaluation_run_execute(run_id=screening.pk) == "succeeded"
    screening.refresh_from_db()
    EvidenceVersion.objects.filter(pk=screening.evidence_version_id).update(
        uploaded_at=timezone.now() - timedelta(days=14))
    return system


def percent(value: float | None) -> str:
    """As the lab's pages show a fraction (Django's widthratio: a whole per cent)."""
    return "" if value is None else f"{round(value * 100)} %"


def points(change: float | None) -> str:
    """A change in points as the retraining page shows it: signed when positive, one decimal."""
    return "" if change is None else ("+" if change > 0 else "") + str(change)


def robust_at(record: dict, epsilon: float) -> float:
    return next(r["robust_accuracy"]["value"] for r in record["results"] if abs(r["eps"] - epsilon) < 1e-9)


def cells(page: Page, selector: str) -> list[list[str]]:
    return [[cell.strip() for cell in row] for row in page.locator(selector).evaluate_all(
        "rows => rows.map(row => [...row.children].map(cell => cell.innerText))")]


def open_engagement(j: Journey, title: str) -> Engagement:
    j.page.click("nav.mainnav >> text=Engagements")
    j.page.click("text=Open an engagement")
    j.page.fill("#id_title", title)
    j.page.fill("#id_description", "Find, diagnose and retrain the models that fail adversarial screening.")
    assert j.page.input_value("#id_start_date") == timezone.localdate().isoformat(), "today, prefilled"
    j.page.click("main button.primary")
    j.page.wait_for_selector(f"h1:has-text('{title}')")
    return Engagement.objects.get(pk=int(j.page.url.rstrip("/").rsplit("/", 1)[1]))


def add_action(j: Journey, *, title: str, phase: str, owner: str, due: str) -> None:
    j.page.click("text=Add action")
    j.page.fill("#id_title", title)
    j.page.select_option("#id_phase", label=phase)
    j.page.select_option("#id_owner", label=owner)
    j.page.fill("#id_due_date", due)
    j.page.click("main button.primary")
    j.page.wait_for_selector(f"td:has-text('{title}')")


def wait_until_finished(j: Journey) -> None:
    """The run page polls its status and reloads once when the run finishes."""
    j.page.wait_for_selector("[data-run-status-url][data-finished=true]", timeout=WORKER_WAIT)
    assert j.page.inner_text("[data-field=status]") == "Succeeded"


def test_consultant_runs_a_90_day_engagement_from_anchors_to_retraining(live_server, globex, parcel_sorter):
    parent = parcel_sorter.model_versions.get()
    screening = EvaluationRun.objects.get(model_version=parent)
    with celery_worker(queues="default,robustness"), chromium() as browser, \
            journey(browser, live_server.url, "consultant") as j:
        page = j.page
        j.login("carol")
        assert page.locator("#organisation-switch option:checked").inner_text() == "Acme Robotics"
        j.step("signed-in")

        # The client: Globex, through the header's organisation select.
        with page.expect_navigation():
            page.select_option("#organisation-switch", label="Globex")
        assert page.locator("#organisation-switch option:checked").inner_text() == "Globex"
        j.step("client-globex")

        # A baseline assessment of the client's AI system.
        page.click("nav.mainnav >> text=Assessments")
        page.click("text=New assessment")
        page.select_option("#id_framework", label="NIST (2023)")
        page.select_option("#id_ai_system", label="Parcel sorter")
        page.fill("#id_title", "Baseline: Parcel sorter")
        page.click("main button.primary")
        page.wait_for_selector("h1:has-text('Baseline: Parcel sorter')")
        baseline = Assessment.objects.get(title="Baseline: Parcel sorter")
        assert baseline.organisation == globex and baseline.ai_system == parcel_sorter
        j.step("baseline-assessment")

        # The engagement: the method's three phases, counted from today.
        engagement = open_engagement(j, "Parcel sorter remediation")
        start = timezone.localdate()
        assert engagement.organisation == globex and engagement.lead.username == "carol"
        assert (engagement.start_date, engagement.end_date) == (start, start + timedelta(days=89))
        plan = [[row[0].split("\n")[0], row[1], row[2]] for row in cells(page, "section:has(h2:text('Plan')) tbody tr")]
        assert plan == [[f"{p.order}. {p.title}", date_format(p.start_date), date_format(p.end_date)]
                        for p in engagement.phases.all()]
        assert [p.title for p in engagement.phases.all()] == [
            "Risk assessment", "Anchor definition", "Adversarial retraining and validation"]
        j.step("engagement-opened")

        page.select_option("#id_baseline", label="Baseline: Parcel sorter")
        page.click("text=Save baseline and closing sets")
        page.wait_for_selector("text=Baseline and closing sets saved.")
        assert list(engagement.baseline_assessments.all()) == [baseline]
        screened = screening.result["record"]
        assert cells(page, "table.robustness-change tr[data-when=before]")[0][1:] == [
            "Before", parent.version, f"{screened['clean_accuracy']['value']:.3f}",
            f"{min(r['robust_accuracy']['value'] for r in screened['results']):.3f}", "fail"]
        assert cells(page, "table.robustness-change tr[data-when=after]") == [
            ["After", "No robustness evidence since the start."]]
        j.step("baseline-posture")

        actions = [("Screen the Parcel sorter against its thresholds", "1. Risk assessment", "mallory", 20),
                   ("Diagnose and expand the class anchors", "2. Anchor definition", "carol", 50),
                   ("Retrain with alignment cross-entropy and validate",
                    "3. Adversarial retraining and validation", "carol", 85)]
        for title, phase, owner, day in actions:
            add_action(j, title=title, phase=phase, owner=owner, due=str(start + timedelta(days=day)))
        rows = cells(page, "section:has(h2:text('Actions')) tbody tr")
        assert [row[:3] for row in rows] == [[title, phase.split(". ", 1)[1], owner]
                                             for title, phase, owner, _ in actions]
        assert [(a.owner.username, a.phase.order, a.due_date) for a in engagement.actions.order_by("due_date")] == [
            ("mallory", 1, start + timedelta(days=20)), ("carol", 2, start + timedelta(days=50)),
            ("carol", 3, start + timedelta(days=85))]
        j.step("actions-with-owners")

        # Days 31–60: the anchor analysis, from the engagement into the lab.
        page.click("table.robustness-change >> text=Robustness runs")
        page.wait_for_selector("h1:has-text('Robustness runs')")
        j.step("lab")
        page.click("main a.button:has-text('Anchor analysis')")
        page.select_option("#id_model_version", label=str(parent))
        page.click("main button.primary")
        wait_until_finished(j)
        analysis = AnchorAnalysis.objects.get(ai_system=parcel_sorter)
        assert analysis.status == RunStatus.SUCCEEDED and page.url.endswith(f"/anchor-analyses/{analysis.pk}/")
        closest = analysis.result["train_before"]["most_confusable"]
        assert len(closest) == 5
        assert cells(page, "table.close-pairs >> nth=0 >> tbody tr") == [
            [f"{first} ↔ {second}", f"{cosine:.3f}"] for first, second, cosine in closest]
        assert f"k = {analysis.result['factor']:.3f}" in page.inner_text("main")
        j.step("anchor-diagnosis")

        # Days 61–90: alignment cross-entropy retraining, a tiny recipe of four steps.
        page.click(f"text=All runs of {parcel_sorter.name}")
        page.click("main a.button:has-text('Retraining')")
        page.select_option("#id_model_version", label=str(parent))
        assert page.input_value("#id_method") == ""  # the preset's method; with no preset, alignment CE
        assert page.input_value("#id_preset") == ""
        for field, value in RETRAINING.items():
            page.fill(f"#{field}", value)
        page.click("main button.primary")
        wait_until_finished(j)
        retraining = RetrainingRun.objects.get(ai_system=parcel_sorter)
        child = retraining.output_model_version
        assert child.parent == parent and retraining.config["steps"] == 4
        assert (retraining.config["method"], retraining.config["preset"]) == ("alignment-ce", "")
        assert child.version in page.inner_text("section:has(h2:text('New model version'))")
        j.step("retraining-finished")

        # The new version is evaluated automatically, with the screening's settings.
        page.click("section:has(h2:text('Before and after')) >> text=/evaluation #\\d+/ >> nth=1")
        wait_until_finished(j)
        after = EvaluationRun.objects.get(model_version=child)
        assert page.url.endswith(f"/evaluations/{after.pk}/") and after.retraining == retraining
        assert after.config == screening.config
        j.step("child-evaluated")

        page.click(f"text=retraining #{retraining.pk}")
        page.wait_for_selector("section:has(h2:text('Before and after')) table")
        comparison = before_after(screening.result["record"], after.result["record"])
        assert [row["what"] for row in comparison] == ["clean", "screen-pgd10 @ 1/255", "screen-pgd10 @ 4/255"]
        assert cells(page, "section:has(h2:text('Before and after')) tbody tr") == [
            [row["what"], percent(row["before"]), percent(row["after"]), points(row["change_points"])]
            for row in comparison]
        j.step("before-after")

        # Closing the retraining action with the new evidence; the engagement's before/after.
        page.click("nav.mainnav >> text=Engagements")
        page.click("text=Parcel sorter remediation")
        page.locator("section:has(h2:text('Actions')) tr", has_text=actions[2][0]).locator("text=Edit").click()
        page.select_option("#id_status", label="Done")
        page.fill("#id_progress", "100")
        evidence = EvidenceVersion.objects.get(pk=after.evidence_version_id)
        page.select_option("#id_closure_evidence", label=str(evidence))
        page.click("main button.primary")
        page.wait_for_selector("h1:has-text('Parcel sorter remediation')")
        closed = cells(page, f"section:has(h2:text('Actions')) tbody tr:has-text('{actions[2][0]}')")[0]
        assert closed[4] == "Done" and closed[7] == str(evidence)
        measured = after.result["record"]
        assert cells(page, "table.robustness-change tr[data-when=after]")[0] == [
            "After", child.version, f"{measured['clean_accuracy']['value']:.3f}",
            f"{min(r['robust_accuracy']['value'] for r in measured['results']):.3f}",
            "pass" if robust_at(measured, 4 / 255) >= 0.9 else "fail"]
        assert cells(page, "table.robustness-change tr[data-when=before]")[0][2] == parent.version
        j.step("engagement-before-after")
        j.finish()
    assert [shot.name for shot in j.screenshots] == [f"consultant-{n:02d}-{label}.png" for n, label in enumerate(
        ["signed-in", "client-globex", "baseline-assessment", "engagement-opened", "baseline-posture",
         "actions-with-owners", "lab", "anchor-diagnosis", "retraining-finished", "child-evaluated", "before-after",
         "engagement-before-after"], start=1)]
