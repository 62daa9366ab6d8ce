"""Behaviour through the API and pages: lock immutability, inference marks, verify, exports, schedules."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from assessments.models import Finding, RequirementResult
from assessments.services import (
    ServiceError,
    action_create,
    action_update,
    assessment_create,
    engagement_assessments_set,
    engagement_create,
    finding_create,
    finding_update,
    report_generate,
    report_request,
    requirement_result_update,
)
from assessments.services.findings import findings_raise_for_missing_robustness_terms
from assessments.services.snapshot import canonical_sha256
from governance.models import EUAIActClassification, TrainingObjectiveCard
from tests.assessments.factories import evidence_with_version, four_eyes_lock, model_version_make

# Evidence validity, action due dates and expiry runs carry calendar dates: the clock stands still.
pytestmark = pytest.mark.usefixtures("frozen_clock")

API = "/api/v1"


def _locked(assessment, actor):
    return four_eyes_lock(assessment, actor)


def test_api_refuses_edits_of_a_locked_assessment(acme, nist, system, oscar, client_as):
    locked = _locked(assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar), oscar)
    result = locked.results.first()
    client = client_as("org_admin")
    response = client.patch(f"{API}/requirement-results/{result.pk}/", {"result": "non_compliant"},
                            content_type="application/json")
    assert response.status_code == 409
    assert client.patch(f"{API}/assessments/{locked.pk}/", {"title": "x"},
                        content_type="application/json").status_code == 409
    assert client.post(f"{API}/assessments/{locked.pk}/return-to-draft/").status_code == 409
    assert RequirementResult.objects.get(pk=result.pk).result == result.result
    snapshot = client.get(f"{API}/assessments/{locked.pk}/snapshot/")
    assert snapshot["X-Content-SHA256"] == locked.snapshot_sha256 == canonical_sha256(json.loads(snapshot.content))


def test_api_result_update_marks_inferred_results_with_their_mapping(acme, nist, iso, system, oscar, client_as):
    nist_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    iso_assessment = assessment_create(organisation=acme, framework=iso, ai_system=system, actor=oscar)
    m1 = nist_assessment.results.get(requirement__ref_id="M1")
    client = client_as("consultant")
    assert client.patch(f"{API}/requirement-results/{m1.pk}/", {"result": "compliant"},
                        content_type="application/json").status_code == 200
    listed = client.get(f"{API}/requirement-results/", {"assessment": iso_assessment.pk, "is_inferred": "true"})
    rows = listed.json()["results"]
    assert [(r["requirement_ref_id"], r["result"], r["is_inferred"]) for r in rows] == [("A1", "compliant", True)]
    assert rows[0]["inferred_via_label"] == "M1 equal A1"
    page = client.get(reverse("assessments:assessment-detail", args=[iso_assessment.pk])).content.decode()
    assert "Inferred from NIST M1 (Compliant) via crosswalk (equal); not yet confirmed" in page
    reviewed = client.post(f"{API}/requirement-results/{rows[0]['id']}/review/", {"accept": True},
                           content_type="application/json")
    # Accepting confirms the inference; the result stays inferred, with its source (issue #13).
    assert (reviewed.json()["is_inferred"], reviewed.json()["inference_confirmed_by"]) == (
        True, get_user_model().objects.get(username="carol").pk)


def test_verify_page_matches_evidence_and_report_and_mismatch(acme, nist, system, oscar, client_as):
    _, version = evidence_with_version(acme, oscar, content=b"signed policy")
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    report = report_generate(report_id=report_request(assessment=assessment, actor=oscar).pk)
    client = client_as("auditor")
    url = reverse("assessments:verify")
    match = client.post(url, {"file": SimpleUploadedFile("p.txt", b"signed policy")})
    assert match.context["outcome"].evidence_versions == [version] and b"Match" in match.content
    pdf = report.file.open("rb").read()
    report_match = client.post(url, {"file": SimpleUploadedFile("r.pdf", pdf)})
    assert report_match.context["outcome"].reports == [report]
    miss = client.post(url, {"file": SimpleUploadedFile("p.txt", b"tampered policy")})
    assert not miss.context["outcome"].matched and b"No match" in miss.content
    api = client.post(f"{API}/verify/", {"file": SimpleUploadedFile("p.txt", b"signed policy")})
    assert api.json()["matched"] is True and api.json()["sha256"] == hashlib.sha256(b"signed policy").hexdigest()


def test_verify_does_not_see_another_organisations_files(acme, globex, oscar, client_as):
    evidence_with_version(globex, None, content=b"globex secret")
    response = client_as("auditor").post(reverse("assessments:verify"),
                                         {"file": SimpleUploadedFile("s.txt", b"globex secret")})
    assert not response.context["outcome"].matched


def test_exports_csv_xlsx_json(acme, nist, system, oscar, client_as):
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    _, version = evidence_with_version(acme, oscar, title="=cmd|evil", content=b"x")
    requirement_result_update(result=assessment.results.get(requirement__ref_id="M1"), actor=oscar,
                              result_status="compliant", evidence_versions=[version])
    client = client_as("auditor")

    def get(kind):
        return client.get(reverse("assessments:assessment-export", args=[assessment.pk, kind]))

    soa = list(csv.reader(io.StringIO(get("soa.csv").content.decode())))
    assert soa[0][0] == "ref_id" and [row[0] for row in soa[1:]] == ["M1", "M2", "M3"]
    manifest = list(csv.reader(io.StringIO(get("manifest.csv").content.decode())))
    assert manifest[1][4] == version.sha256 and manifest[1][0] == "'=cmd|evil"  # formula injection defused
    workbook = load_workbook(io.BytesIO(get("manifest.xlsx").content))
    assert workbook.active["E2"].value == version.sha256
    assert load_workbook(io.BytesIO(get("soa.xlsx").content)).active.max_row == 4
    snapshot = json.loads(get("snapshot.json").content)
    assert snapshot["results"][0]["evidence_versions"][0]["sha256"] == version.sha256


def test_schedule_periodic_tasks_is_idempotent(db):
    call_command("schedule_periodic_tasks", verbosity=0)
    call_command("schedule_periodic_tasks", verbosity=0)
    tasks = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"assessments.tasks.evidence_expiry_task", "assessments.tasks.robustness_term_findings_task"} <= tasks
    assert PeriodicTask.objects.filter(task="assessments.tasks.evidence_expiry_task").count() == 1


def test_expiry_task_runs_the_service(acme, oscar):
    from assessments.models import Evidence
    from assessments.tasks import evidence_expiry_task

    evidence_with_version(acme, oscar, valid_until=timezone.localdate() + timedelta(days=1))
    Evidence.objects.update(valid_until=timezone.localdate() - timedelta(days=1))  # two days later
    assert evidence_expiry_task() == {"evidence_expired": 1, "results_marked": 0}


def test_finding_lifecycle(acme, oscar):
    finding = finding_create(organisation=acme, title="t", description="", severity="high", actor=oscar,
                             source="manual")
    finding = finding_update(finding=finding, actor=oscar, status="resolved")
    assert finding.closed_at is not None
    with pytest.raises(ServiceError):
        finding_update(finding=finding, actor=oscar, status="in_remediation")
    assert finding_update(finding=finding, actor=oscar, status="verified").status == "verified"


def test_closing_an_action_needs_closure_evidence_and_overdue_stands_out(acme, oscar, client_as):
    engagement = engagement_create(organisation=acme, title="E", start_date=date(2026, 10, 1), actor=oscar)
    action = action_create(engagement=engagement, title="Retrain", actor=oscar, due_date=date(2026, 11, 1))
    with pytest.raises(ServiceError, match="closure evidence"):
        action_update(action=action, actor=oscar, status="done")
    page = client_as("auditor").get(reverse("assessments:engagement-detail", args=[engagement.pk])).content.decode()
    assert "overdue" in page and "<svg" in page
    _, version = evidence_with_version(acme, oscar)
    done = action_update(action=action, actor=oscar, status="done", closure_evidence=[version])
    assert done.progress == 100 and done.closed_at is not None


def test_engagement_before_after_posture(acme, nist, system, oscar, client_as):
    engagement = engagement_create(organisation=acme, title="E", start_date=date(2026, 10, 1), actor=oscar)
    baseline = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    closing = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    for result in closing.results.all():
        requirement_result_update(result=result, actor=oscar, result_status="compliant", infer=False)
    engagement_assessments_set(engagement=engagement, actor=oscar, baseline=[baseline], closing=[closing])
    response = client_as("auditor").get(reverse("assessments:engagement-detail", args=[engagement.pk]))
    posture = response.context["posture"]
    assert [(p.before_percent, p.after_percent) for p in posture] == [(0, 100)]


def test_missing_robustness_term_raises_one_finding(acme, system, oscar):
    version = model_version_make(system)
    EUAIActClassification.objects.create(organisation=acme, ai_system=system, result="high_risk_annex_iii",
                                         rationale="Annex III 5(b)", classified_at=timezone.now())
    TrainingObjectiveCard.objects.create(organisation=acme, model_version=version,
                                         has_adversarial_robustness_term=False)
    assert len(findings_raise_for_missing_robustness_terms(organisation=acme, actor=None)) == 1
    assert findings_raise_for_missing_robustness_terms(organisation=acme, actor=None) == []
    assert Finding.objects.get().severity == "high"


def test_openapi_schema_lists_the_endpoints(client_as):
    schema = client_as("auditor").get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/assessments/", "/api/v1/requirement-results/{id}/review/", "/api/v1/evidence/{id}/versions/",
                 "/api/v1/reports/{id}/download/", "/api/v1/verify/", "/api/v1/actions/", "/api/v1/dashboard/"):
        assert path in schema


def test_api_lists_paginate_and_filter(acme, oscar, client_as):
    for index in range(3):
        finding_create(organisation=acme, title=f"f{index}", description="", actor=oscar, source="manual",
                       severity="high" if index else "low")
    body = client_as("auditor").get(f"{API}/findings/", {"severity": "high"}).json()
    assert body["count"] == 2 and "next" in body and len(body["results"]) == 2


def test_bad_filters_are_400_not_500(client_as):
    client = client_as("auditor")
    assert client.get(reverse("assessments:result-list"), {"framework": "x"}).status_code == 400
    assert client.get(reverse("dashboard"), {"ai_system": "1 or 1"}).status_code == 400
    assert client.get(f"{API}/requirement-results/", {"assessment": "abc"}).status_code == 400
    assert client.get(f"{API}/evidence/", {"requirement": "abc"}).status_code == 400


def test_report_page_has_no_inline_script_and_polls_while_running(acme, nist, system, oscar, client_as):
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    report = report_request(assessment=assessment, actor=oscar)
    content = client_as("auditor").get(reverse("assessments:report-detail", args=[report.pk])).content.decode()
    assert "<script>" not in content and "js/assessments.js" in content and "data-poll=\"/reports/" in content
    status = client_as("auditor").get(reverse("assessments:report-detail", args=[report.pk]), {"format": "json"})
    assert status.json()["status"] == "pending"
