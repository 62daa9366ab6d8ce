"""Authorisation matrix of every assessments API endpoint: each caller, status, nothing changed on denial."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models.tenancy import Role
from governance.permissions import Permission
from tests.assessments.world import World, fingerprint, world_make
from tests.authorisation_oracle import ALLOWED
from tests.conftest import CALLERS

API = "/api/v1"


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[World], str]
    needs: Permission
    data: Callable[[World], dict[str, Any]] | None = None
    writes: bool = False
    ok: int = 200
    multipart: bool = False
    # A member of another organisation works in their own: object URLs are 404, collections their own rows.
    other: frozenset[int] = field(default_factory=lambda: frozenset({404}))


def _detail(collection: str, attribute: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"{API}/{collection}/{getattr(w, attribute).pk}/{suffix}"


ENDPOINTS = [
    *[Endpoint(f"list-{name}", "get", (lambda n: lambda w: f"{API}/{n}/")(name), Permission.READ,
               other=frozenset({200}))
      for name in ("assessments", "requirement-results", "evidence", "evidence-versions", "findings", "engagements",
                   "engagement-phases", "actions", "reports", "dashboard")],
    Endpoint("assessment-detail", "get", _detail("assessments", "draft"), Permission.READ),
    Endpoint("result-detail", "get", _detail("requirement-results", "result"), Permission.READ),
    Endpoint("evidence-detail", "get", _detail("evidence", "evidence"), Permission.READ),
    Endpoint("finding-detail", "get", _detail("findings", "finding"), Permission.READ),
    Endpoint("engagement-detail", "get", _detail("engagements", "engagement"), Permission.READ),
    Endpoint("action-detail", "get", _detail("actions", "action"), Permission.READ),
    Endpoint("report-detail", "get", _detail("reports", "report"), Permission.READ),
    Endpoint("snapshot", "get", _detail("assessments", "draft", "snapshot/"), Permission.DOWNLOAD_REPORTS),
    Endpoint("soa-csv", "get", _detail("assessments", "draft", "soa.csv/"), Permission.DOWNLOAD_REPORTS),
    Endpoint("soa-xlsx", "get", _detail("assessments", "draft", "soa.xlsx/"), Permission.DOWNLOAD_REPORTS),
    Endpoint("manifest-csv", "get", _detail("assessments", "draft", "manifest.csv/"), Permission.DOWNLOAD_REPORTS),
    Endpoint("manifest-xlsx", "get", _detail("assessments", "draft", "manifest.xlsx/"), Permission.DOWNLOAD_REPORTS),
    Endpoint("evidence-download", "get", _detail("evidence-versions", "version", "download/"),
             Permission.DOWNLOAD_REPORTS),
    Endpoint("report-download", "get", _detail("reports", "report", "download/"), Permission.DOWNLOAD_REPORTS),
    Endpoint("verify", "post", lambda w: f"{API}/verify/", Permission.VERIFY, multipart=True,
             data=lambda w: {"file": SimpleUploadedFile("x.txt", b"acme policy text")}, other=frozenset({200})),
    # Writes.
    Endpoint("assessment-create", "post", lambda w: f"{API}/assessments/", Permission.EDIT_ASSESSMENTS, ok=201,
             data=lambda w: {"framework": w.framework.pk, "ai_system": w.system.pk}, writes=True,
             other=frozenset({400})),
    Endpoint("assessment-update", "patch", _detail("assessments", "draft"), Permission.EDIT_ASSESSMENTS,
             data=lambda w: {"title": "Renamed"}, writes=True),
    Endpoint("assessment-submit", "post", _detail("assessments", "draft", "submit/"), Permission.EDIT_ASSESSMENTS,
             writes=True),
    Endpoint("assessment-approve", "post", _detail("assessments", "in_review", "approve/"),
             Permission.APPROVE_ASSESSMENTS, writes=True),
    Endpoint("assessment-lock", "post", _detail("assessments", "approved", "lock/"), Permission.APPROVE_ASSESSMENTS,
             writes=True),
    Endpoint("assessment-return", "post", _detail("assessments", "in_review", "return-to-draft/"),
             Permission.APPROVE_ASSESSMENTS, writes=True),
    Endpoint("result-update", "patch", _detail("requirement-results", "result"), Permission.EDIT_ASSESSMENTS,
             data=lambda w: {"result": "compliant", "evidence_versions": [w.version.pk]}, writes=True),
    Endpoint("result-review", "post", _detail("requirement-results", "result", "review/"), Permission.EDIT_ASSESSMENTS,
             data=lambda w: {"accept": False}, writes=True),
    Endpoint("evidence-create", "post", lambda w: f"{API}/evidence/", Permission.EDIT_ASSESSMENTS, ok=201,
             data=lambda w: {"title": "E", "kind": "document", "ai_system": w.system.pk}, writes=True,
             other=frozenset({400})),
    Endpoint("evidence-version-add", "post", _detail("evidence", "evidence", "versions/"), Permission.EDIT_ASSESSMENTS,
             ok=201, multipart=True, data=lambda w: {"file": SimpleUploadedFile("v.txt", b"v2")}, writes=True),
    Endpoint("finding-create", "post", lambda w: f"{API}/findings/", Permission.EDIT_ASSESSMENTS, ok=201,
             data=lambda w: {"title": "F", "severity": "low", "ai_system": w.system.pk}, writes=True,
             other=frozenset({400})),
    Endpoint("finding-update", "patch", _detail("findings", "finding"), Permission.EDIT_ASSESSMENTS,
             data=lambda w: {"status": "in_remediation"}, writes=True),
    Endpoint("engagement-update", "patch", _detail("engagements", "engagement"), Permission.EDIT_ENGAGEMENTS,
             data=lambda w: {"baseline_assessments": [w.draft.pk]}, writes=True),
    Endpoint("phase-update", "patch", _detail("engagement-phases", "phase"), Permission.EDIT_ENGAGEMENTS,
             data=lambda w: {"title": "Screening"}, writes=True),
    Endpoint("action-create", "post", lambda w: f"{API}/actions/", Permission.EDIT_ENGAGEMENTS, ok=201,
             data=lambda w: {"engagement": w.engagement.pk, "title": "A"}, writes=True, other=frozenset({400})),
    Endpoint("action-update", "patch", _detail("actions", "action"), Permission.EDIT_ENGAGEMENTS,
             data=lambda w: {"progress": 50, "status": "in_progress"}, writes=True),
    Endpoint("report-create", "post", lambda w: f"{API}/reports/", Permission.GENERATE_REPORTS, ok=202,
             data=lambda w: {"assessment": w.draft.pk}, writes=True, other=frozenset({400})),
]


@pytest.fixture
def world(acme, nist, system, oscar) -> World:
    return world_make(acme=acme, nist=nist, system=system, actor=oscar)


def _call(client, endpoint: Endpoint, world: World):
    data = endpoint.data(world) if endpoint.data else {}
    method = getattr(client, endpoint.method)
    if endpoint.multipart:
        return method(endpoint.path(world), data)
    return method(endpoint.path(world), data, content_type="application/json")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_api_endpoint_authorisation(endpoint: Endpoint, caller: str, world: World, client_as, acme):
    client = client_as(caller)
    before = fingerprint(acme)
    response = _call(client, endpoint, world)
    if caller == "anonymous":
        assert response.status_code in (401, 403)
        allowed = False
    elif caller == "other_organisation":
        assert response.status_code in endpoint.other, response.content[:300]
        if response.status_code == 200 and endpoint.method == "get":
            assert b"Acme" not in response.content
        allowed = False
    else:
        allowed = Role(caller) in ALLOWED[endpoint.needs]
        assert response.status_code == (endpoint.ok if allowed else 403), response.content[:300]
    if endpoint.writes and allowed:
        assert fingerprint(acme) != before
    else:
        assert fingerprint(acme) == before


def test_engagement_create_by_consultant_gets_default_plan(client_as, acme):
    response = client_as("consultant").post(f"{API}/engagements/", {"title": "Q1", "start_date": "2026-12-01"},
                                            content_type="application/json")
    assert response.status_code == 201
    phases = response.json()["phases"]
    assert [(p["start_date"], p["end_date"]) for p in phases] == [
        ("2026-12-01", "2026-12-30"), ("2026-12-31", "2027-01-29"), ("2027-01-30", "2027-02-28")]
    assert client_as("auditor").post(f"{API}/engagements/", {"title": "x", "start_date": "2026-12-01"},
                                     content_type="application/json").status_code == 403
    assert client_as("risk_officer").post(f"{API}/engagements/", {"title": "x", "start_date": "2026-12-01"},
                                          content_type="application/json").status_code == 403
