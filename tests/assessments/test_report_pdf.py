"""The PDF audit report: hashes in its text, non-blank pages, watermark, URL fetcher, stored immutable."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image, ImageStat

from assessments.reporting.pdf import OwnFilesFetcher
from assessments.services import (
    assessment_approve,
    assessment_create,
    assessment_lock,
    assessment_submit_for_review,
    finding_create,
    report_generate,
    report_request,
    requirement_result_update,
)
from governance.models.jobs import JobStatus
from tests.assessments.factories import evidence_with_version, robustness_evidence

OUTPUT = Path(getattr(settings, "TEST_OUTPUT_DIR", settings.VAR_DIR / "test-output"))


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def _pages_png(pdf: Path, prefix: str, last: int = 3) -> list[Path]:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for stale in OUTPUT.glob(f"{prefix}-*.png"):
        stale.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", str(last), str(pdf), str(OUTPUT / prefix)],
                   check=True)
    return sorted(OUTPUT.glob(f"{prefix}-*.png"))


@pytest.fixture
def audited(acme, nist, system, model_version, oscar, alice):
    """An assessment with three pieces of evidence, a robustness record and a finding; alice reviews it."""
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, model_version=model_version,
                                   actor=oscar, period_start=None, period_end=None, reviewers=[alice])
    versions = [evidence_with_version(acme, oscar, title=f"Evidence {n}", content=f"content {n}".encode())[1]
                for n in range(3)]
    _, record = robustness_evidence(acme, oscar, system)
    for ref_id, version in zip(["M1", "M2", "M3"], versions, strict=True):
        requirement_result_update(result=assessment.results.get(requirement__ref_id=ref_id), actor=oscar,
                                  result_status="compliant", evidence_versions=[version, record] if ref_id == "M3"
                                  else [version])
    finding_create(organisation=acme, title="Robust accuracy below threshold at 4/255", description="",
                   severity="high", actor=oscar, source="robustness-run", ai_system=system)
    return assessment, [*versions, record]


def test_draft_report_has_every_hash_watermark_and_non_blank_pages(audited, oscar):
    assessment, versions = audited
    report = report_request(assessment=assessment, actor=oscar)
    report = report_generate(report_id=report.pk)
    assert report.status == JobStatus.SUCCEEDED, report.error
    path = Path(report.file.path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == report.sha256
    text = _text(path)
    compact = "".join(text.split())
    for version in versions:
        assert version.sha256 in compact
    assert report.manifest_sha256 in compact and len(report.manifest) == 4
    assert "DRAFT" in text and report.report_id in text
    for heading in ("Executive summary", "Statement of Applicability", "Control-evidence matrix",
                    "Evidence manifest", "Sign-off", "Page 1 of"):
        assert heading in text
    assert "FAIL" in text  # 0.21 at 4/255 is below the 0.40 threshold
    assert report.pages >= 5
    pngs = _pages_png(path, "audit-report-draft", last=report.pages)
    assert len(pngs) == report.pages
    (OUTPUT / "audit-report-draft.json").write_text(json.dumps({
        "pages": report.pages, "bytes": report.size, "render_seconds": round(report.render_seconds, 2),
        "sha256": report.sha256, "manifest_sha256": report.manifest_sha256}))
    for png in pngs[:3]:
        stat = ImageStat.Stat(Image.open(png).convert("L"))
        assert stat.var[0] > 20, f"{png.name} looks blank"


def test_locked_report_has_no_watermark(audited, oscar, alice):
    assessment, _ = audited
    assessment_submit_for_review(assessment=assessment, actor=oscar)
    assessment_approve(assessment=assessment, actor=alice)  # four eyes: oscar recorded the results
    assessment_lock(assessment=assessment, actor=oscar)
    report = report_generate(report_id=report_request(assessment=assessment, actor=oscar).pk)
    text = _text(Path(report.file.path))
    assert "DRAFT" not in text and "Final" in text and not report.is_draft
    _pages_png(Path(report.file.path), "audit-report-final", last=1)


def test_report_versions_count_up_and_are_claimed_once(audited, oscar):
    assessment, _ = audited
    first = report_request(assessment=assessment, actor=oscar)
    second = report_request(assessment=assessment, actor=oscar)
    assert (first.version, second.version) == (1, 2)
    assert report_generate(report_id=first.pk).status == JobStatus.SUCCEEDED
    assert report_generate(report_id=first.pk) is None  # done: nothing to claim


def test_url_fetcher_refuses_outside_files_and_network(tmp_path):
    fetcher = OwnFilesFetcher()
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    for url in (secret.as_uri(), "http://example.org/x.png", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    own = (Path(settings.STATICFILES_DIRS[0]) / "img" / "anchor.svg").resolve().as_uri()
    assert fetcher.fetch(own).read().startswith(b"<")


def test_report_request_enqueues_by_name_on_the_default_queue_after_commit(audited, oscar, monkeypatch,
                                                                            django_capture_on_commit_callbacks):
    from celery import current_app

    from assessments import tasks

    sent: list[tuple] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: sent.append((name, args, queue)))
    assessment, _ = audited
    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(assessment=assessment, actor=oscar)
        assert sent == []  # nothing leaves before the transaction commits
    assert sent == [("assessments.tasks.report_generate_task", [report.pk], "default")]
    assert tasks.report_generate_task(report.pk) == JobStatus.SUCCEEDED


def test_organisation_wide_report_shows_the_robustness_evidence_its_results_rest_on(acme, nist, system, oscar):
    assessment = assessment_create(organisation=acme, framework=nist, actor=oscar)
    _, record = robustness_evidence(acme, oscar, system)
    requirement_result_update(result=assessment.results.get(requirement__ref_id="M2"), actor=oscar,
                              result_status="non_compliant", evidence_versions=[record])
    report = report_generate(report_id=report_request(assessment=assessment, actor=oscar).pk)
    text = _text(Path(report.file.path))
    assert "Whole organisation" in text and "FAIL" in text and record.sha256 in "".join(text.split())
