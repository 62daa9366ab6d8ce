"""Audrey the auditor's journey in Chromium: she reads the dashboard, drills down to the evidence,
downloads the PDF report and verifies it; she sees no edit control anywhere, every write she tries
is refused with the reason, and the database is exactly as it was when she logged in."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from assessments.models import (
    Action,
    Assessment,
    Evidence,
    EvidenceStatus,
    EvidenceVersion,
    Finding,
    FindingSeverity,
    Report,
    RequirementResult,
    ResultStatus,
)
from assessments.models.engagements import OPEN_ACTION_STATUSES
from assessments.models.findings import OPEN_FINDING_STATUSES
from assessments.services import (
    assessment_create,
    evidence_attach_to_requirements,
    evidence_version_add,
    finding_create,
    report_generate,
    report_request,
    requirement_result_update,
)
from governance.models import AISystem, AuditEvent, Control, Framework
from governance.models.jobs import JobStatus
from governance.models.tenancy import Organisation
from governance.services.controls import control_create
from tests.assessments.factories import ai_system_make, catalog_make, evidence_with_version
from tests.browser import chromium
from tests.journeys.harness import Journey, journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFUSED = "Your role (Auditor) may not do this."  # the web views' PermissionDenied, shown by 403.html
API_REFUSED = "Your role in this organisation may not do this."  # OrganisationPermission's message
# Paths of pages that change something: none may be linked for an auditor.
WRITE_LINK = re.compile(r"/(new|edit|delete|add|remove|role|classification|training-card|matrix)/$")
# The only forms that may post for an auditor: logging out, verifying a file, switching organisation.
READ_ONLY_POSTS = {"/accounts/logout/", "/verify/", "/organisations/switch/"}


@dataclass(frozen=True)
class AuditedWorld:
    """What audrey finds: an assessment of Vision triage against NIST, with controls, evidence and a report."""

    framework: Framework
    system: AISystem
    assessment: Assessment
    control: Control
    policy: Evidence  # two versions; the second is the one M1 rests on
    attached: list[EvidenceVersion]  # the versions the results rest on (the report's manifest)
    report: Report


@pytest.fixture
def audited(acme: Organisation) -> AuditedWorld:
    """Made by oscar through the real services; the PDF is rendered by WeasyPrint, without a worker."""
    oscar = get_user_model().objects.get(username="oscar")
    nist, _ = catalog_make()
    system = ai_system_make(acme)
    m1, m2, _ = nist.requirements.order_by("order")
    control = control_create(organisation=acme, actor=oscar, requirements=[m1, m2],
                             data={"ref_id": "AC-1", "name": "Access policy", "status": "implemented"})
    policy, _ = evidence_with_version(acme, oscar, title="Access policy", content=b"access policy v1",
                                      ai_system=system)
    policy_v2 = evidence_version_add(evidence=policy, actor=oscar, content=b"access policy v2",
                                     filename="Access policy.txt")
    evidence_attach_to_requirements(evidence=policy, requirements=[m1], actor=oscar)
    _, log_review = evidence_with_version(acme, oscar, title="Access log review", content=b"reviewed, no issues",
                                          valid_until=timezone.localdate() + timedelta(days=10))
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar,
                                   title="Vision triage against NIST")
    for ref_id, result, controls, versions in (("M1", "compliant", [control], [policy_v2]),
                                               ("M2", "partially_compliant", [control], [log_review]),
                                               ("M3", "non_compliant", [], [])):
        requirement_result_update(result=assessment.results.get(requirement__ref_id=ref_id), actor=oscar,
                                  result_status=result, controls=controls, evidence_versions=versions)
    finding_create(organisation=acme, title="No robustness testing yet", description="", severity="high",
                   actor=oscar, source="manual", ai_system=system)
    report = report_generate(report_id=report_request(assessment=assessment, actor=oscar).pk)
    assert report is not None and report.status == JobStatus.SUCCEEDED, report and report.error
    return AuditedWorld(framework=nist, system=system, assessment=assessment, control=control, policy=policy,
                        attached=[policy_v2, log_review], report=report)


def fingerprint(organisation: Organisation) -> tuple:
    """Everything the auditor could have changed; every write is audited, so the trail's length and head too."""
    trail = AuditEvent.objects.filter(organisation=organisation)
    return (
        trail.count(), trail.order_by("-sequence").values_list("hash", flat=True).first(),
        tuple(Assessment.objects.filter(organisation=organisation).values_list("pk", "status", "title")),
        tuple(RequirementResult.objects.filter(organisation=organisation).order_by("pk")
              .values_list("result", "rationale", "is_inferred")),
        tuple(Control.objects.filter(organisation=organisation).values_list("pk", "ref_id", "name", "status")),
        tuple(AISystem.objects.filter(organisation=organisation).values_list("pk", "name")),
        tuple(Evidence.objects.filter(organisation=organisation).order_by("pk").values_list("pk", "title", "status")),
        tuple(EvidenceVersion.objects.filter(organisation=organisation).order_by("pk").values_list("pk", "sha256")),
        tuple(Finding.objects.filter(organisation=organisation).order_by("pk").values_list("pk", "status")),
        tuple(Report.objects.filter(organisation=organisation).order_by("pk").values_list("pk", "status", "sha256")),
    )


# -- what every page must show (or not) ---------------------------------------------------------------
def assert_read_only(j: Journey) -> None:
    """No link to a page that changes something, and no form that posts anywhere but the harmless three."""
    found: dict[str, list[str]] = j.page.evaluate("""() => ({
        links: [...document.querySelectorAll('a[href]')].filter(a => a.origin === location.origin)
                                                         .map(a => a.pathname),
        posts: [...document.forms].filter(f => f.method === 'post').map(f => new URL(f.action).pathname),
    })""")
    edit_links = [path for path in found["links"] if WRITE_LINK.search(path)]
    assert edit_links == [], f"{j.page.url} links an auditor to {edit_links}"
    posting = [path for path in found["posts"] if path not in READ_ONLY_POSTS]
    assert posting == [], f"{j.page.url} offers an auditor forms that post to {posting}"


def step(j: Journey, label: str) -> None:
    assert_read_only(j)
    j.step(label)


# -- the journey's parts ----------------------------------------------------------------------------
def dashboard_figures_in_db(organisation: Organisation, world: AuditedWorld) -> dict[str, int]:
    """The dashboard's numbers, counted straight from the rows (one assessment, so it is the current one)."""
    today = timezone.localdate()
    results = Counter(RequirementResult.objects.filter(assessment=world.assessment).values_list("result", flat=True))
    framework = world.framework.pk
    open_findings = Finding.objects.filter(organisation=organisation, status__in=OPEN_FINDING_STATUSES)
    evidence = Evidence.objects.filter(organisation=organisation)
    return {
        f"applicable-{framework}": results.total() - results[ResultStatus.NOT_APPLICABLE],
        f"compliant-{framework}": results[ResultStatus.COMPLIANT],
        f"partial-{framework}": results[ResultStatus.PARTIALLY_COMPLIANT],
        f"non_compliant-{framework}": results[ResultStatus.NON_COMPLIANT],
        f"not_assessed-{framework}": results[ResultStatus.NOT_ASSESSED],
        **{f"findings-{severity}": open_findings.filter(severity=severity).count() for severity in FindingSeverity},
        "expiring": evidence.filter(status=EvidenceStatus.ACTIVE, valid_until__gte=today,
                                    valid_until__lte=today + timedelta(days=30)).count(),
        "expired": evidence.filter(status=EvidenceStatus.EXPIRED).count(),
        "overdue": Action.objects.filter(organisation=organisation, status__in=OPEN_ACTION_STATUSES,
                                         due_date__lt=today).count(),
    }


def browse_dashboard(j: Journey, expected: dict[str, int]) -> None:
    shown = {metric: int(j.page.inner_text(f"[data-metric='{metric}']")) for metric in expected}
    assert shown == expected
    clipped = j.page.evaluate("""() => [...document.querySelectorAll('[data-metric]')].filter(figure => {
        const box = figure.getBoundingClientRect(), card = figure.closest('.card').getBoundingClientRect();
        return box.left < card.left || box.right > card.right;
    }).map(figure => figure.dataset.metric)""")
    assert clipped == [], f"figures drawn outside their card: {clipped}"
    step(j, "dashboard")


def drill_to_evidence(j: Journey, world: AuditedWorld) -> None:
    """Dashboard → compliant results → assessment → control → requirement → framework; then the evidence."""
    page = j.page
    page.click(f"[data-metric='compliant-{world.framework.pk}']")
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "M1" in rows.first.inner_text()
    step(j, "compliant-results")
    rows.first.get_by_role("link", name=world.assessment.title).click()
    page.wait_for_selector("h1:has-text('Vision triage against NIST')")
    m1 = page.locator(f"#result-{world.assessment.results.get(requirement__ref_id='M1').pk}")
    step(j, "assessment")
    m1.get_by_role("link", name=world.control.ref_id).click()
    page.wait_for_selector(f"h1:has-text('{world.control.name}')")
    assert page.locator("table tbody tr").count() == 2, "AC-1 satisfies M1 and M2"
    step(j, "control")
    page.locator("table").get_by_role("link", name="M1", exact=True).click()
    page.wait_for_selector("h1:has-text('NIST · M1')")
    assert world.control.ref_id in page.inner_text("main")
    step(j, "requirement")
    page.click(f"p.lede >> text={world.framework.name}")
    page.wait_for_selector(f"h1:has-text('{world.framework.name}')")
    step(j, "framework")
    page.click("nav.mainnav >> text=Assessments")
    page.get_by_role("link", name=world.assessment.title).click()
    m1.locator(f"code.hash[title='{world.attached[0].sha256}']").click()
    page.wait_for_selector(f"h1:has-text('{world.policy.title}')")
    shown = page.locator("tbody code.hash").all_inner_texts()
    assert sorted(shown) == sorted(world.policy.versions.values_list("sha256", flat=True)) and len(shown) == 2
    step(j, "evidence")


def download_report(j: Journey, world: AuditedWorld, folder: Path) -> Path:
    page, report = j.page, world.report
    page.click("nav.mainnav >> text=Reports")
    page.get_by_role("link", name=report.report_id).click()
    page.wait_for_selector(f"h1:has-text('{report.report_id}')")
    assert page.locator("#report-job code.hash").first.inner_text() == report.sha256
    step(j, "report")
    with page.expect_download() as pending:
        page.get_by_role("link", name="Download PDF").click()
    download = pending.value
    assert download.suggested_filename == f"{report.report_id}.pdf"
    pdf = folder / download.suggested_filename
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-") and hashlib.sha256(pdf.read_bytes()).hexdigest() == report.sha256
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    compact = "".join(text.split())  # long hashes wrap across lines
    assert report.report_id in text and "Evidence manifest" in text
    for version in world.attached:
        assert version.sha256 in compact
    return pdf


def verify(j: Journey, pdf: Path, report: Report) -> None:
    page = j.page
    page.click("nav.mainnav >> text=Verify")
    page.wait_for_selector("h1:has-text('Verify a file')")
    step(j, "verify")
    tampered = bytearray(pdf.read_bytes())
    tampered[len(tampered) // 2] ^= 0x01
    for upload, verdict, label in ((str(pdf), "Match", "verified"),
                                   ({"name": pdf.name, "mimeType": "application/pdf", "buffer": bytes(tampered)},
                                    "No match", "tampered-rejected")):
        page.set_input_files("#id_file", upload)
        with page.expect_navigation():
            page.click("form[enctype] button[type=submit]")
        outcome = page.locator("#verify-outcome")
        assert outcome.locator(".badge").inner_text() == verdict
        step(j, label)
        if verdict == "Match":
            assert report.sha256 in outcome.inner_text() and report.report_id in outcome.inner_text()
    assert hashlib.sha256(bytes(tampered)).hexdigest() in outcome.inner_text()


def refused_pages(j: Journey, world: AuditedWorld) -> None:
    """Typing a create or edit page's address: 403, and the page says why."""
    result = world.assessment.results.get(requirement__ref_id="M1")
    for label, path in (("new-evidence", "/evidence/new/"), ("new-assessment", "/assessments/new/"),
                        ("edit-result", f"/results/{result.pk}/edit/"),
                        ("edit-control", f"/controls/{world.control.pk}/edit/"),
                        ("delete-control", f"/controls/{world.control.pk}/delete/"),
                        ("edit-ai-system", f"/ai-systems/{world.system.pk}/edit/"),
                        ("add-member", "/members/add/")):
        with j.expect_refusal(403, path):
            response = j.goto(path)
        assert response is not None and response.status == 403
        assert j.page.inner_text("p.refusal") == REFUSED
        step(j, f"refused-{label}")


FETCH = """async ({path, method, body, json}) => {
    const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
    const headers = {'X-CSRFToken': token};
    let payload = null;
    if (json) {
        headers['Content-Type'] = 'application/json';
        payload = JSON.stringify(body);
    } else if (body) {
        payload = new FormData();
        for (const [name, value] of Object.entries(body)) {
            if (name === 'file') payload.append(name, new Blob([value]), 'forged.txt');
            else payload.append(name, value);
        }
    }
    const response = await fetch(path, {method, headers, body: payload, credentials: 'same-origin'});
    return {status: response.status, text: await response.text()};
}"""


def write_from_page(j: Journey, method: str, path: str, body: dict[str, Any] | None = None) -> str:
    """A write sent by the page itself (with the session and CSRF token it holds); asserts a 403."""
    # The page's response event can reach us after evaluate() returns: wait for it, so the harness counts it.
    with j.expect_refusal(403, path), j.page.expect_response(j.url(path)):
        answer = j.page.evaluate(FETCH, {"path": path, "method": method, "body": body,
                                         "json": path.startswith("/api/")})
    assert answer["status"] == 403, (method, path, answer)
    return answer["text"]


def refused_writes(j: Journey, world: AuditedWorld) -> None:
    """Writes sent from the page to the web views and the API: each refused for her role, not for CSRF."""
    assessment, control, policy = world.assessment, world.control, world.policy
    result = assessment.results.get(requirement__ref_id="M3")
    for path, body in ((f"/evidence/{policy.pk}/", {"file": "forged evidence", "valid_until": "2030-01-01"}),
                       (f"/results/{result.pk}/edit/", {"result": "compliant", "rationale": "trust me"}),
                       (f"/assessments/{assessment.pk}/submit/", {}),
                       (f"/ai-systems/{world.system.pk}/delete/", {}),
                       ("/findings/new/", {"title": "Made up", "severity": "low"})):
        assert REFUSED in write_from_page(j, "POST", path, body)
    for method, path, body in (("POST", "/api/v1/evidence/", {"title": "Forged", "kind": "document"}),
                               ("POST", f"/api/v1/evidence/{policy.pk}/versions/", {"url": "https://example.org"}),
                               ("PATCH", f"/api/v1/requirement-results/{result.pk}/", {"result": "compliant"}),
                               ("POST", f"/api/v1/assessments/{assessment.pk}/approve/", {}),
                               ("POST", "/api/v1/reports/", {"assessment": assessment.pk}),
                               ("DELETE", f"/api/v1/controls/{control.pk}/", None),
                               ("PATCH", f"/api/v1/ai-systems/{world.system.pk}/", {"name": "Renamed"})):
        assert API_REFUSED in write_from_page(j, method, path, body)
    generate = f"/assessments/{assessment.pk}/report/"
    with j.expect_refusal(403, generate), j.page.expect_navigation():
        j.page.evaluate("""(path) => {
            const form = Object.assign(document.createElement('form'), {method: 'post', action: path});
            form.append(document.querySelector('input[name=csrfmiddlewaretoken]').cloneNode());
            document.body.append(form);
            form.submit();
        }""", generate)
    assert j.page.inner_text("p.refusal") == REFUSED
    step(j, "refused-generate-report")


def audit_trail(j: Journey, organisation: Organisation) -> None:
    j.page.click("nav.mainnav >> text=Audit trail")
    j.page.wait_for_selector("h1:has-text('Audit trail')")
    assert j.page.locator("tbody tr").count() == AuditEvent.objects.filter(organisation=organisation).count()
    step(j, "audit-trail")


def test_auditor_reads_downloads_and_verifies_but_cannot_write(live_server, acme, audited, tmp_path):
    before = fingerprint(acme)
    with chromium() as browser, journey(browser, live_server.url, "auditor") as j:
        j.login("audrey")
        assert j.page.inner_text(".session .role") == "Auditor"
        browse_dashboard(j, dashboard_figures_in_db(acme, audited))
        drill_to_evidence(j, audited)
        pdf = download_report(j, audited, tmp_path)
        verify(j, pdf, audited.report)
        refused_pages(j, audited)
        refused_writes(j, audited)
        audit_trail(j, acme)
        j.finish()
    assert fingerprint(acme) == before, "a refused write (or a read) changed something"
