"""Every URL of the URL conf × every caller: the answer, and nothing changed on denial.

Generated from `django.urls.get_resolver()`: a new URL without a rule in tests/security/url_rules.py
fails `test_every_url_has_an_authorisation_rule`. Callers (tests/conftest.py): anonymous, a member
of another organisation (mallory, Globex's admin) and Acme's admin, risk officer, consultant and
auditor. Writes are sent deliberately empty; each request runs in a savepoint that is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpResponse

from governance.models.tenancy import Role
from governance.permissions import Permission
from tests.authorisation_oracle import ALLOWED
from tests.conftest import CALLERS
from tests.security.harness import ACME_LABEL, ACME_NAME, Matrix, state
from tests.security.url_rules import (
    MISSING_ID,
    Need,
    Rule,
    Scope,
    UrlPattern,
    format_suffix_bug,
    path_for,
    rule_for,
    url_patterns,
)

# Every test runs in a savepoint of the module's world (and this marker has pytest-django create
# the test database at all: it sets up only the databases that marked tests use).
pytestmark = pytest.mark.django_db
PATTERNS = url_patterns()
RULED = [(pattern, rule) for pattern in PATTERNS if (rule := rule_for(pattern)) is not None]
CASES = [(pattern, rule, method) for pattern, rule in RULED for method in pattern.methods(rule)]
# Bugs in other people's code, expected to fail until fixed (strict: a fix makes the marker go).
KNOWN_BUGS: dict[str, str] = {}


def _params(cases: list[tuple[UrlPattern, Rule, str]]) -> list[Any]:
    params = []
    for case in cases:
        pattern, _, method = case
        reason = format_suffix_bug(pattern, method) or KNOWN_BUGS.get(f"{method} {pattern.name}")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, marks=marks, id=_case_id(case)))
    return params
OK_READ = frozenset({200})
OK_WRITE = frozenset({200, 201, 202, 204, 301, 302, 303, 400, 405, 409, 415})
ACME_MARKERS = (ACME_LABEL.encode(), ACME_NAME.encode())


def _case_id(case: tuple[UrlPattern, Rule, str]) -> str:
    pattern, _, method = case
    return f"{method} {pattern.name or pattern.route}{' (format suffix)' if pattern.has_format_suffix else ''}"


@dataclass(frozen=True)
class Expected:
    statuses: frozenset[int]
    denied: bool  # the request must change nothing


def expected(pattern: UrlPattern, rule: Rule, method: str, caller: str) -> Expected:
    need = rule.need(method)
    allowed = rule.allowed_statuses or (OK_READ if method == "GET" else OK_WRITE)
    if need is Need.PUBLIC:
        return Expected(allowed, denied=False)
    if need is Need.STAFF:
        return Expected(frozenset({302}), denied=True)
    if caller == "anonymous":
        return Expected(frozenset({401, 403}) if pattern.is_api else frozenset({302}), denied=True)
    if need is Need.LOGIN:
        return Expected(allowed, denied=False)
    assert isinstance(need, Permission), f"{pattern.label}: no rule for {method}"
    role = Role(caller) if caller in Role.values else Role.ORG_ADMIN  # mallory is Globex's admin
    if caller == "other_organisation" and rule.scope is Scope.OWNED and role not in ALLOWED[need]:
        # Her role may not do this at all (attesting is the auditor's alone): refused before any lookup,
        # so a missing id answers the same 403 and nothing hints that Acme's row exists.
        return Expected(frozenset({403}), denied=True)
    if caller == "other_organisation" and rule.scope is Scope.OWNED:
        # An empty body may be refused (400) before the row is looked up: no hint either, as long as a
        # missing id answers the same (test_guessed_ids_… checks that).
        return Expected(frozenset({404} if method == "GET" else {400, 404}), denied=True)
    if caller == "other_organisation" and rule.scope is Scope.ORG_KEYED:
        return Expected(frozenset({200, 404}), denied=method != "GET")
    if role not in ALLOWED[need]:
        return Expected(frozenset({403}), denied=True)
    return Expected(allowed, denied=False)


def send(client: Any, method: str, path: str, *, api: bool) -> HttpResponse:
    if method == "GET":
        return client.get(path)
    if api:
        return client.generic(method, path, b"{}", content_type="application/json")
    if method == "POST":
        return client.post(path, {})
    return client.generic(method, path, b"")


def problems_of(matrix: Matrix, pattern: UrlPattern, rule: Rule, method: str, caller: str) -> list[str]:
    want = expected(pattern, rule, method, caller)
    path = path_for(pattern, rule.kwargs(matrix.acme))
    before = state()
    with transaction.atomic():
        response = send(matrix.client(caller), method, path, api=pattern.is_api)
        after = state() if response.status_code < 500 else before
        transaction.set_rollback(True)
    found: list[str] = []
    where = f"{method} {path} as {caller}"
    if response.status_code not in want.statuses:
        error = f" ({response.exception!r})" if getattr(response, "exception", None) else ""
        found.append(f"{where}: {response.status_code}, expected one of {sorted(want.statuses)}{error}")
    if want.denied and after != before:
        found.append(f"{where}: denied, yet the data or the media files changed")
    if caller == "anonymous" and not pattern.is_api and response.status_code == 302 \
            and rule.need(method) not in (Need.PUBLIC, Need.STAFF) \
            and not response["Location"].startswith("/accounts/login/"):
        found.append(f"{where}: redirected to {response['Location']}, not to the login page")
    if caller == "other_organisation":
        body = b"".join(response.streaming_content) if response.streaming else response.content
        leaked = [marker.decode() for marker in ACME_MARKERS if marker in body]
        if leaked:
            found.append(f"{where}: the answer shows Acme's data ({', '.join(leaked)})")
    return found


@pytest.mark.parametrize("case", _params(CASES))
def test_every_caller_gets_the_answer_of_the_permission_table(matrix: Matrix, case: tuple[UrlPattern, Rule, str]):
    pattern, rule, method = case
    problems = [problem for caller in CALLERS for problem in problems_of(matrix, pattern, rule, method, caller)]
    assert not problems, "\n".join(problems)


def test_every_url_has_an_authorisation_rule():
    missing = [f"new endpoint without an authorisation rule: {pattern.name} {pattern.route}"
               for pattern in PATTERNS if rule_for(pattern) is None]
    assert not missing, "\n".join(missing)


def test_every_method_a_view_handles_has_a_rule():
    missing = [f"{pattern.label}: {method} has no rule" for pattern, rule in RULED for method in pattern.methods(rule)
               if rule.need(method) is None]
    assert not missing, "\n".join(missing)


def test_every_url_resolves_to_its_own_view(matrix: Matrix):
    """The paths the matrix builds really reach the pattern they stand for (or the matrix proves nothing)."""
    from django.urls import Resolver404, resolve

    wrong = []
    for pattern, rule in RULED:
        try:
            path = path_for(pattern, rule.kwargs(matrix.acme))
        except BaseException as skipped:
            if isinstance(skipped, pytest.skip.Exception):
                continue
            raise
        try:
            match = resolve(path)
        except Resolver404:
            wrong.append(f"{pattern.label}: {path} resolves to nothing")
            continue
        if (match.view_name or None) != pattern.name and pattern.name is not None:
            wrong.append(f"{pattern.label}: {path} resolves to {match.view_name}")
    assert not wrong, "\n".join(wrong)


OWNED = [(pattern, rule, method) for pattern, rule, method in CASES
         if rule.scope is Scope.OWNED and not pattern.has_format_suffix and isinstance(rule.need(method), Permission)]


def _missing_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: MISSING_ID if isinstance(value, int) else value for key, value in kwargs.items()}


@pytest.mark.parametrize("case", OWNED, ids=_case_id)
def test_guessed_ids_of_another_organisation_answer_as_if_absent(matrix: Matrix, case: tuple[UrlPattern, Rule, str]):
    """Carol works for Globex too: with Globex selected, Acme's ids answer exactly like ids that do not exist."""
    pattern, rule, method = case
    acme_kwargs = rule.kwargs(matrix.acme)
    answers = {}
    for label, kwargs in (("acme's id", acme_kwargs), ("a missing id", _missing_kwargs(acme_kwargs))):
        with transaction.atomic():
            client = matrix.client("consultant_in_globex", organisation_header="globex")
            response = send(client, method, path_for(pattern, kwargs), api=pattern.is_api)
            transaction.set_rollback(True)
        answers[label] = response.status_code
        assert ACME_LABEL.encode() not in response.content, f"{label}: the answer shows Acme's data"
    need = rule.need(method)
    allowed = {404} if Role.CONSULTANT in ALLOWED[need] else {403, 404}
    if method != "GET":
        allowed.add(400)  # an empty body refused before the lookup: the same for a missing id
    assert answers["acme's id"] == answers["a missing id"] and answers["acme's id"] in allowed, answers


TWINS = [(pattern, rule, method) for pattern, rule, method in OWNED if method == "GET"]


@pytest.mark.parametrize("case", TWINS, ids=_case_id)
def test_another_organisation_reads_its_own_twin_row(matrix: Matrix, case: tuple[UrlPattern, Rule, str]):
    """Mallory's 404 on Acme's row is isolation, not a broken page: her own Globex row answers 200."""
    pattern, rule, _ = case
    response = matrix.client("other_organisation").get(path_for(pattern, rule.kwargs(matrix.globex)))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200
    assert ACME_LABEL.encode() not in body


MEDIA_ROWS = {"dataset": "file", "evidence_version": "file", "report": "file", "model_version": "checkpoint"}


@pytest.mark.parametrize("caller", CALLERS)
def test_media_root_is_never_served_directly(matrix: Matrix, caller: str):
    """Stored files are reached only through access-checked download views, never at /media/…"""
    names = [getattr(matrix.acme.rows[key], attribute).name for key, attribute in MEDIA_ROWS.items()
             if key in matrix.acme.rows and getattr(matrix.acme.rows[key], attribute)]
    assert names, "the world stores no files"
    for name in names:
        response = matrix.client(caller).get(f"/media/{name}")
        assert response.status_code == 404, f"/media/{name} as {caller}: {response.status_code}"


def test_the_world_has_a_row_of_every_kind(matrix: Matrix):
    """Rules whose rows could not be built are skipped; this says which, so nothing is skipped unnoticed."""
    assert not matrix.acme.missing, matrix.acme.missing
