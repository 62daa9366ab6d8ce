"""One threshold judge: the finding a run opens, the dashboard, the evidence page and the PDF all agree
(issue #13, point 4). The case: robust accuracy passes, only the clean-accuracy threshold fails."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from assessments.models import Finding
from assessments.reporting.pdf import report_html
from assessments.selectors.dashboard import dashboard_get
from assessments.services import assessment_create, report_request
from governance.models import AISystem
from governance.thresholds import ThresholdCheck, thresholds_judge
from robustness.services.comparisons import threshold_failures
from tests.assessments.factories import ENGINE_RECORD, model_version_make
from tests.assessments.machine_runs import run_published
from tests.conftest import FROZEN_NOW

# The record measures clean 0.91 and, under screen-pgd10, 0.62 at 1/255 and 0.21 at 4/255.
ONLY_CLEAN_FAILS = [{"attack": "screen-pgd10", "epsilon": 4 / 255, "min_robust_accuracy": 0.20,
                     "min_clean_accuracy": 0.95}]
pytestmark = pytest.mark.usefixtures("frozen_clock")


def _record(clean: float | None, *points: tuple[str, float, float]) -> dict[str, Any]:
    """The parts of a `RobustnessRecordDict` the judge reads."""
    record: dict[str, Any] = {"results": [{"attack": attack, "eps": eps, "robust_accuracy": {"value": accuracy}}
                                          for attack, eps, accuracy in points]}
    if clean is not None:
        record["clean_accuracy"] = {"value": clean, "low": clean, "high": clean}
    return record


@pytest.fixture
def strict_system(acme) -> AISystem:
    return AISystem.objects.create(organisation=acme, name="Strict sorter", intended_purpose="Sort parcels",
                                   robustness_thresholds=ONLY_CLEAN_FAILS)


def test_the_judge_gives_one_verdict_per_threshold_and_metric():
    verdicts = thresholds_judge(_record(0.91, ("screen-pgd10", 4 / 255, 0.21)), ONLY_CLEAN_FAILS)
    assert verdicts == (
        ThresholdCheck(attack="screen-pgd10", epsilon_label="4/255", minimum=0.20, measured=0.21, passed=True,
                         metric="robust_accuracy", epsilon=4 / 255),
        ThresholdCheck(attack="screen-pgd10", epsilon_label="4/255", minimum=0.95, measured=0.91, passed=False,
                         metric="clean_accuracy", epsilon=4 / 255),
    )
    assert [v.label for v in verdicts] == ["screen-pgd10 at ε = 4/255", "clean accuracy"]


def test_the_judge_says_not_measured_rather_than_guess():
    verdicts = thresholds_judge(_record(None, ("cw-linf", 4 / 255, 0.9)), ONLY_CLEAN_FAILS)
    assert [(v.metric, v.measured, v.passed) for v in verdicts] == [("robust_accuracy", None, None),
                                                                    ("clean_accuracy", None, None)]


@pytest.mark.parametrize("row", [None, "screen-pgd10", {"attack": "screen-pgd10", "epsilon": "x",
                                                         "min_robust_accuracy": 0.1},
                                 {"attack": "screen-pgd10", "epsilon": 4 / 255, "min_robust_accuracy": "high"}])
def test_the_judge_skips_rows_it_cannot_read(row):
    assert thresholds_judge(_record(0.9, ("screen-pgd10", 4 / 255, 0.5)), [row]) == ()


def test_a_measurement_equal_to_the_minimum_passes():
    verdicts = thresholds_judge(_record(0.9, ("screen-pgd10", 4 / 255, 0.21)),
                                [{"attack": "screen-pgd10", "epsilon": "4/255", "min_robust_accuracy": 0.21}])
    assert [v.passed for v in verdicts] == [True]


def test_finding_dashboard_evidence_page_and_pdf_agree_when_only_clean_accuracy_fails(
        acme, strict_system, oscar, client_as, nist):
    _, evidence, _ = run_published(strict_system, model_version_make(strict_system))

    # The finding the run opened.
    finding = Finding.objects.get(ai_system=strict_system, title__startswith="Robustness below threshold")
    assert finding.description.splitlines()[1:] == ["- clean accuracy: measured 91.0%, required at least 95.0%"]
    assert [(f["metric"], f["measured"], f["minimum"]) for f in finding.metadata["failures"]] == [
        ("clean_accuracy", 0.91, 0.95)]
    assert [f["metric"] for f in threshold_failures(ENGINE_RECORD, ONLY_CLEAN_FAILS)] == ["clean_accuracy"]

    # The dashboard.
    dashboard = dashboard_get(organisation=acme, today=FROZEN_NOW.date(), ai_system=strict_system)
    [summary] = dashboard.robustness
    assert (summary.passed, summary.failed_labels) == (False, ("clean accuracy",))
    page = client_as("auditor").get(reverse("dashboard")).content.decode()
    assert 'badge bad">fail</span> <span class="help">clean accuracy</span>' in page

    # The evidence page.
    evidence_page = client_as("auditor").get(reverse("assessments:evidence-detail", args=[evidence.pk]))
    text = evidence_page.content.decode()
    assert 'screen-pgd10 at ε = 4/255 ≥ 0.2: <span class="badge ok">pass</span>' in text
    assert 'clean accuracy ≥ 0.95: <span class="badge bad">fail</span>' in text

    # The PDF (its HTML, the very source WeasyPrint renders).
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=strict_system, actor=oscar)
    html, context = report_html(report=report_request(assessment=assessment, actor=oscar))
    [pdf_summary] = context["robustness_summaries"]
    assert [(c.label, c.passed) for c in pdf_summary.checks] == [("screen-pgd10 at ε = 4/255", True),
                                                                 ("clean accuracy", False)]
    assert pdf_summary.passed is False
    assert '<td>clean accuracy</td><td>0.950</td><td>0.910</td><td><span class="fail">FAIL</span>' in html


def test_the_record_contract_is_the_engine_record():
    records = pytest.importorskip("robustness.engine.records")
    from dataclasses import fields

    from governance.thresholds import AccuracyDict, ClassAccuracyDict, RobustnessRecordDict, RobustnessResultDict
    from robustness.engine.metrics import Interval

    assert set(RobustnessRecordDict.__annotations__) == {f.name for f in fields(records.RobustnessRecord)}
    assert set(RobustnessResultDict.__annotations__) == {f.name for f in fields(records.AttackResult)}
    assert set(ClassAccuracyDict.__annotations__) == {f.name for f in fields(records.ClassAccuracy)}
    assert set(AccuracyDict.__annotations__) == {f.name for f in fields(Interval)}
