"""Assessments services: results, inference marks, review → approve → lock, immutability, expiry."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile

from assessments.models import AssessmentStatus, Evidence, EvidenceStatus, EvidenceVersion, ResultStatus
from assessments.services import (
    AssessmentLockedError,
    ServiceError,
    assessment_approve,
    assessment_create,
    assessment_lock,
    assessment_submit_for_review,
    assessment_update,
    evidence_expiry_run,
    evidence_version_add,
    requirement_result_review,
    requirement_result_update,
)
from assessments.services.snapshot import canonical_sha256
from governance.audit import audit_chain_verify
from governance.models import ApplicabilityDecision, AuditEvent, Requirement
from tests.assessments.factories import evidence_with_version, four_eyes_lock
from tests.conftest import FROZEN_NOW

# Evidence validity, action due dates and expiry runs carry calendar dates: the clock stands still.
pytestmark = pytest.mark.usefixtures("frozen_clock")


def _result(assessment, ref_id):
    return assessment.results.get(requirement__ref_id=ref_id)


def _locked(assessment, locker):
    return four_eyes_lock(assessment, locker)


def test_assessment_snapshots_the_statement_of_applicability(acme, nist, system, oscar):
    m3 = Requirement.objects.get(ref_id="M3")
    ApplicabilityDecision.objects.create(organisation=acme, ai_system=system, requirement=m3,
                                         proposed_applicable=False, proposal_justification="No users",
                                         applicable=False, justification="Not deployed to people")
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    assert [row["ref_id"] for row in assessment.soa_snapshot] == ["M1", "M2", "M3"]
    assert assessment.soa_snapshot[2]["applicable"] is False
    assert assessment.soa_snapshot[2]["justification"] == "Not deployed to people"
    assert _result(assessment, "M3").result == ResultStatus.NOT_APPLICABLE
    assert _result(assessment, "M1").result == ResultStatus.NOT_ASSESSED
    assert AuditEvent.objects.filter(organisation=acme, object_type="assessments.Assessment").count() == 1


def test_evidence_version_is_hashed_and_immutable(acme, oscar):
    evidence, version = evidence_with_version(acme, oscar, content=b"hello evidence")
    import hashlib

    assert version.sha256 == hashlib.sha256(b"hello evidence").hexdigest()
    assert version.size == len(b"hello evidence") and version.uploaded_by == oscar
    evidence.refresh_from_db()
    assert evidence.current_version == version and evidence.status == EvidenceStatus.ACTIVE
    version.filename = "changed.txt"
    with pytest.raises(ValueError, match="immutable"):
        version.save()
    second = evidence_version_add(evidence=evidence, actor=oscar, file=ContentFile(b"v2", name="p.txt"))
    assert second.number == 2 and EvidenceVersion.objects.get(pk=version.pk).filename != "changed.txt"


def test_link_evidence_hashes_the_url(acme, oscar):
    evidence, _ = evidence_with_version(acme, oscar)
    version = evidence_version_add(evidence=evidence, actor=oscar, url="https://example.org/policy")
    assert version.sha256 == hashlib.sha256(b"https://example.org/policy").hexdigest()
    assert version.size == 0 and version.url == "https://example.org/policy" and not version.file


def test_result_on_one_framework_is_inferred_on_mapped_requirements(acme, nist, iso, system, oscar):
    nist_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    iso_assessment = assessment_create(organisation=acme, framework=iso, ai_system=system, actor=oscar)
    requirement_result_update(result=_result(nist_assessment, "M1"), actor=oscar, result_status="compliant")
    requirement_result_update(result=_result(nist_assessment, "M2"), actor=oscar, result_status="compliant")
    a1, a2 = _result(iso_assessment, "A1"), _result(iso_assessment, "A2")
    assert (a1.result, a1.is_inferred, a1.inferred_via.relationship) == ("compliant", True, "equal")
    assert a1.inferred_from == _result(nist_assessment, "M1")
    # M2 is a subset of A2: meeting M2 meets only part of A2.
    assert (a2.result, a2.is_inferred) == ("partially_compliant", True)
    reviewed = requirement_result_review(result=a1, actor=oscar)
    # Accepting confirms the inference; the result stays inferred, with its source (issue #13).
    assert (reviewed.is_inferred, reviewed.result, reviewed.inference_confirmed_by) == (True, "compliant", oscar)


def test_inference_never_overrides_a_persons_result(acme, nist, iso, system, oscar):
    nist_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    iso_assessment = assessment_create(organisation=acme, framework=iso, ai_system=system, actor=oscar)
    requirement_result_update(result=_result(iso_assessment, "A1"), actor=oscar, result_status="non_compliant")
    requirement_result_update(result=_result(nist_assessment, "M1"), actor=oscar, result_status="compliant")
    a1 = _result(iso_assessment, "A1")
    assert (a1.result, a1.is_inferred) == ("non_compliant", False)


def test_inferred_results_block_approval_until_reviewed(acme, nist, iso, system, oscar, alice):
    nist_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    iso_assessment = assessment_create(organisation=acme, framework=iso, ai_system=system, actor=oscar)
    requirement_result_update(result=_result(nist_assessment, "M1"), actor=oscar, result_status="compliant")
    assessment_submit_for_review(assessment=iso_assessment, actor=oscar)
    with pytest.raises(ServiceError, match="inferred"):
        assessment_approve(assessment=iso_assessment, actor=oscar)
    requirement_result_review(result=_result(iso_assessment, "A1"), actor=oscar)
    assessment_update(assessment=iso_assessment, actor=oscar, reviewers=[alice])
    assert assessment_approve(assessment=iso_assessment, actor=alice).status == AssessmentStatus.APPROVED


def test_lock_stores_snapshot_and_hash_and_refuses_edits(acme, nist, system, oscar):
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    _, version = evidence_with_version(acme, oscar)
    requirement_result_update(result=_result(assessment, "M1"), actor=oscar, result_status="compliant",
                              evidence_versions=[version])
    locked = _locked(assessment, oscar)
    assert locked.status == AssessmentStatus.LOCKED and locked.locked_by == oscar
    assert locked.snapshot_sha256 == canonical_sha256(locked.snapshot)
    assert locked.snapshot["results"][0]["evidence_versions"][0]["sha256"] == version.sha256
    result = _result(locked, "M1")
    with pytest.raises(AssessmentLockedError):
        requirement_result_update(result=result, actor=oscar, result_status="non_compliant")
    with pytest.raises(AssessmentLockedError):
        requirement_result_review(result=result, actor=oscar, accept=False)
    with pytest.raises(AssessmentLockedError):
        assessment_lock(assessment=locked, actor=oscar)
    assert _result(locked, "M1").result == "compliant"
    acme.refresh_from_db()
    assert audit_chain_verify(acme) == []


def test_locked_assessment_is_not_a_target_of_inference(acme, nist, iso, system, oscar):
    iso_assessment = _locked(assessment_create(organisation=acme, framework=iso, ai_system=system, actor=oscar),
                             oscar)
    nist_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    requirement_result_update(result=_result(nist_assessment, "M1"), actor=oscar, result_status="compliant")
    assert _result(iso_assessment, "A1").result == "not_assessed"


def test_expiry_expires_evidence_and_flags_unlocked_results_only(acme, nist, iso, system, oscar):
    _, version = evidence_with_version(acme, oscar, valid_until=date(2026, 12, 1))
    open_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    requirement_result_update(result=_result(open_assessment, "M3"), actor=oscar, result_status="compliant",
                              evidence_versions=[version])
    locked = assessment_create(organisation=acme, framework=iso, ai_system=system, actor=oscar)
    requirement_result_update(result=_result(locked, "A1"), actor=oscar, result_status="compliant",
                              evidence_versions=[version], infer=False)
    locked = _locked(locked, oscar)
    snapshot_hash = locked.snapshot_sha256

    before = evidence_expiry_run(now=datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert (before.evidence_expired, before.results_marked) == (0, 0)
    outcome = evidence_expiry_run(now=datetime(2026, 12, 2, 12, tzinfo=UTC))
    assert (outcome.evidence_expired, outcome.results_marked) == (1, 1)
    assert Evidence.objects.get().status == EvidenceStatus.EXPIRED
    flagged = _result(open_assessment, "M3")
    assert flagged.needs_review and "expired" in flagged.review_reason
    locked.refresh_from_db()
    assert not _result(locked, "A1").needs_review and locked.snapshot_sha256 == snapshot_hash
    again = evidence_expiry_run(now=datetime(2026, 12, 3, tzinfo=UTC))
    assert (again.evidence_expired, again.results_marked) == (0, 0)


def test_snapshot_json_roundtrips(acme, nist, system, oscar):
    locked = _locked(assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar), oscar)
    assert json.loads(json.dumps(locked.snapshot)) == locked.snapshot
    assert locked.snapshot["assessment"]["ai_system"] == system.name


def test_services_refuse_rows_of_another_organisation(acme, globex, nist, oscar):
    from tests.assessments.factories import ai_system_make

    foreign = ai_system_make(globex, "Foreign")
    with pytest.raises(ServiceError):
        assessment_create(organisation=acme, framework=nist, ai_system=foreign, actor=oscar)


def test_evidence_expires_the_day_after_valid_until_by_the_utc_calendar(acme, oscar, frozen_clock):
    day = FROZEN_NOW.date()
    evidence, _ = evidence_with_version(acme, oscar, valid_until=day)
    last_half_hour_utc = datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC)
    in_berlin = last_half_hour_utc.astimezone(ZoneInfo("Europe/Berlin"))
    assert in_berlin.date() == day + timedelta(days=1)  # a UTC+1 clock has passed midnight already
    assert evidence_expiry_run(now=in_berlin).evidence_expired == 0
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.ACTIVE
    assert evidence_expiry_run(now=last_half_hour_utc + timedelta(hours=1)).evidence_expired == 1  # 00:30 UTC
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.EXPIRED
    assert evidence_expiry_run(now=last_half_hour_utc + timedelta(hours=2)).evidence_expired == 0  # once only
