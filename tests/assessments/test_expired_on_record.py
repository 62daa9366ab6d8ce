"""Evidence whose valid-until is already past when it is recorded: kept as expired, never a surprise.

The clock stands at FROZEN_NOW (2026-11-20): 2026-11-19 is yesterday, 2026-11-20 today.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.models import Evidence, EvidenceStatus, EvidenceVersion
from governance.models import AuditEvent
from tests.assessments.factories import evidence_with_version
from tests.conftest import client_in

pytestmark = pytest.mark.usefixtures("frozen_clock")

YESTERDAY_WARNING = ("Valid until 2026-11-19 is already past (recorded on 2026-11-20): this version is stored as "
                     "expired evidence and supports no result. Upload a current version for evidence that is "
                     "still valid.")


def _create(client, **extra):
    data = {"title": "Pen test 2025", "kind": "document", "valid_until": "2026-11-19",
            "file": SimpleUploadedFile("pentest.txt", b"report"), **extra}
    return client.post(reverse("assessments:evidence-create"), data)


def test_the_form_asks_to_confirm_and_saves_nothing_until_then(acme):
    events = AuditEvent.objects.count()
    answer = _create(client_in("oscar", acme))
    assert answer.status_code == 200
    assert answer.context["form"].errors["valid_until"] == [
        YESTERDAY_WARNING + " Tick \u201cRecord as expired\u201d to keep it anyway."]
    assert (Evidence.objects.count(), EvidenceVersion.objects.count(), AuditEvent.objects.count()) == (0, 0, events)


def test_confirmed_it_is_stored_as_expired_and_the_next_page_says_so(acme):
    client = client_in("oscar", acme)
    answer = _create(client, record_expired="on")
    evidence = Evidence.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("assessments:evidence-detail",
                                                                       args=[evidence.pk])
    assert evidence.status == EvidenceStatus.EXPIRED and evidence.valid_until == date(2026, 11, 19)
    page = client.get(answer["Location"])
    assert [str(message) for message in page.context["messages"]] == [YESTERDAY_WARNING]


@pytest.mark.parametrize(("valid_until", "confirm"), [("2026-11-20", False), ("", False), ("2026-11-19", True)])
def test_today_or_no_date_needs_no_confirmation(acme, valid_until, confirm):
    extra = {"valid_until": valid_until, **({"record_expired": "on"} if confirm else {})}
    assert _create(client_in("oscar", acme), **extra).status_code == 302
    expected = EvidenceStatus.EXPIRED if valid_until == "2026-11-19" else EvidenceStatus.ACTIVE
    assert Evidence.objects.get().status == expected


def test_a_new_version_on_the_detail_page_asks_too(acme, oscar):
    evidence, _ = evidence_with_version(acme, oscar)
    url = reverse("assessments:evidence-detail", args=[evidence.pk])
    answer = client_in("oscar", acme).post(url, {"url": "https://example.org/old", "valid_until": "2026-11-19"})
    assert answer.status_code == 200 and "valid_until" in answer.context["form"].errors
    assert evidence.versions.count() == 1


def test_the_api_stores_it_and_says_why_in_warnings(acme, oscar):
    evidence, _ = evidence_with_version(acme, oscar)
    api = client_in("oscar", acme)
    answer = api.post(f"/api/v1/evidence/{evidence.pk}/versions/",
                      {"url": "https://example.org/old", "valid_until": "2026-11-19"}, content_type="application/json")
    assert answer.status_code == 201
    assert answer.json()["warnings"] == [YESTERDAY_WARNING]
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.EXPIRED
    current = api.post(f"/api/v1/evidence/{evidence.pk}/versions/",
                       {"url": "https://example.org/new", "valid_until": "2026-11-20"}, content_type="application/json")
    assert current.status_code == 201 and current.json()["warnings"] == []
    listed = api.get(f"/api/v1/evidence/{evidence.pk}/").json()
    assert listed["status"] == "active" and listed["current_version"]["warnings"] == []
