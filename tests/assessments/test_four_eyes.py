"""Four eyes: who recorded results may not approve; only a named reviewer approves; the lock wants reasons.

oscar (risk officer) records results, alice (org admin) is the named reviewer, audrey audits.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Assessment, AssessmentStatus, RequirementResult
from assessments.services import (
    ServiceError,
    assessment_approve,
    assessment_create,
    assessment_lock,
    assessment_return_to_draft,
    assessment_submit_for_review,
    assessment_update,
    requirement_result_update,
)
from assessments.services.common import AssessmentIncompleteError, SegregationOfDutiesError
from governance.models import AuditEvent
from tests.assessments.factories import evidence_with_version

API = "/api/v1"


def _events(organisation) -> int:
    return AuditEvent.objects.filter(organisation=organisation).count()


@pytest.fixture
def recorded(acme, nist, system, oscar, alice):
    """In review: oscar recorded M1 (compliant, with evidence); M2 and M3 not assessed, with reasons; alice reviews."""
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar,
                                   reviewers=[alice])
    _, version = evidence_with_version(acme, oscar)
    results = {r.requirement.ref_id: r for r in assessment.results.select_related("requirement")}
    requirement_result_update(result=results["M1"], actor=oscar, result_status="compliant",
                              evidence_versions=[version])
    for ref_id in ("M2", "M3"):
        requirement_result_update(result=results[ref_id], actor=oscar, not_assessed_reason="Deferred to Q1 2027.")
    assessment_submit_for_review(assessment=assessment, actor=oscar)
    return Assessment.objects.get(pk=assessment.pk)


def test_the_person_who_recorded_results_cannot_approve_them(recorded, oscar, acme):
    assessment_update(assessment=recorded, actor=oscar, reviewers=[oscar])  # even when named as reviewer
    before = _events(acme)
    with pytest.raises(SegregationOfDutiesError) as refusal:
        assessment_approve(assessment=recorded, actor=oscar)
    assert refusal.value.messages == ["Four eyes: you recorded results in this assessment, so you may not approve "
                                      "it. Another named reviewer must."]
    assert Assessment.objects.get(pk=recorded.pk).status == AssessmentStatus.IN_REVIEW
    assert _events(acme) == before


def test_an_earlier_recorder_stays_a_recorder_after_a_colleague_edits_the_result(recorded, oscar, alice, carol):
    # carol changes M1 last, so M1's updated_by is carol; the audit trail still names oscar.
    result = recorded.results.get(requirement__ref_id="M1")
    requirement_result_update(result=result, actor=carol, rationale="Checked the policy text.")
    assert RequirementResult.objects.get(pk=result.pk).updated_by == carol
    assessment_update(assessment=recorded, actor=alice, reviewers=[oscar, carol])
    with pytest.raises(SegregationOfDutiesError, match="you recorded results"):
        assessment_approve(assessment=recorded, actor=oscar)


def test_only_a_named_reviewer_approves(recorded, acme):
    from tests.factories import MembershipFactory, UserFactory

    rita = UserFactory(username="rita")  # a second risk officer, who recorded nothing but is not named
    MembershipFactory(user=rita, organisation=acme, role="risk_officer")
    before = _events(acme)
    with pytest.raises(SegregationOfDutiesError) as refusal:
        assessment_approve(assessment=recorded, actor=rita)
    assert refusal.value.messages == ["Only a named reviewer may approve this assessment (alice); "
                                      "you are not one of them."]
    assert _events(acme) == before


def test_no_named_reviewer_means_no_approval(recorded, alice, acme):
    assessment_update(assessment=recorded, actor=alice, reviewers=[])
    before = _events(acme)
    with pytest.raises(SegregationOfDutiesError) as refusal:
        assessment_approve(assessment=recorded, actor=alice)
    assert refusal.value.messages == ["No reviewer is named: name the reviewer who will approve this "
                                      "assessment first."]
    assert _events(acme) == before


def test_the_named_reviewer_who_recorded_nothing_approves(recorded, alice, acme):
    before = _events(acme)
    approved = assessment_approve(assessment=recorded, actor=alice)
    assert (approved.status, approved.approved_by) == (AssessmentStatus.APPROVED, alice)
    assert _events(acme) == before + 1


def test_return_to_draft_clears_the_approval(recorded, alice):
    assessment_approve(assessment=recorded, actor=alice)
    draft = assessment_return_to_draft(assessment=recorded, actor=alice)
    assert (draft.status, draft.approved_by, draft.approved_at) == (AssessmentStatus.DRAFT, None, None)


def test_api_answers_403_with_the_reason_and_changes_nothing(recorded, client_as, acme):
    before = _events(acme)
    response = client_as("risk_officer").post(f"{API}/assessments/{recorded.pk}/approve/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only a named reviewer may approve this assessment (alice); "
                                         "you are not one of them."}
    assert Assessment.objects.get(pk=recorded.pk).status == AssessmentStatus.IN_REVIEW and _events(acme) == before
    assert client_as("org_admin").post(f"{API}/assessments/{recorded.pk}/approve/").json()["status"] == "approved"


def test_page_says_why_before_and_after_pressing_approve(recorded, client_as, acme):
    client = client_as("risk_officer")
    page = client.get(reverse("assessments:assessment-detail", args=[recorded.pk])).content.decode()
    assert ('<p class="error" id="approval-refusal">You cannot approve this assessment: Only a named reviewer '
            'may approve this assessment (alice); you are not one of them.</p>') in page
    before = _events(acme)
    answer = client.post(reverse("assessments:assessment-approve", args=[recorded.pk]), follow=True)
    assert [str(m) for m in answer.context["messages"]] == [
        "Only a named reviewer may approve this assessment (alice); you are not one of them."]
    assert Assessment.objects.get(pk=recorded.pk).status == AssessmentStatus.IN_REVIEW and _events(acme) == before


# The lock: nothing unassessed without a reason, no claim of compliance without evidence or rationale.

@pytest.fixture
def incomplete(acme, nist, system, oscar, alice):
    """Approved by alice: M1 compliant with neither evidence nor rationale, M2 not assessed without a reason."""
    assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar,
                                   reviewers=[alice])
    results = {r.requirement.ref_id: r for r in assessment.results.select_related("requirement")}
    requirement_result_update(result=results["M1"], actor=oscar, result_status="compliant")
    requirement_result_update(result=results["M3"], actor=oscar, result_status="non_compliant")
    assessment_submit_for_review(assessment=assessment, actor=oscar)
    return assessment_approve(assessment=assessment, actor=alice)


def test_lock_refuses_with_the_list_and_changes_nothing(incomplete, oscar, acme):
    before = _events(acme)
    with pytest.raises(AssessmentIncompleteError) as refusal:
        assessment_lock(assessment=incomplete, actor=oscar)
    assert refusal.value.blockers == ["M1: compliant without evidence or rationale",
                                      "M2: not assessed, and no reason is recorded"]
    assert refusal.value.messages == ["2 result(s) keep this assessment from being locked: M1: compliant without "
                                      "evidence or rationale; M2: not assessed, and no reason is recorded."]
    unchanged = Assessment.objects.get(pk=incomplete.pk)
    assert (unchanged.status, unchanged.snapshot, unchanged.snapshot_sha256) == (AssessmentStatus.APPROVED, None, "")
    assert _events(acme) == before


def test_api_lock_answers_409_with_the_blockers(incomplete, client_as, acme):
    before = _events(acme)
    response = client_as("risk_officer").post(f"{API}/assessments/{incomplete.pk}/lock/")
    assert response.status_code == 409
    assert response.json()["blockers"] == ["M1: compliant without evidence or rationale",
                                           "M2: not assessed, and no reason is recorded"]
    assert _events(acme) == before


def test_page_lists_what_blocks_the_lock(incomplete, client_as):
    page = client_as("auditor").get(reverse("assessments:assessment-detail", args=[incomplete.pk])).content.decode()
    m1 = incomplete.results.get(requirement__ref_id="M1").pk
    assert "2 results keep this assessment from being locked" in page
    assert f'<li><a href="#result-{m1}">M1</a>: compliant without evidence or rationale</li>' in page


def test_a_rationale_or_a_reason_lets_the_lock_through(incomplete, acme, oscar, alice):
    assessment_return_to_draft(assessment=incomplete, actor=alice)
    results = {r.requirement.ref_id: r for r in incomplete.results.select_related("requirement")}
    requirement_result_update(result=results["M1"], actor=oscar, rationale="Observed the control in operation.")
    requirement_result_update(result=results["M2"], actor=oscar, not_assessed_reason="Model not deployed yet.")
    assessment_submit_for_review(assessment=incomplete, actor=oscar)
    assessment_approve(assessment=incomplete, actor=alice)
    locked = assessment_lock(assessment=incomplete, actor=oscar)
    assert locked.status == AssessmentStatus.LOCKED
    rows = {row["requirement"]["ref_id"]: row for row in locked.snapshot["results"]}
    assert rows["M2"]["not_assessed_reason"] == "Model not deployed yet."
    assert rows["M1"]["rationale"] == "Observed the control in operation."


def test_not_assessed_reason_through_the_api_and_cleared_once_assessed(recorded, client_as):
    m2 = recorded.results.get(requirement__ref_id="M2")
    client = client_as("consultant")
    answer = client.patch(f"{API}/requirement-results/{m2.pk}/", {"not_assessed_reason": "Vendor evidence due."},
                          content_type="application/json")
    assert answer.status_code == 200 and answer.json()["not_assessed_reason"] == "Vendor evidence due."
    answer = client.patch(f"{API}/requirement-results/{m2.pk}/", {"result": "non_compliant"},
                          content_type="application/json")
    assert answer.json()["not_assessed_reason"] == ""


def test_not_assessed_reason_through_the_result_form(recorded, client_as):
    m2 = recorded.results.get(requirement__ref_id="M2")
    client = client_as("risk_officer")
    form = client.get(reverse("assessments:result-edit", args=[m2.pk])).content.decode()
    assert 'name="not_assessed_reason"' in form and "Deferred to Q1 2027." in form
    client.post(reverse("assessments:result-edit", args=[m2.pk]), {
        "result": "not_assessed", "rationale": "", "applicable": "on", "applicability_justification": "",
        "not_assessed_reason": "Awaiting the supplier's test report."})
    assert RequirementResult.objects.get(pk=m2.pk).not_assessed_reason == "Awaiting the supplier's test report."


def test_a_draft_is_refused_for_its_status_first(acme, nist, system, alice):
    draft = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=alice)
    with pytest.raises(ServiceError, match="Cannot move from Draft to Approved"):
        assessment_approve(assessment=draft, actor=alice)
