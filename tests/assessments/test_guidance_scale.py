"""Guidance, not compliance: a framework declared `assessment_scale: guidance` (ISO/IEC 23894) shows its
results as "Addressed / Partly addressed / Not addressed" wherever a result is read — form, assessment page,
results list, API, exports, dashboard, snapshot and PDF — and its report never says "Compliant".
The stored values stay the same. oscar (risk officer) records, alice approves, audrey (auditor) reads.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections import Counter

import pytest
from django.urls import reverse

from assessments.forms import ResultForm
from assessments.models import Report, result_choices, result_label
from assessments.reporting.context import _verdict
from assessments.services import assessment_create, report_generate, report_request, requirement_result_update
from assessments.services.inference import inferred_from_text
from governance.models import AssessmentScale, Crosswalk, Relationship
from governance.models.jobs import JobStatus
from tests.assessments.factories import four_eyes_lock, framework_make

pytestmark = pytest.mark.usefixtures("frozen_clock")

GUIDANCE_CHOICES = [
    ("not_assessed", "Not assessed"), ("compliant", "Addressed"), ("partially_compliant", "Partly addressed"),
    ("non_compliant", "Not addressed"), ("not_applicable", "Not applicable"),
]
CONFORMITY_CHOICES = [
    ("not_assessed", "Not assessed"), ("compliant", "Compliant"), ("partially_compliant", "Partially compliant"),
    ("non_compliant", "Non-compliant"), ("not_applicable", "Not applicable"),
]


@pytest.fixture
def guide(db):
    framework = framework_make("iso-iec-23894", ["6.3.4", "6.4.2", "6.5"])
    framework.assessment_scale = AssessmentScale.GUIDANCE
    framework.save()
    return framework


@pytest.fixture
def recorded(acme, guide, system, oscar):
    """6.3.4 addressed, 6.4.2 partly addressed, 6.5 not addressed (each with a rationale)."""
    assessment = assessment_create(organisation=acme, framework=guide, ai_system=system, actor=oscar,
                                   title="Vision triage × 23894")
    results = {r.requirement.ref_id: r for r in assessment.results.select_related("requirement")}
    for ref, status in (("6.3.4", "compliant"), ("6.4.2", "partially_compliant"), ("6.5", "non_compliant")):
        requirement_result_update(result=results[ref], actor=oscar, result_status=status,
                                  rationale=f"{ref} reviewed with the risk owner.")
    return assessment


def _pdf_text(report: Report) -> str:
    text = subprocess.run(["pdftotext", report.file.path, "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def _generated(assessment, actor) -> Report:
    report = report_generate(report_id=report_request(assessment=assessment, actor=actor).pk)
    assert report.status == JobStatus.SUCCEEDED, report.error
    return report


# ----------------------------------------------------------------------------- the words


def test_a_guidance_scale_words_results_as_addressed_and_keeps_the_stored_values():
    assert result_choices(AssessmentScale.GUIDANCE) == GUIDANCE_CHOICES
    assert result_choices(AssessmentScale.CONFORMITY) == CONFORMITY_CHOICES
    assert result_label("partially_compliant", assessment_scale="guidance") == "Partly addressed"
    assert result_label("non_compliant", assessment_scale="conformity") == "Non-compliant"


def test_the_result_form_offers_the_guidance_words(acme):
    assert list(ResultForm(organisation=acme, assessment_scale="guidance").fields["result"].choices) == \
        GUIDANCE_CHOICES
    assert list(ResultForm(organisation=acme).fields["result"].choices) == CONFORMITY_CHOICES
    form = ResultForm({"result": "partially_compliant", "applicable": "on"}, organisation=acme,
                      assessment_scale="guidance")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["result"] == "partially_compliant"


def test_the_result_edit_page_offers_the_guidance_words(recorded, client_as):
    result = recorded.results.get(requirement__ref_id="6.4.2")
    content = client_as("risk_officer").get(reverse("assessments:result-edit", args=[result.pk])).content.decode()
    assert '<option value="partially_compliant" selected>Partly addressed</option>' in content
    assert '<option value="compliant">Addressed</option>' in content
    assert "Compliant" not in content and "Partially compliant" not in content


# ----------------------------------------------------------------------------- pages, API, exports, dashboard


def test_the_assessment_page_and_results_list_say_addressed(recorded, client_as):
    auditor = client_as("auditor")
    page = auditor.get(reverse("assessments:assessment-detail", args=[recorded.pk])).content.decode()
    assert '<span class="badge ok">Addressed</span>' in page
    assert '<span class="badge warn">Partly addressed</span>' in page
    assert '<span class="badge bad">Not addressed</span>' in page
    assert "Addressed: <strong>1</strong>" in page and "Not addressed: <strong>1</strong>" in page
    assert 'id="guidance-scale"' in page
    assert "Compliant" not in page and "Non-compliant" not in page
    listing = auditor.get(reverse("assessments:result-list"), {"current": "1"}).content.decode()
    assert '<span class="badge warn">Partly addressed</span>' in listing
    assert "Partially compliant" not in listing


def test_a_conformity_assessment_still_says_compliant(acme, nist, system, oscar, client_as):
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    result = assessment.results.get(requirement__ref_id="M1")
    requirement_result_update(result=result, actor=oscar, result_status="compliant", rationale="Tested.")
    page = client_as("auditor").get(reverse("assessments:assessment-detail", args=[assessment.pk])).content.decode()
    assert '<span class="badge ok">Compliant</span>' in page and 'id="guidance-scale"' not in page


def test_the_api_adds_a_result_label_and_keeps_the_stored_value(recorded, client_as):
    result = recorded.results.get(requirement__ref_id="6.4.2")
    body = client_as("auditor").get(f"/api/v1/requirement-results/{result.pk}/").json()
    assert (body["result"], body["result_label"]) == ("partially_compliant", "Partly addressed")
    framework = client_as("auditor").get(f"/api/v1/frameworks/{recorded.framework_id}/").json()
    assert framework["assessment_scale"] == "guidance"


def test_the_csv_and_xlsx_exports_say_addressed(recorded, client_as):
    from openpyxl import load_workbook

    auditor = client_as("auditor")
    answer = auditor.get(reverse("assessments:assessment-export", args=[recorded.pk, "soa.csv"]))
    rows = {row[0]: row for row in csv.reader(io.StringIO(answer.content.decode()))}
    assert [rows[ref][5] for ref in ("6.3.4", "6.4.2", "6.5")] == ["Addressed", "Partly addressed", "Not addressed"]
    answer = auditor.get(reverse("assessments:assessment-export", args=[recorded.pk, "soa.xlsx"]))
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)] == \
        ["Addressed", "Partly addressed", "Not addressed"]


def test_the_dashboard_says_addressed_for_a_guidance_framework(recorded, guide, client_as):
    page = client_as("auditor").get(reverse("dashboard"), {"framework": guide.pk}).content.decode()
    assert "guidance: addressed / partly addressed / not addressed" in page
    assert '<span class="cell compliant"></span> addressed <span class="cell partially_compliant"></span> ' \
           'partly addressed <span class="cell non_compliant"></span> not addressed' in page
    assert 'title="Partly addressed"' in page
    assert '<span class="visually-hidden">Not addressed</span>' in page
    coverage = client_as("auditor").get("/api/v1/dashboard/").json()["coverage"]
    row = next(c for c in coverage if c["framework"] == guide.pk)
    assert (row["assessment_scale"], row["partially_compliant"], row["result_labels"]["partially_compliant"]) == \
        ("guidance", 1, "Partly addressed")


def test_a_result_inferred_from_a_guidance_source_quotes_the_source_in_its_words(acme, guide, nist, system, oscar):
    target_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    source_assessment = assessment_create(organisation=acme, framework=guide, ai_system=system, actor=oscar)
    Crosswalk.objects.create(source=guide.requirements.get(ref_id="6.3.4"), target=nist.requirements.get(ref_id="M1"),
                             relationship=Relationship.EQUAL, rationale="both ask for risk criteria",
                             provenance="test", order=9)
    requirement_result_update(result=source_assessment.results.get(requirement__ref_id="6.3.4"), actor=oscar,
                              result_status="partially_compliant", rationale="Criteria drafted, not approved.")
    inferred = target_assessment.results.get(requirement__ref_id="M1")
    assert (inferred.is_inferred, inferred.result, inferred.result_label) == \
        (True, "partially_compliant", "Partially compliant")
    assert inferred_from_text(inferred) == \
        "Inferred from ISO-IEC-23894 6.3.4 (Partly addressed) via crosswalk (equal); not yet confirmed"


# ----------------------------------------------------------------------------- snapshot and PDF


def test_the_locked_snapshot_carries_the_scale_and_the_guidance_labels(recorded, oscar, alice):
    locked = four_eyes_lock(recorded, oscar, reviewer=alice)
    assert locked.snapshot["assessment"]["framework"]["assessment_scale"] == "guidance"
    rows = {row["requirement"]["ref_id"]: (row["result"], row["result_label"]) for row in locked.snapshot["results"]}
    assert rows == {"6.3.4": ("compliant", "Addressed"), "6.4.2": ("partially_compliant", "Partly addressed"),
                    "6.5": ("non_compliant", "Not addressed")}


def test_the_verdict_of_a_guidance_assessment_never_says_compliant():
    guidance = {
        "red": _verdict(Counter({"non_compliant": 1}), [], assessment_scale="guidance"),
        "amber": _verdict(Counter({"partially_compliant": 1}), [], assessment_scale="guidance"),
        "green": _verdict(Counter({"compliant": 3}), [], assessment_scale="guidance"),
    }
    assert guidance == {
        "red": ("red", "Not addressed: some of the guidance is not addressed, or open high-severity findings "
                       "remain."),
        "amber": ("amber", "Partly addressed: some of the guidance is partly addressed or not yet assessed."),
        "green": ("green", "Addressed: every applicable clause of the guidance is addressed (guidance, not a "
                           "conformity verdict)."),
    }
    assert _verdict(Counter({"compliant": 3}), []) == ("green", "Compliant: every applicable requirement is met.")


def test_a_final_pdf_of_a_guidance_assessment_reads_addressed_from_the_snapshot(acme, guide, system, oscar, alice):
    assessment = assessment_create(organisation=acme, framework=guide, ai_system=system, actor=oscar)
    for result in assessment.results.all():
        requirement_result_update(result=result, actor=oscar, result_status="compliant",
                                  rationale="Addressed in the risk procedure.")
    locked = four_eyes_lock(assessment, oscar, reviewer=alice)
    # The live rows move on after the lock; the Final PDF still says what the snapshot says.
    locked.results.filter(requirement__ref_id="6.5").update(result="non_compliant")
    text = _pdf_text(_generated(locked, oscar))
    assert "GREEN Addressed: every applicable clause of the guidance is addressed (guidance, not a conformity " \
           "verdict)." in text
    assert "Guidance standard (“should”), not certifiable" in text
    assert "Addressed Partly addressed Not addressed" in text  # the executive summary's count headings
    assert "Not addressed" in text and "Compliant" not in text and "compliant:" not in text
