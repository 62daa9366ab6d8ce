"""Settings, authentication, the API root and its offline docs, organisation switching."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from config.env import database_from_url, env_bool, env_int
from governance.models import AuditEvent, Membership
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def test_database_url_parses_postgres_and_both_sqlite_forms(tmp_path):
    postgres = database_from_url("postgres://anna:s%40fe@db.internal:6543/anchorage?sslmode=require", base_dir=tmp_path)
    assert (postgres["ENGINE"], postgres["NAME"], postgres["USER"], postgres["PASSWORD"], postgres["HOST"],
            postgres["PORT"], postgres["OPTIONS"]) == ("django.db.backends.postgresql", "anchorage", "anna", "s@fe",
                                                       "db.internal", "6543", {"sslmode": "require"})
    assert database_from_url("sqlite:////srv/a.sqlite3", base_dir=tmp_path)["NAME"] == "/srv/a.sqlite3"
    assert database_from_url("sqlite:///var/a.sqlite3", base_dir=tmp_path)["NAME"] == str(tmp_path / "var/a.sqlite3")


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host/", "sqlite:///", "nonsense"])
def test_bad_database_urls_fail_loudly(url, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url, base_dir=tmp_path)


def test_booleans_and_integers_from_the_environment_fail_loudly(monkeypatch):
    monkeypatch.setenv("DEBUG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='perhaps' is not a boolean"):
        env_bool("DEBUG", True)
    monkeypatch.setenv("DEBUG", "off")
    assert env_bool("DEBUG", True) is False
    monkeypatch.setenv("CELERY_TASK_TIME_LIMIT", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("CELERY_TASK_TIME_LIMIT", 60)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    unset = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {key: value for key, value in os.environ.items() if key not in unset}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_profile_requires_a_secret_key():
    done = _manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in done.stderr


def test_production_profile_passes_check_deploy():
    done = _manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SETTINGS_MODULE="config.settings.production",
                   SECRET_KEY="x" * 64 + "production-key-for-the-check-only", ALLOWED_HOSTS="anchorage.example.org")
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_bad_environment_value_stops_start_up():
    done = _manage("check", DEBUG="maybe")
    assert done.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in done.stderr


@pytest.mark.django_db
def test_login_logout_and_password_change(acme):
    client = Client()
    assert client.get("/").status_code == 302
    assert client.post("/accounts/login/", {"username": "oscar", "password": "wrong"}).status_code == 200
    answer = client.post("/accounts/login/", {"username": "oscar", "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert client.get("/").status_code == 200
    changed = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "a much longer secret 42",
                                                  "new_password2": "a much longer secret 42"})
    assert changed.status_code == 302
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302
    assert Client().login(username="oscar", password="a much longer secret 42")


@pytest.mark.django_db
def test_weak_password_is_refused_with_the_reason(acme):
    client = Client()
    client.login(username="oscar", password=PASSWORD)
    answer = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "12345678",
                                                 "new_password2": "12345678"})
    assert answer.status_code == 200
    assert b"This password is too short" in answer.content
    assert Client().login(username="oscar", password=PASSWORD)


@pytest.mark.django_db
def test_api_root_schema_and_offline_docs(client_as):
    client = client_as("auditor")
    assert client.get("/api/v1/").status_code == 200
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/diagnostics/worker-ping/" in schema.json()["paths"]
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "http://" not in docs.replace("http://testserver", "") and "https://" not in docs, "assets are local"


@pytest.mark.django_db
def test_api_token_authentication(acme):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=Membership.objects.get(organisation=acme, role="auditor").user)
    assert Client().get("/api/v1/").status_code == 403
    assert Client().get("/api/v1/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


@pytest.mark.django_db
def test_consultant_switches_between_client_organisations(client_as, acme, globex):
    client = client_as("consultant")
    assert b"Acme Robotics" in client.get("/").content
    answer = client.post("/organisations/switch/", {"organisation": globex.pk, "next": "/"})
    assert answer.status_code == 302
    page = client.get("/").content.decode()
    assert 'selected>Globex</option>' in page.replace("\n", "")


@pytest.mark.django_db
def test_nobody_switches_into_an_organisation_they_do_not_belong_to(client_as, acme, globex):
    client = client_as("auditor")
    assert client.post("/organisations/switch/", {"organisation": globex.pk}).status_code == 404
    assert client.post("/organisations/switch/", {"organisation": "x"}).status_code == 404
    assert client.get("/").context["access"].organisation == acme


@pytest.mark.django_db
def test_memberships_are_written_to_the_audit_trail(acme):
    events = AuditEvent.objects.filter(organisation=acme, object_type="governance.Membership")
    assert events.count() == 0, "factories bypass the services"
    from governance.services import membership_update

    membership = Membership.objects.get(organisation=acme, role="auditor")
    membership_update(membership=membership, role="risk_officer", actor=None)
    event = AuditEvent.objects.get(organisation=acme, object_type="governance.Membership")
    assert (event.action, event.changes, event.sequence) == ("update", {"role": ["auditor", "risk_officer"]}, 1)


@pytest.mark.django_db
def test_security_headers_and_content_security_policy(client_as):
    answer = client_as("auditor").get("/")
    policy = answer["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_login_is_throttled_after_repeated_failures(acme, settings):
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert client.post("/accounts/login/", {"username": "oscar", "password": "guess"}).status_code == 200
    refused = client.post("/accounts/login/", {"username": "oscar", "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many failed attempts" in refused.content
    assert "_auth_user_id" not in client.session
    other = Client().post("/accounts/login/", {"username": "audrey", "password": PASSWORD})
    assert other.status_code == 302, "another user name is not locked out"
