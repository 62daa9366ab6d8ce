"""The web kit's one translation of a service's refusal into an HTTP answer, the same in every app."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from rest_framework import exceptions

from assessments.services.common import AssessmentIncompleteError, AssessmentLockedError, SegregationOfDutiesError
from governance.errors import ConflictError, NotPermittedError, ServiceError
from governance.permissions import Permission
from governance.web.api import route_needs, service_call, service_error_to_api


def test_a_refusal_that_names_no_field_is_a_400_with_its_messages():
    answer = service_error_to_api(ValidationError("The run has already finished."))
    assert isinstance(answer, exceptions.ValidationError) and answer.status_code == 400
    assert answer.detail == ["The run has already finished."]


def test_a_refusal_that_names_fields_keeps_their_names():
    answer = service_error_to_api(ValidationError({"classification": "Answer first.", "eps": ["Too big."]}))
    assert answer.status_code == 400
    assert answer.detail == {"classification": ["Answer first."], "eps": ["Too big."]}


def test_a_plain_service_error_is_a_400():
    answer = service_error_to_api(ServiceError("Evidence belongs to another organisation."))
    assert answer.status_code == 400 and answer.detail == ["Evidence belongs to another organisation."]


@pytest.mark.parametrize("error", [ConflictError("Already confirmed."), AssessmentLockedError("Already confirmed.")])
def test_a_conflict_is_a_409_with_its_messages(error):
    answer = service_error_to_api(error)
    assert answer.status_code == 409 and answer.detail == ["Already confirmed."]


def test_the_locks_refusal_is_a_409_that_lists_every_blocker():
    answer = service_error_to_api(AssessmentIncompleteError("2 results block the lock.", ["M1: not assessed",
                                                                                          "M2: no evidence"]))
    assert answer.status_code == 409
    assert answer.detail == {"detail": "2 results block the lock.", "blockers": ["M1: not assessed", "M2: no evidence"]}


@pytest.mark.parametrize("error", [NotPermittedError("Auditors may not."),
                                   SegregationOfDutiesError("Auditors may not.")])
def test_a_role_or_person_who_may_not_is_a_403(error):
    answer = service_error_to_api(error)
    assert isinstance(answer, exceptions.PermissionDenied) and answer.status_code == 403
    assert answer.detail == "Auditors may not."


def test_service_call_returns_the_result_or_raises_the_translation():
    assert service_call(lambda *, value: value * 2, value=21) == 42

    def refuse() -> None:
        raise ConflictError("Locked.")

    with pytest.raises(exceptions.APIException) as raised:
        service_call(refuse)
    assert raised.value.status_code == 409 and raised.value.detail == ["Locked."]


def test_route_needs_names_the_permission_for_every_verb():
    assert route_needs(Permission.ATTEST_REPORTS) == {
        "GET": Permission.ATTEST_REPORTS, "HEAD": Permission.ATTEST_REPORTS, "OPTIONS": Permission.ATTEST_REPORTS,
        "POST": Permission.ATTEST_REPORTS, "PUT": Permission.ATTEST_REPORTS, "PATCH": Permission.ATTEST_REPORTS,
        "DELETE": Permission.ATTEST_REPORTS}
