"""The Low findings of the 2026-12 security review (L-1 … L-4): each probe of the review, answered.

L-1 ids and bounded numbers: 400 naming the parameter, never a 500. L-2 evidence `metadata` is a
JSON object or a 400, and old rows that are not do not break the page. L-3 /healthz answers from
a cached ping; the worker-ping diagnostic is for admins/staff and throttled. L-4 the audit head
is anchored (HMAC) in a file outside the database, and `audit_verify` checks it.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from governance.web.filters import MAX_ID
from tests.assessments.factories import evidence_with_version
from tests.conftest import client_in

HUGE = "99999999999999999999999"
TOO_BIG = str(MAX_ID + 1)

API_ID_PROBES = [
    ("/api/v1/robustness/evaluations/", "ai_system"),
    ("/api/v1/robustness/anchor-analyses/", "ai_system"),
    ("/api/v1/robustness/retraining-runs/", "ai_system"),
    ("/api/v1/crosswalks/", "requirement"),
]
WEB_ID_PROBES = [
    ("/assessments/", "framework"), ("/assessments/", "ai_system"),
    ("/results/", "assessment"), ("/results/", "requirement"), ("/results/", "framework"), ("/results/", "ai_system"),
    ("/evidence/", "ai_system"), ("/findings/", "ai_system"), ("/reports/", "assessment"),
]
EXPIRING_BAD = ["999999999", "3000000", "1000000000", HUGE, "3651", "-1", "1e3"]


@pytest.fixture
def consultant(acme, globex):
    return client_in("carol", acme)


# ---- L-1: ids and bounded numbers -------------------------------------------------------------

@pytest.mark.parametrize(("path", "name"), API_ID_PROBES)
@pytest.mark.parametrize("value", [HUGE, TOO_BIG, "0", "-3", "abc"])
def test_api_id_parameters_out_of_range_are_a_400_naming_them(consultant, path, name, value):
    answer = consultant.get(path, {name: value}, HTTP_X_ORGANISATION="acme")
    assert answer.status_code == 400, answer.content
    assert list(answer.json()) == [name]


@pytest.mark.parametrize(("path", "name"), API_ID_PROBES)
def test_api_id_parameters_at_the_bound_are_accepted(consultant, path, name):
    answer = consultant.get(path, {name: str(MAX_ID)})
    assert answer.status_code == 200
    assert answer.json()["count"] == 0


@pytest.mark.parametrize("field", ["model_version", "dataset"])
def test_run_request_ids_are_bounded(consultant, field):
    body = {"model_version": 1, field: int(HUGE)}
    answer = consultant.post("/api/v1/robustness/evaluations/", body, content_type="application/json")
    assert answer.status_code == 400
    assert list(answer.json()) == [field]


@pytest.mark.parametrize(("path", "name"), WEB_ID_PROBES)
@pytest.mark.parametrize("value", [HUGE, TOO_BIG, "0", "x1"])
def test_web_list_filters_out_of_range_answer_the_400_page_naming_them(consultant, path, name, value):
    answer = consultant.get(path, {name: value})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert 'data-status="400"' in body, "the product's 400 page"
    assert f"{name} must be a whole number from 1 to {MAX_ID}" in body


@pytest.mark.parametrize(("path", "name"), WEB_ID_PROBES)
def test_web_list_filters_at_the_bound_answer_200(consultant, path, name):
    assert consultant.get(path, {name: str(MAX_ID)}).status_code == 200


@pytest.mark.parametrize("value", EXPIRING_BAD)
def test_expiring_is_bounded_to_ten_years(consultant, value):
    answer = consultant.get("/evidence/", {"expiring": value})
    assert answer.status_code == 400
    assert "expiring must be a whole number from 0 to 3650" in answer.content.decode()


@pytest.mark.parametrize("value", ["0", "30", "3650"])
def test_expiring_in_range_answers_200(consultant, value):
    assert consultant.get("/evidence/", {"expiring": value}).status_code == 200


# ---- L-2: evidence metadata and other JSON fields ----------------------------------------------

@pytest.fixture
def evidence(acme, member):
    item, _ = evidence_with_version(acme, member("org_admin").user)
    return item


@pytest.mark.parametrize(("metadata", "kind"), [
    ("just a string", "a string"), ("123", "a string"), (123, "a number"), ([1, 2], "an array"),
    (True, "a boolean")])
def test_json_metadata_that_is_not_an_object_is_a_400(consultant, evidence, metadata, kind):
    answer = consultant.post(f"/api/v1/evidence/{evidence.pk}/versions/",
                             {"url": "https://example.org/m", "metadata": metadata}, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"metadata": [f"metadata must be a JSON object, not {kind}"]}
    assert evidence.versions.count() == 1, "nothing was stored"


@pytest.mark.parametrize(("metadata", "message"), [
    ("[1,2]", "metadata must be a JSON object, not an array"),
    ("123", "metadata must be a JSON object, not a number"),
    ('"text"', "metadata must be a JSON object, not a string"),
    ("{not json", "Value must be valid JSON.")])
def test_multipart_metadata_must_be_a_json_object(consultant, evidence, metadata, message):
    answer = consultant.post(f"/api/v1/evidence/{evidence.pk}/versions/",
                             {"url": "https://example.org/m", "metadata": metadata})
    assert answer.status_code == 400
    assert answer.json() == {"metadata": [message]}
    assert evidence.versions.count() == 1


def test_metadata_objects_are_stored_from_json_and_multipart(consultant, evidence):
    as_json = consultant.post(f"/api/v1/evidence/{evidence.pk}/versions/",
                              {"url": "https://example.org/a", "metadata": {"k": 1}}, content_type="application/json")
    as_form = consultant.post(f"/api/v1/evidence/{evidence.pk}/versions/",
                              {"url": "https://example.org/b", "metadata": '{"k": 2}'})
    assert (as_json.status_code, as_form.status_code) == (201, 201)
    assert [v.metadata for v in evidence.versions.order_by("number")] == [{}, {"k": 1}, {"k": 2}]


@pytest.mark.parametrize("stored", ["123", 123, [1, 2], True, "{}"])
def test_existing_rows_with_non_object_metadata_do_not_break_the_page(consultant, evidence, stored):
    from assessments.models import EvidenceVersion
    from assessments.selectors.robustness import record_from_metadata_or_file

    EvidenceVersion.objects.filter(evidence=evidence).update(metadata=stored)
    version = evidence.versions.get()
    assert record_from_metadata_or_file(version) is None
    assert consultant.get(f"/evidence/{evidence.pk}/").status_code == 200


def test_evidence_version_service_refuses_non_object_metadata(acme, evidence, member):
    from django.core.exceptions import ValidationError

    from assessments.services import evidence_version_add

    with pytest.raises(ValidationError, match="Metadata must be a JSON object"):
        evidence_version_add(evidence=evidence, actor=member("org_admin").user, url="https://e.org",
                             metadata=[1])  # type: ignore[arg-type]


@pytest.mark.parametrize("config", ["text", 1, [1], True])
def test_run_config_must_be_an_object(consultant, config):
    answer = consultant.post("/api/v1/robustness/evaluations/", {"model_version": 1, "config": config},
                             content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"config": ["config must be a JSON object"]}


# ---- L-3: health and the worker-ping diagnostic -------------------------------------------------

class _FakePing:
    """Stands in for `config.tasks.ping`: counts the tasks /healthz sends."""

    sent = 0

    def apply_async(self, **kwargs):
        _FakePing.sent += 1
        class Result:
            def get(self, **kwargs):
                return {"pong": "ok", "hostname": "secret-host"}

            def forget(self):
                pass

            def revoke(self):
                pass

        return Result()


@pytest.fixture
def fake_ping(monkeypatch):
    import config.health

    _FakePing.sent = 0
    monkeypatch.setattr(config.health, "ping", _FakePing())
    monkeypatch.setattr(config.health, "_check_broker", lambda: "ok")
    return _FakePing


@override_settings(HEALTHZ_WORKER_CACHE_SECONDS=30)
def test_healthz_answers_from_the_cached_ping_and_names_no_host(db, client, fake_ping, frozen_clock):
    answers = [client.get("/healthz") for _ in range(20)]
    assert [a.status_code for a in answers] == [200] * 20
    assert fake_ping.sent == 1, "one ping for 20 calls within the cache time"
    assert all(a.json()["checks"]["worker"]["detail"] == "ok" for a in answers)
    assert all(b"secret-host" not in a.content for a in answers)
    frozen_clock.shift(31)
    assert client.get("/healthz").status_code == 200
    assert fake_ping.sent == 2, "a stale answer is refreshed once"


def test_healthz_sends_no_ping_while_one_is_in_flight(db, client, fake_ping):
    from django.core.cache import cache

    from config.health import WORKER_LOCK_KEY

    cache.set(WORKER_LOCK_KEY, 1)
    answer = client.get("/healthz")
    assert fake_ping.sent == 0
    assert answer.status_code == 503
    assert answer.json()["checks"]["worker"] == {
        "healthy": False, "detail": "not checked yet: a worker ping is under way",
        "ms": answer.json()["checks"]["worker"]["ms"]}


@pytest.mark.parametrize(("username", "status"), [("alice", 202), ("mallory", 202), ("oscar", 403),
                                                   ("carol", 403), ("audrey", 403)])
def test_worker_ping_is_for_organisation_admins(acme, globex, username, status):
    client = client_in(username)
    assert client.post("/api/v1/diagnostics/worker-ping/").status_code == status
    assert client.get("/api/v1/diagnostics/worker-ping/no-such/").status_code == (200 if status == 202 else 403)


def test_worker_ping_is_open_to_staff_without_membership(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("ops", password="x" * 12, is_staff=True)
    assert client_in("ops").post("/api/v1/diagnostics/worker-ping/").status_code == 202


@override_settings(REST_FRAMEWORK={**__import__("django.conf").conf.settings.REST_FRAMEWORK,
                                   "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "user": "1200/minute",
                                                              "diagnostics": "3/minute"}})
def test_worker_ping_is_throttled_per_user(acme, globex, frozen_clock):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        alice, mallory = client_in("alice"), client_in("mallory")
        statuses = [alice.post("/api/v1/diagnostics/worker-ping/").status_code for _ in range(4)]
        assert statuses == [202, 202, 202, 429]
        assert mallory.post("/api/v1/diagnostics/worker-ping/").status_code == 202, "per user"
        frozen_clock.shift(61)
        assert alice.post("/api/v1/diagnostics/worker-ping/").status_code == 202
    finally:
        from django.conf import settings
        api_settings.reload()
        SimpleRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


# ---- L-4: the audit head anchored outside the database ------------------------------------------

@pytest.fixture
def anchored(tmp_path, settings):
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchor.jsonl")
    settings.AUDIT_ANCHOR_KEY = "test-anchor-key"
    return tmp_path / "anchor.jsonl"


def _events(acme, member, django_capture_on_commit_callbacks, count=3):
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(count):
            evidence_with_version(acme, member("org_admin").user, title=f"Doc {number}")


def test_each_committed_event_appends_a_signed_head(acme, member, anchored, django_capture_on_commit_callbacks):
    _events(acme, member, django_capture_on_commit_callbacks)
    acme.refresh_from_db()
    lines = [json.loads(text) for text in anchored.read_text().splitlines()]
    ours = [line for line in lines if line["organisation"] == acme.pk]
    assert [line["sequence"] for line in ours] == list(range(1, acme.audit_head_sequence + 1))
    assert ours[-1]["hash"] == acme.audit_head_hash
    assert all(len(line["hmac"]) == 64 for line in lines)


def test_audit_verify_passes_on_an_intact_trail(acme, member, anchored, django_capture_on_commit_callbacks, capsys):
    _events(acme, member, django_capture_on_commit_callbacks)
    call_command("audit_verify")
    assert "audit trail and anchored heads intact for" in capsys.readouterr().out


def test_a_rewritten_and_rechained_trail_fails_against_the_anchor(
        acme, member, anchored, django_capture_on_commit_callbacks, capsys):
    from governance.audit import GENESIS_HASH, _event_hash, audit_chain_verify
    from governance.models import Organisation
    from governance.models.audit import AuditEvent

    _events(acme, member, django_capture_on_commit_callbacks)
    # Someone with database access rewrites the first event and recomputes the whole chain and head.
    previous = GENESIS_HASH
    for event in AuditEvent.objects.filter(organisation=acme).order_by("sequence"):
        if event.sequence == 1:
            event.object_repr = "rewritten"
        event.previous_hash = previous
        event.hash = _event_hash(event)
        AuditEvent.objects.filter(pk=event.pk).update(object_repr=event.object_repr,
                                                      previous_hash=event.previous_hash, hash=event.hash)
        previous = event.hash
    Organisation.objects.filter(pk=acme.pk).update(audit_head_hash=previous)
    acme.refresh_from_db()
    assert audit_chain_verify(acme) == [], "the chain alone cannot tell"
    with pytest.raises(CommandError, match="1 problem"):
        call_command("audit_verify")
    assert "does not match the anchored head: the trail was rewritten" in capsys.readouterr().err


def test_a_forged_anchor_line_fails_its_hmac(acme, member, anchored, django_capture_on_commit_callbacks, capsys):
    _events(acme, member, django_capture_on_commit_callbacks, count=1)
    acme.refresh_from_db()
    forged = {"organisation": acme.pk, "slug": "acme", "sequence": acme.audit_head_sequence,
              "hash": "f" * 64, "hmac": "0" * 64}
    with anchored.open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
    with pytest.raises(CommandError, match="1 problem"):
        call_command("audit_verify")
    lines = len(anchored.read_text().splitlines())
    assert f"line {lines} of anchor.jsonl fails its HMAC" in capsys.readouterr().err


def test_a_rolled_back_change_leaves_no_anchor(acme, member, anchored, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), \
            transaction.atomic():
        evidence_with_version(acme, member("org_admin").user)
        raise RuntimeError("abort")
    assert callbacks == []
    assert not anchored.exists()


def test_unanchored_events_fail_until_anchored(acme, member, anchored, capsys):
    evidence_with_version(acme, member("org_admin").user)  # on_commit never runs: no anchor written
    with pytest.raises(CommandError):
        call_command("audit_verify", organisation="acme")
    assert "the head is not anchored" in capsys.readouterr().err
    call_command("audit_verify", organisation="acme", anchor=True)
    assert "intact" in capsys.readouterr().out


def test_deleted_newest_events_fail_against_the_anchor(acme, member, anchored, django_capture_on_commit_callbacks,
                                                       capsys):
    from governance.models import Organisation
    from governance.models.audit import AuditEvent

    _events(acme, member, django_capture_on_commit_callbacks)
    acme.refresh_from_db()
    newest = AuditEvent.objects.filter(organisation=acme).order_by("-sequence")
    keep = newest[1]
    AuditEvent.objects.filter(pk=newest[0].pk).delete()
    Organisation.objects.filter(pk=acme.pk).update(audit_head_sequence=keep.sequence, audit_head_hash=keep.hash)
    with pytest.raises(CommandError):
        call_command("audit_verify")
    assert "events up to the anchored head were deleted" in capsys.readouterr().err
