"""Final means final: a Final PDF renders from the locked snapshot only, says one status on every page,
prints its sign-off records, and auditors attest finished Final reports by their SHA-256.

oscar records, alice (named reviewer) approves, oscar locks, audrey audits; real PDFs, read with pdftotext.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.models import Finding, Report, ReportAttestation
from assessments.services import (
    ServiceError,
    assessment_create,
    finding_create,
    report_attest,
    report_generate,
    report_request,
    requirement_result_review,
    requirement_result_update,
)
from assessments.services.common import ConflictError, NotPermittedError
from assessments.services.inference import inferred_from_text
from governance.models import AISystem, AuditEvent
from governance.models.jobs import JobStatus
from tests.assessments.factories import evidence_with_version, four_eyes_lock, robustness_evidence

pytestmark = pytest.mark.usefixtures("frozen_clock")
API = "/api/v1"
FINAL = "Final — assessment locked 2026-11-20 09:00 UTC"


def _pages(report: Report) -> list[str]:
    text = subprocess.run(["pdftotext", report.file.path, "-"], check=True, capture_output=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _generated(assessment, actor) -> Report:
    report = report_generate(report_id=report_request(assessment=assessment, actor=actor).pk)
    assert report.status == JobStatus.SUCCEEDED, report.error
    return report


def _signoff(pages: list[str]) -> str:
    return next(_flat(page) for page in pages if "Auditor attestations" in page and "Contents" not in page)


def _events(organisation) -> int:
    return AuditEvent.objects.filter(organisation=organisation).count()


@pytest.fixture
def locked(acme, nist, system, model_version, oscar, alice):
    """M1 compliant with evidence, M2 non-compliant with robustness evidence, M3 not assessed with a reason."""
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, model_version=model_version,
                                   actor=oscar, title="Vision triage 2026")
    _, policy = evidence_with_version(acme, oscar, title="Testing policy", content=b"policy text")
    _, record = robustness_evidence(acme, oscar, system)
    results = {r.requirement.ref_id: r for r in assessment.results.select_related("requirement")}
    requirement_result_update(result=results["M1"], actor=oscar, result_status="compliant",
                              evidence_versions=[policy])
    requirement_result_update(result=results["M2"], actor=oscar, result_status="non_compliant",
                              rationale="Robust accuracy below threshold.", evidence_versions=[record])
    requirement_result_update(result=results["M3"], actor=oscar, not_assessed_reason="Deployment starts in 2027.")
    finding_create(organisation=acme, title="Robust accuracy 0.21 at 4/255", description="", severity="high",
                   actor=oscar, source="manual", ai_system=system)
    return four_eyes_lock(assessment, oscar, reviewer=alice)


def test_final_pdf_renders_the_snapshot_not_rows_changed_after_the_lock(locked, acme, system, oscar):
    # After the lock the live world moves on: the system is renamed, the finding is closed and
    # retitled, a new finding and a new robustness record appear.
    AISystem.objects.filter(pk=system.pk).update(name="Renamed after lock")
    Finding.objects.filter(organisation=acme).update(title="Retitled after lock", status="closed")
    finding_create(organisation=acme, title="Appeared after lock", description="", severity="critical",
                   actor=oscar, source="manual", ai_system=system)
    robustness_evidence(acme, oscar, system, model_version="9.9")
    report = _generated(locked, oscar)
    text = _flat("\n".join(_pages(report)))
    assert "Robust accuracy 0.21 at 4/255" in text and "Vision triage" in text
    for live_only in ("Renamed after lock", "Retitled after lock", "Appeared after lock", "9.9"):
        assert live_only not in text
    assert "RED Not compliant" in text  # the verdict as locked: the high finding was open then
    assert "Rendered from the locked snapshot only" in text
    assert report.manifest == locked.snapshot["manifest"] and report.manifest_sha256 == \
        locked.snapshot["manifest_sha256"]
    assert "Reason: Deployment starts in 2027." in text


def test_one_status_on_every_page_of_a_final_report(locked, oscar):
    pages = _pages(_generated(locked, oscar))
    assert len(pages) >= 5
    assert all(FINAL in _flat(page) for page in pages)  # cover, every running header, the sign-off
    assert "DRAFT" not in "".join(pages)
    signoff = _signoff(pages)
    assert f"Status {FINAL}" in signoff


def test_one_status_on_every_page_of_a_draft(acme, nist, system, oscar):
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    pages = _pages(_generated(assessment, oscar))
    status = "DRAFT — not final: assessment draft, not locked"
    assert all(status in _flat(page) for page in pages)
    assert "Final —" not in "".join(pages)
    assert "A draft cannot be attested" in _flat("".join(pages))


def test_sign_off_prints_who_prepared_approved_and_locked_instead_of_blank_lines(locked, oscar):
    pages = _pages(_generated(locked, oscar))
    signoff = _signoff(pages)
    assert "Prepared by (recorded the results) oscar" in signoff
    assert ("Approved by alice, 2026-11-20 09:00 UTC (a named reviewer who recorded no result)") in signoff
    assert "Locked by oscar, 2026-11-20 09:00 UTC" in signoff
    assert "name, role, date" not in signoff
    assert "No attestation of an earlier report of this assessment was recorded" in signoff


def test_a_final_report_never_renders_without_a_locked_snapshot(acme, nist, system, oscar):
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    report = report_request(assessment=assessment, actor=oscar)
    Report.objects.filter(pk=report.pk).update(is_draft=False)  # a row claiming Final for an open assessment
    failed = report_generate(report_id=report.pk)
    assert failed.status == JobStatus.FAILED and not failed.file
    assert "has no locked snapshot" in failed.error


def test_snapshot_and_pdf_carry_the_inference_provenance(acme, nist, iso, system, oscar, carol, alice):
    nist_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=carol)
    iso_assessment = assessment_create(organisation=acme, framework=iso, ai_system=system, actor=oscar)
    _, policy = evidence_with_version(acme, carol, title="Shared policy")
    requirement_result_update(result=nist_assessment.results.get(requirement__ref_id="M1"), actor=carol,
                              result_status="compliant", evidence_versions=[policy])
    a1 = iso_assessment.results.get(requirement__ref_id="A1")
    requirement_result_review(result=a1, actor=oscar)  # a person confirms the proposal
    a1.refresh_from_db()
    provenance = inferred_from_text(a1)
    assert provenance.startswith("Inferred from NIST M1")
    locked = four_eyes_lock(iso_assessment, oscar, reviewer=alice)
    rows = {row["requirement"]["ref_id"]: row for row in locked.snapshot["results"]}
    assert rows["A1"]["inferred_from_text"] == provenance
    assert rows["A2"]["inferred_from_text"] == ""
    text = _flat("\n".join(_pages(_generated(locked, oscar))))
    assert provenance in text


# Attestations.

def test_auditor_attests_a_final_report_by_its_sha256(locked, audrey, oscar, acme):
    report = _generated(locked, oscar)
    before = _events(acme)
    attestation = report_attest(report=report, actor=audrey, report_sha256=report.sha256.upper(),
                                comment="Read in full; hashes match the manifest.")
    assert (attestation.report, attestation.attested_by, attestation.report_sha256) == (report, audrey,
                                                                                         report.sha256)
    assert str(attestation.attested_at) == "2026-11-20 09:00:00+00:00"
    event = AuditEvent.objects.filter(organisation=acme).order_by("-sequence").first()
    assert _events(acme) == before + 1 and event.object_type == "assessments.ReportAttestation"
    assert event.changes["report_sha256"] == report.sha256


@pytest.mark.parametrize(("case", "error", "message"), [
    ("wrong hash", ServiceError, "is not that of"),
    ("twice", ConflictError, "You have already attested"),
    ("risk officer", NotPermittedError, "Only an auditor of the organisation may attest a report."),
    ("draft", ConflictError, "is a draft: only a Final report"),
    ("pending", ConflictError, "is not generated yet (pending)"),
])
def test_attestation_refusals_say_why_and_store_nothing(case, error, message, locked, acme, nist, system, audrey,
                                                        oscar):
    report = _generated(locked, oscar)
    actor, sha256 = audrey, report.sha256
    if case == "wrong hash":
        sha256 = "0" * 64
    elif case == "twice":
        report_attest(report=report, actor=audrey, report_sha256=report.sha256)
    elif case == "risk officer":
        actor = oscar
    elif case == "draft":
        draft = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
        report = _generated(draft, oscar)
        sha256 = report.sha256
    elif case == "pending":
        report = report_request(assessment=locked, actor=oscar)
    count, before = ReportAttestation.objects.count(), _events(acme)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        report_attest(report=report, actor=actor, report_sha256=sha256)
    assert (ReportAttestation.objects.count(), _events(acme)) == (count, before)


def test_attestation_of_a_tampered_file_is_refused(locked, audrey, oscar):
    report = _generated(locked, oscar)
    Path(report.file.path).write_bytes(b"%PDF-1.7 replaced")
    with pytest.raises(ConflictError, match="no longer matches its recorded SHA-256"):
        report_attest(report=report, actor=audrey, report_sha256=report.sha256)
    assert not ReportAttestation.objects.exists()


def test_api_attest_answers_201_400_403_409(locked, client_as, oscar):
    report = _generated(locked, oscar)
    url = f"{API}/reports/{report.pk}/attest/"
    auditor = client_as("auditor")
    wrong = auditor.post(url, {"report_sha256": "ab" * 32}, content_type="application/json")
    assert wrong.status_code == 400 and "is not that of" in wrong.json()[0]
    assert client_as("risk_officer").post(url, {"report_sha256": report.sha256},
                                          content_type="application/json").status_code == 403
    made = auditor.post(url, {"report_sha256": report.sha256, "comment": "ok"}, content_type="application/json")
    assert made.status_code == 201
    assert (made.json()["attested_by_username"], made.json()["report_sha256"]) == ("audrey", report.sha256)
    again = auditor.post(url, {"report_sha256": report.sha256}, content_type="application/json")
    assert again.status_code == 409 and again.json() == [f"You have already attested {report.report_id}."]
    listed = auditor.get(f"{API}/reports/{report.pk}/").json()["attestations"]
    assert [(a["attested_by_username"], a["comment"]) for a in listed] == [("audrey", "ok")]


def test_web_attest_from_the_report_page(locked, client_as, oscar):
    report = _generated(locked, oscar)
    auditor = client_as("auditor")
    page = auditor.get(reverse("assessments:report-detail", args=[report.pk])).content.decode()
    assert f'action="{reverse("assessments:report-attest", args=[report.pk])}"' in page
    refused = auditor.post(reverse("assessments:report-attest", args=[report.pk]),
                           {"report_sha256": "nope"}, follow=True)
    assert [str(m) for m in refused.context["messages"]] == [
        f"The SHA-256 given (nope) is not that of {report.report_id} ({report.sha256}): attest the file you verified."]
    assert not ReportAttestation.objects.exists()
    done = auditor.post(reverse("assessments:report-attest", args=[report.pk]),
                        {"report_sha256": report.sha256, "comment": "Checked."}, follow=True)
    assert [str(m) for m in done.context["messages"]] == [f"{report.report_id} attested."]
    assert "Attested by <strong>audrey</strong> at 2026-11-20 09:00 UTC" in done.content.decode()
    assert f"You have already attested {report.report_id}." in done.content.decode()
    assert client_as("consultant").post(reverse("assessments:report-attest", args=[report.pk]),
                                        {"report_sha256": report.sha256}).status_code == 403


def test_later_final_reports_print_earlier_attestations_and_verify_lists_them(locked, audrey, oscar, client_as):
    first = _generated(locked, oscar)
    report_attest(report=first, actor=audrey, report_sha256=first.sha256, comment="Version 1 read.")
    second = _generated(locked, oscar)
    signoff = _signoff(_pages(second))
    assert "audrey 2026-11-20 09:00" in signoff and "Version 1 read." in signoff
    compact = signoff.replace(" ", "").replace("-", "")  # table cells wrap at hyphens and inside hashes
    assert first.report_id.replace("-", "") in compact and first.sha256 in compact
    verified = client_as("auditor").post(reverse("assessments:verify"), {
        "file": SimpleUploadedFile("r.pdf", Path(first.file.path).read_bytes())}).content.decode()
    assert "Attested by audrey at 2026-11-20 09:00 UTC: “Version 1 read.”" in verified
    assert hashlib.sha256(Path(second.file.path).read_bytes()).hexdigest() == second.sha256
