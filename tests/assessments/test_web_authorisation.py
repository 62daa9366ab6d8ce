"""Authorisation matrix of every assessments web page: each caller, status, and nothing changed on denial."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.models.tenancy import Role
from governance.permissions import Permission
from tests.assessments.world import World, fingerprint, world_make
from tests.authorisation_oracle import ALLOWED
from tests.conftest import CALLERS

U = reverse


@dataclass(frozen=True)
class Page:
    name: str
    method: str
    path: Callable[[World], str]
    needs: Permission
    data: Callable[[World], dict[str, Any]] | None = None
    writes: bool = False  # an allowed call must change something (and a denied one nothing)
    ok: int = 200
    other: frozenset[int] = field(default_factory=lambda: frozenset({404}))


def _export(kind: str) -> Callable[[World], str]:
    return lambda w: U("assessments:assessment-export", args=[w.draft.pk, kind])


PAGES = [
    Page("dashboard", "get", lambda w: U("dashboard"), Permission.READ, other=frozenset({200})),
    Page("dashboard-system", "get", lambda w: U("dashboard") + f"?ai_system={w.system.pk}", Permission.READ),
    Page("assessment-list", "get", lambda w: U("assessments:assessment-list"), Permission.READ, other=frozenset({200})),
    Page("assessment-detail", "get", lambda w: U("assessments:assessment-detail", args=[w.draft.pk]), Permission.READ),
    Page("result-list", "get", lambda w: U("assessments:result-list") + "?current=1", Permission.READ,
         other=frozenset({200})),
    Page("evidence-list", "get", lambda w: U("assessments:evidence-list"), Permission.READ, other=frozenset({200})),
    Page("evidence-detail", "get", lambda w: U("assessments:evidence-detail", args=[w.evidence.pk]), Permission.READ),
    Page("finding-list", "get", lambda w: U("assessments:finding-list"), Permission.READ, other=frozenset({200})),
    Page("finding-detail", "get", lambda w: U("assessments:finding-detail", args=[w.finding.pk]), Permission.READ),
    Page("engagement-list", "get", lambda w: U("assessments:engagement-list"), Permission.READ, other=frozenset({200})),
    Page("engagement-detail", "get", lambda w: U("assessments:engagement-detail", args=[w.engagement.pk]),
         Permission.READ),
    Page("action-list", "get", lambda w: U("assessments:action-list") + "?overdue=1", Permission.READ,
         other=frozenset({200})),
    Page("report-list", "get", lambda w: U("assessments:report-list"), Permission.READ, other=frozenset({200})),
    Page("report-detail", "get", lambda w: U("assessments:report-detail", args=[w.report.pk]), Permission.READ),
    Page("report-download", "get", lambda w: U("assessments:report-download", args=[w.report.pk]),
         Permission.DOWNLOAD_REPORTS),
    Page("evidence-download", "get", lambda w: U("assessments:evidence-version-download", args=[w.version.pk]),
         Permission.DOWNLOAD_REPORTS),
    Page("export-soa-csv", "get", _export("soa.csv"), Permission.DOWNLOAD_REPORTS),
    Page("export-soa-xlsx", "get", _export("soa.xlsx"), Permission.DOWNLOAD_REPORTS),
    Page("export-manifest-csv", "get", _export("manifest.csv"), Permission.DOWNLOAD_REPORTS),
    Page("export-manifest-xlsx", "get", _export("manifest.xlsx"), Permission.DOWNLOAD_REPORTS),
    Page("export-snapshot", "get", _export("snapshot.json"), Permission.DOWNLOAD_REPORTS),
    Page("verify-form", "get", lambda w: U("assessments:verify"), Permission.VERIFY, other=frozenset({200})),
    Page("verify", "post", lambda w: U("assessments:verify"), Permission.VERIFY,
         data=lambda w: {"file": SimpleUploadedFile("p.txt", b"acme policy text")}, other=frozenset({200})),
    # Forms and writes.
    Page("assessment-create-form", "get", lambda w: U("assessments:assessment-create"), Permission.EDIT_ASSESSMENTS,
         other=frozenset({200})),
    Page("assessment-create", "post", lambda w: U("assessments:assessment-create"), Permission.EDIT_ASSESSMENTS,
         data=lambda w: {"framework": w.framework.pk, "ai_system": w.system.pk, "title": "New"}, writes=True,
         ok=302, other=frozenset({200})),
    Page("assessment-submit", "post", lambda w: U("assessments:assessment-submit", args=[w.draft.pk]),
         Permission.EDIT_ASSESSMENTS, writes=True, ok=302),
    Page("assessment-approve", "post", lambda w: U("assessments:assessment-approve", args=[w.in_review.pk]),
         Permission.APPROVE_ASSESSMENTS, writes=True, ok=302),
    Page("assessment-lock", "post", lambda w: U("assessments:assessment-lock", args=[w.approved.pk]),
         Permission.APPROVE_ASSESSMENTS, writes=True, ok=302),
    Page("assessment-return", "post", lambda w: U("assessments:assessment-return", args=[w.in_review.pk]),
         Permission.APPROVE_ASSESSMENTS, writes=True, ok=302),
    Page("result-edit-form", "get", lambda w: U("assessments:result-edit", args=[w.result.pk]),
         Permission.EDIT_ASSESSMENTS),
    Page("result-edit", "post", lambda w: U("assessments:result-edit", args=[w.result.pk]), Permission.EDIT_ASSESSMENTS,
         data=lambda w: {"result": "compliant", "rationale": "seen", "applicable": "on"}, writes=True, ok=302),
    Page("result-review", "post", lambda w: U("assessments:result-review", args=[w.result.pk]),
         Permission.EDIT_ASSESSMENTS, data=lambda w: {"accept": "0"}, writes=True, ok=302),
    Page("evidence-create-form", "get", lambda w: U("assessments:evidence-create"), Permission.EDIT_ASSESSMENTS,
         other=frozenset({200})),
    Page("evidence-create", "post", lambda w: U("assessments:evidence-create"), Permission.EDIT_ASSESSMENTS,
         data=lambda w: {"title": "Upload", "kind": "document", "ai_system": w.system.pk,
                         "file": SimpleUploadedFile("u.txt", b"upload")}, writes=True, ok=302,
         other=frozenset({200})),
    Page("evidence-version-add", "post", lambda w: U("assessments:evidence-detail", args=[w.evidence.pk]),
         Permission.EDIT_ASSESSMENTS, data=lambda w: {"url": "https://example.org/policy"}, writes=True, ok=302),
    Page("finding-create-form", "get", lambda w: U("assessments:finding-create"), Permission.EDIT_ASSESSMENTS,
         other=frozenset({200})),
    Page("finding-create", "post", lambda w: U("assessments:finding-create"), Permission.EDIT_ASSESSMENTS,
         data=lambda w: {"title": "F", "severity": "low", "status": "open", "ai_system": w.system.pk}, writes=True,
         ok=302, other=frozenset({200})),
    Page("finding-update", "post", lambda w: U("assessments:finding-detail", args=[w.finding.pk]),
         Permission.EDIT_ASSESSMENTS, data=lambda w: {"title": "Acme finding", "severity": "high",
                                                  "status": "in_remediation"}, writes=True, ok=302),
    Page("engagement-create-form", "get", lambda w: U("assessments:engagement-create"), Permission.EDIT_ENGAGEMENTS,
         other=frozenset({200})),
    Page("engagement-assessments", "post", lambda w: U("assessments:engagement-detail", args=[w.engagement.pk]),
         Permission.EDIT_ENGAGEMENTS, data=lambda w: {"baseline": [w.draft.pk]}, writes=True, ok=302),
    Page("phase-edit-form", "get", lambda w: U("assessments:phase-edit", args=[w.phase.pk]),
         Permission.EDIT_ENGAGEMENTS),
    Page("phase-edit", "post", lambda w: U("assessments:phase-edit", args=[w.phase.pk]), Permission.EDIT_ENGAGEMENTS,
         data=lambda w: {"title": "Screening", "start_date": "2026-11-01", "end_date": "2026-12-05"}, writes=True,
         ok=302),
    Page("action-create-form", "get", lambda w: U("assessments:action-create", args=[w.engagement.pk]),
         Permission.EDIT_ENGAGEMENTS),
    Page("action-create", "post", lambda w: U("assessments:action-create", args=[w.engagement.pk]),
         Permission.EDIT_ENGAGEMENTS, data=lambda w: {"title": "A", "status": "todo", "progress": 0}, writes=True,
         ok=302),
    Page("action-edit-form", "get", lambda w: U("assessments:action-edit", args=[w.action.pk]),
         Permission.EDIT_ENGAGEMENTS),
    Page("action-edit", "post", lambda w: U("assessments:action-edit", args=[w.action.pk]), Permission.EDIT_ENGAGEMENTS,
         data=lambda w: {"title": "Acme action", "status": "in_progress", "progress": 40}, writes=True, ok=302),
    Page("report-request", "post", lambda w: U("assessments:assessment-report", args=[w.draft.pk]),
         Permission.GENERATE_REPORTS, writes=True, ok=302),
]


@pytest.fixture
def world(acme, nist, system, oscar) -> World:
    return world_make(acme=acme, nist=nist, system=system, actor=oscar)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_web_page_authorisation(page: Page, caller: str, world: World, client_as, acme):
    client = client_as(caller)
    before = fingerprint(acme)
    data = page.data(world) if page.data else {}
    response = getattr(client, page.method)(page.path(world), data)
    if caller == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        allowed = False
    elif caller == "other_organisation":
        assert response.status_code in page.other
        allowed = False
    else:
        allowed = Role(caller) in ALLOWED[page.needs]
        assert response.status_code == (page.ok if allowed else 403), response.content[:300]
    if page.writes and allowed:
        assert fingerprint(acme) != before, "an allowed write changed nothing"
    else:
        assert fingerprint(acme) == before
