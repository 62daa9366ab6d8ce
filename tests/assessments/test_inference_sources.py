"""Inference never upgrades: an inferred result is no better than its source, says where it came from,
keeps the source's evidence, and counts for approval only once a person confirms it (issue #13, point 1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import AssessmentStatus, RequirementResult, ResultStatus
from assessments.services import (
    assessment_approve,
    assessment_create,
    assessment_submit_for_review,
    requirement_result_review,
    requirement_result_update,
)
from assessments.services.common import AssessmentLockedError, ConflictError, NotPermittedError
from assessments.services.inference import inferred_from_text, proposed_result, result_inference_confirm
from governance.models import AuditEvent, Crosswalk, Relationship
from tests.assessments.factories import evidence_with_version

# Confirmation dates are printed: the clock stands still at 2026-11-20.
pytestmark = pytest.mark.usefixtures("frozen_clock")

API = "/api/v1"
C, P, N = ResultStatus.COMPLIANT, ResultStatus.PARTIALLY_COMPLIANT, ResultStatus.NON_COMPLIANT
_RANK = {C: 0, P: 1, N: 2}


def _result(assessment, ref_id) -> RequirementResult:
    return assessment.results.get(requirement__ref_id=ref_id)


@pytest.fixture
def pair(acme, nist, iso, a3, system, oscar, alice):
    """A NIST and an ISO assessment of the same system; alice is the ISO assessment's named reviewer."""
    nist_assessment = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    iso_assessment = assessment_create(organisation=acme, framework=iso, ai_system=system, actor=oscar,
                                       reviewers=[alice])
    return nist_assessment, iso_assessment


def _non_compliant_m3(nist_assessment, oscar, acme):
    _, version = evidence_with_version(acme, oscar, title="Robustness memo", content=b"m3 fails at 4/255")
    requirement_result_update(result=_result(nist_assessment, "M3"), actor=oscar, result_status="non_compliant",
                              rationale="Robust accuracy 0.21 at 4/255", evidence_versions=[version])
    return version


@pytest.mark.parametrize("source", [C, P, N])
@pytest.mark.parametrize("relationship", list(Relationship))
def test_a_proposal_is_never_better_than_its_source(source, relationship):
    proposal = proposed_result(source, relationship)
    assert _RANK[proposal] >= _RANK[source]
    if relationship == Relationship.EQUAL:
        assert proposal == source
    else:  # weakened by one step, down to non-compliant
        assert _RANK[proposal] == min(_RANK[source] + 1, _RANK[N])


@pytest.mark.parametrize("source", [ResultStatus.NOT_ASSESSED, ResultStatus.NOT_APPLICABLE])
def test_a_source_without_a_verdict_proposes_nothing(source):
    assert [proposed_result(source, relationship) for relationship in Relationship] == [None] * 4


def test_a_failure_through_intersects_stays_a_failure_and_says_where_it_came_from(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    version = _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = _result(iso_assessment, "A3")
    assert (a3.result, a3.is_inferred, a3.inference_confirmed_at) == (N, True, None)
    assert a3.inferred_from == _result(nist_assessment, "M3")
    assert a3.inferred_via.relationship == Relationship.INTERSECTS
    assert list(a3.evidence_versions.all()) == [version]
    assert inferred_from_text(a3) == (
        "Inferred from NIST M3 (Non-compliant) via crosswalk (intersects); not yet confirmed")


def test_the_inference_text_names_the_crosswalks_source_briefly(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    Crosswalk.objects.filter(target__ref_id="A3").update(
        is_own_mapping=False, source_document="Test crosswalk", source_locator="row M3",
        citation="Test publisher's crosswalk, row M3")
    _non_compliant_m3(nist_assessment, oscar, acme)
    assert inferred_from_text(_result(iso_assessment, "A3")) == (
        "Inferred from NIST M3 (Non-compliant) via crosswalk (intersects; Test publisher's crosswalk, row M3); "
        "not yet confirmed")


def test_a_direct_result_has_no_inference_text(acme, pair, oscar):
    nist_assessment, _ = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    assert inferred_from_text(_result(nist_assessment, "M3")) == ""


def test_a_pass_through_a_subset_is_only_partial(pair, oscar):
    nist_assessment, iso_assessment = pair
    requirement_result_update(result=_result(nist_assessment, "M2"), actor=oscar, result_status="compliant")
    a2 = _result(iso_assessment, "A2")
    assert (a2.result, a2.is_inferred) == (P, True)
    assert inferred_from_text(a2) == "Inferred from NIST M2 (Compliant) via crosswalk (subset); not yet confirmed"


def test_the_relationship_is_read_from_the_source_towards_the_target(pair, oscar):
    # A person's result on ISO A2 proposes on NIST M2: A2 is a superset of M2.
    nist_assessment, iso_assessment = pair
    requirement_result_update(result=_result(iso_assessment, "A2"), actor=oscar, result_status="compliant")
    m2 = _result(nist_assessment, "M2")
    assert (m2.result, m2.is_inferred) == (P, True)
    assert inferred_from_text(m2) == "Inferred from ISO A2 (Compliant) via crosswalk (superset); not yet confirmed"


def test_confirming_keeps_the_inference_and_records_who_and_when(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    events = AuditEvent.objects.filter(organisation=acme).count()
    confirmed = result_inference_confirm(result=_result(iso_assessment, "A3"), actor=oscar)
    assert (confirmed.result, confirmed.is_inferred, confirmed.inference_confirmed_by) == (N, True, oscar)
    assert confirmed.inferred_from == _result(nist_assessment, "M3")
    assert inferred_from_text(_result(iso_assessment, "A3")) == (
        "Inferred from NIST M3 (Non-compliant) via crosswalk (intersects); confirmed by oscar on 2026-11-20")
    event = AuditEvent.objects.filter(organisation=acme).order_by("-sequence").first()
    assert AuditEvent.objects.filter(organisation=acme).count() == events + 1
    assert (event.actor, event.object_id, event.changes["inference_confirmed"]) == (oscar, str(confirmed.pk),
                                                                                     [False, True])


def _state(result: RequirementResult) -> tuple:
    row = RequirementResult.objects.get(pk=result.pk)
    return row.result, row.is_inferred, row.inference_confirmed_by_id, row.inference_confirmed_at


def test_confirming_a_direct_result_is_refused_and_changes_nothing(acme, pair, oscar):
    nist_assessment, _ = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    m3 = _result(nist_assessment, "M3")
    before, events = _state(m3), AuditEvent.objects.filter(organisation=acme).count()
    with pytest.raises(ConflictError, match="M3 was recorded directly, not inferred: there is nothing to confirm"):
        result_inference_confirm(result=m3, actor=oscar)
    assert (_state(m3), AuditEvent.objects.filter(organisation=acme).count()) == (before, events)


def test_confirming_twice_is_refused_and_changes_nothing(acme, pair, oscar, carol):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = result_inference_confirm(result=_result(iso_assessment, "A3"), actor=oscar)
    before, events = _state(a3), AuditEvent.objects.filter(organisation=acme).count()
    with pytest.raises(ConflictError, match=r"A3 is already confirmed \(by oscar on 2026-11-20\)"):
        result_inference_confirm(result=a3, actor=carol)
    assert (_state(a3), AuditEvent.objects.filter(organisation=acme).count()) == (before, events)


@pytest.mark.parametrize("who", ["audrey", "nobody", "mallory"])
def test_only_an_editor_of_the_organisation_may_confirm(acme, globex, pair, oscar, audrey, who):
    from django.contrib.auth import get_user_model

    actor = {"audrey": audrey, "nobody": None, "mallory": get_user_model().objects.get(username="mallory")}[who]
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = _result(iso_assessment, "A3")
    before, events = _state(a3), AuditEvent.objects.filter(organisation=acme).count()
    with pytest.raises(NotPermittedError, match="may confirm an inferred result"):
        result_inference_confirm(result=a3, actor=actor)
    assert (_state(a3), AuditEvent.objects.filter(organisation=acme).count()) == (before, events)


def test_approval_lists_the_unconfirmed_inferred_results_until_a_person_confirms_them(acme, pair, oscar, alice):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    requirement_result_update(result=_result(nist_assessment, "M1"), actor=oscar, result_status="compliant")
    assessment_submit_for_review(assessment=iso_assessment, actor=oscar)
    with pytest.raises(Exception, match=r"2 inferred result\(s\) are not yet confirmed by a person: A1, A3\."):
        assessment_approve(assessment=iso_assessment, actor=alice)
    assert iso_assessment.__class__.objects.get(pk=iso_assessment.pk).status == AssessmentStatus.IN_REVIEW
    result_inference_confirm(result=_result(iso_assessment, "A1"), actor=oscar)
    result_inference_confirm(result=_result(iso_assessment, "A3"), actor=oscar)
    assert assessment_approve(assessment=iso_assessment, actor=alice).status == AssessmentStatus.APPROVED


def test_confirming_in_an_approved_assessment_is_refused(acme, pair, oscar, alice):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = result_inference_confirm(result=_result(iso_assessment, "A3"), actor=oscar)
    assessment_submit_for_review(assessment=iso_assessment, actor=oscar)
    assessment_approve(assessment=iso_assessment, actor=alice)
    RequirementResult.objects.filter(pk=a3.pk).update(inference_confirmed_at=None, inference_confirmed_by=None)
    with pytest.raises(AssessmentLockedError, match="approved: it cannot change"):
        result_inference_confirm(result=a3, actor=oscar)
    assert _state(a3)[2:] == (None, None)


def test_a_hand_edit_that_keeps_the_proposal_does_not_confirm_it(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    edited = requirement_result_update(result=_result(iso_assessment, "A3"), actor=oscar,
                                       result_status="non_compliant", rationale="Seen the memo")
    assert (edited.result, edited.is_inferred, edited.inference_confirmed_at, edited.rationale) == (
        N, True, None, "Seen the memo")
    assert edited.inferred_from == _result(nist_assessment, "M3")


def test_a_hand_edit_that_changes_the_result_makes_it_the_persons_own(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = result_inference_confirm(result=_result(iso_assessment, "A3"), actor=oscar)
    edited = requirement_result_update(result=a3, actor=oscar, result_status="partially_compliant",
                                       rationale="Own test shows the overlap is met")
    row = RequirementResult.objects.get(pk=edited.pk)
    assert (row.result, row.is_inferred, row.inferred_from_id, row.inferred_via_id, row.inference_confirmed_at) == (
        P, False, None, None, None)
    assert inferred_from_text(row) == ""


def test_accepting_in_review_confirms_and_keeps_the_provenance(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    reviewed = requirement_result_review(result=_result(iso_assessment, "A3"), actor=oscar)
    row = RequirementResult.objects.get(pk=reviewed.pk)
    assert (row.result, row.is_inferred, row.inference_confirmed_by) == (N, True, oscar)
    assert inferred_from_text(row).endswith("; confirmed by oscar on 2026-11-20")


def test_rejecting_drops_the_inference_and_the_evidence_it_brought(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    requirement_result_review(result=_result(iso_assessment, "A3"), actor=oscar, accept=False)
    row = _result(iso_assessment, "A3")
    assert (row.result, row.is_inferred, row.inferred_from_id, list(row.evidence_versions.all())) == (
        ResultStatus.NOT_ASSESSED, False, None, [])


def test_a_changed_source_needs_a_new_confirmation(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    requirement_result_update(result=_result(nist_assessment, "M1"), actor=oscar, result_status="compliant")
    result_inference_confirm(result=_result(iso_assessment, "A1"), actor=oscar)
    requirement_result_update(result=_result(nist_assessment, "M1"), actor=oscar, result_status="non_compliant")
    a1 = _result(iso_assessment, "A1")
    assert (a1.result, a1.is_inferred, a1.inference_confirmed_at) == (N, True, None)


def test_an_inferred_result_proposes_nothing_further(acme, pair, oscar, nist, system):
    nist_assessment, iso_assessment = pair
    requirement_result_update(result=_result(nist_assessment, "M1"), actor=oscar, result_status="compliant")
    second_nist = assessment_create(organisation=acme, framework=nist, ai_system=system, actor=oscar)
    requirement_result_update(result=_result(iso_assessment, "A1"), actor=oscar, result_status="compliant",
                              rationale="kept")
    assert (_result(second_nist, "M1").result, _result(second_nist, "M1").is_inferred) == (
        ResultStatus.NOT_ASSESSED, False)


def test_pages_print_where_an_inferred_result_came_from(acme, pair, oscar, client_as):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = _result(iso_assessment, "A3")
    text = "Inferred from NIST M3 (Non-compliant) via crosswalk (intersects); not yet confirmed"
    client = client_as("consultant")
    for url in (reverse("assessments:assessment-detail", args=[iso_assessment.pk]),
                reverse("assessments:result-list") + f"?assessment={iso_assessment.pk}",
                reverse("assessments:result-edit", args=[a3.pk])):
        assert text in client.get(url).content.decode(), url


def test_web_confirm_confirms_once_and_then_says_why_not(acme, pair, oscar, client_as):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = _result(iso_assessment, "A3")
    client = client_as("consultant")
    url = reverse("assessments:result-confirm-inference", args=[a3.pk])
    first = client.post(url, follow=True).content.decode()
    assert "A3: inference confirmed." in first and "confirmed by carol on 2026-11-20" in first
    before, events = _state(a3), AuditEvent.objects.filter(organisation=acme).count()
    second = client.post(url, follow=True).content.decode()
    assert "A3 is already confirmed (by carol on 2026-11-20)." in second
    assert (_state(a3), AuditEvent.objects.filter(organisation=acme).count()) == (before, events)


def test_web_confirm_is_forbidden_to_the_auditor(acme, pair, oscar, client_as):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = _result(iso_assessment, "A3")
    before = _state(a3)
    assert client_as("auditor").post(reverse("assessments:result-confirm-inference", args=[a3.pk])).status_code == 403
    assert _state(a3) == before


def test_api_prints_the_provenance_and_confirms(acme, pair, oscar, client_as):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = _result(iso_assessment, "A3")
    client = client_as("risk_officer")
    row = client.get(f"{API}/requirement-results/{a3.pk}/").json()
    assert (row["result"], row["is_inferred"], row["inference_confirmed_by"], row["inference_confirmed_at"]) == (
        "non_compliant", True, None, None)
    assert row["inferred_from_text"] == (
        "Inferred from NIST M3 (Non-compliant) via crosswalk (intersects); not yet confirmed")
    m3 = client.get(f"{API}/requirement-results/{_result(nist_assessment, 'M3').pk}/").json()
    assert m3["inferred_from_text"] == ""
    confirmed = client.post(f"{API}/requirement-results/{a3.pk}/confirm-inference/")
    assert confirmed.status_code == 200
    assert confirmed.json()["inferred_from_text"].endswith("; confirmed by oscar on 2026-11-20")
    assert confirmed.json()["inference_confirmed_by"] == oscar.pk


def test_api_confirm_refusals_say_why_and_change_nothing(acme, pair, oscar, client_as):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3, m3 = _result(iso_assessment, "A3"), _result(nist_assessment, "M3")
    before, events = (_state(a3), _state(m3)), AuditEvent.objects.filter(organisation=acme).count()
    denied = client_as("auditor").post(f"{API}/requirement-results/{a3.pk}/confirm-inference/")
    assert denied.status_code == 403
    direct = client_as("consultant").post(f"{API}/requirement-results/{m3.pk}/confirm-inference/")
    assert direct.status_code == 409
    assert direct.json() == ["M3 was recorded directly, not inferred: there is nothing to confirm."]
    assert ((_state(a3), _state(m3)), AuditEvent.objects.filter(organisation=acme).count()) == (before, events)


def test_the_statement_of_applicability_export_prints_where_it_came_from(acme, pair, oscar, client_as):
    import csv
    import io

    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    answer = client_as("auditor").get(reverse("assessments:assessment-export", args=[iso_assessment.pk, "soa.csv"]))
    rows = {row[0]: row for row in csv.reader(io.StringIO(answer.content.decode()))}
    assert rows["ref_id"][6:8] == ["inferred_via", "inferred_from"]
    assert rows["A3"][5:8] == ["Non-compliant", "M3 intersects A3",
                               "Inferred from NIST M3 (Non-compliant) via crosswalk (intersects); not yet confirmed"]
    assert rows["A1"][7] == ""


def test_the_text_still_names_the_crosswalk_when_the_source_result_is_gone(acme, pair, oscar):
    nist_assessment, iso_assessment = pair
    _non_compliant_m3(nist_assessment, oscar, acme)
    a3 = _result(iso_assessment, "A3")
    RequirementResult.objects.filter(pk=a3.pk).update(inferred_from=None)  # what SET_NULL leaves behind
    assert inferred_from_text(_result(iso_assessment, "A3")) == (
        "Inferred from NIST M3 via crosswalk (intersects); not yet confirmed")
