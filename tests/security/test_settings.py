"""Security settings that tests/test_foundation.py does not already prove.

Foundation covers: the production profile's `check --deploy`, the weak-password refusal on the
password-change page, login throttling, and CSP + security headers on the dashboard. Here: CSRF
on forms and on session-authenticated API writes, the cookies' flags, the production profile's
HTTPS settings as values, password validators on their own, API rate limits answering 429, and
the headers on every kind of answer (API, errors, login page).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent


def _production_settings(*names: str) -> dict[str, object]:
    """The values of settings in the production profile, read in a fresh interpreter."""
    script = ("import json, django; django.setup(); from django.conf import settings; "
              f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))")
    clean = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.production",
                               "SECRET_KEY": "k" * 64, "ALLOWED_HOSTS": "anchorage.example.org"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_profile_sends_cookies_over_https_only_with_hsts_and_redirect():
    values = _production_settings("DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
                                  "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                                  "SECURE_PROXY_SSL_HEADER")
    assert values == {"DEBUG": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
                      "SESSION_COOKIE_HTTPONLY": True, "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000,
                      "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
                      "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}


@pytest.mark.django_db
def test_a_form_posted_without_its_csrf_token_is_refused(acme):
    client = Client(enforce_csrf_checks=True)
    client.login(username="oscar", password=PASSWORD)
    answer = client.post("/ai-systems/new/", {"name": "No token", "intended_purpose": "x"})
    assert answer.status_code == 403
    assert b"CSRF" in answer.content


@pytest.mark.django_db
def test_the_login_form_itself_needs_its_csrf_token(acme):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"username": "oscar", "password": PASSWORD}).status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_session_authenticated_api_write_without_csrf_token_is_refused(acme):
    """A browser session cannot be ridden by another site's form: DRF checks CSRF for session logins."""
    client = Client(enforce_csrf_checks=True)
    client.login(username="oscar", password=PASSWORD)
    answer = client.post("/api/v1/ai-systems/", json.dumps({"name": "Ridden"}), content_type="application/json",
                         HTTP_X_ORGANISATION="acme")
    assert answer.status_code == 403
    assert "CSRF" in answer.json()["detail"]


@pytest.mark.django_db
def test_a_token_authenticated_api_write_needs_no_csrf_token(acme):
    from rest_framework.authtoken.models import Token

    from governance.models import AISystem

    token = Token.objects.create(user=acme.memberships.get(role="risk_officer").user)
    client = Client(enforce_csrf_checks=True)
    answer = client.post("/api/v1/ai-systems/", json.dumps({"name": "Via token", "intended_purpose": "Sorts.",
                                                           "operator_roles": ["deployer"]}),
                         content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}",
                         HTTP_X_ORGANISATION="acme")
    assert answer.status_code == 201, answer.content
    assert AISystem.objects.filter(organisation=acme, name="Via token").count() == 1


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only_where_they_can_be_and_same_site(acme):
    client = Client()
    login_page = client.get("/accounts/login/")
    csrf = login_page.cookies["csrftoken"]
    assert csrf["samesite"] == "Lax"
    token = csrf.value
    answer = client.post("/accounts/login/", {"username": "oscar", "password": PASSWORD, "csrfmiddlewaretoken": token})
    session = answer.cookies["sessionid"]
    assert (session["httponly"], session["samesite"]) == (True, "Lax")
    assert int(session["max-age"]) == 8 * 3600


@pytest.mark.parametrize("weak", ["short1", "1234567890123", "password123", "oscaroscar1"])
def test_password_validators_refuse_weak_passwords(weak, django_user_model, db):
    user = django_user_model(username="oscaroscar1", email="oscar@example.org")
    with pytest.raises(ValidationError):
        validate_password(weak, user=user)


def test_password_validators_accept_a_long_passphrase(django_user_model, db):
    validate_password("correct horse battery staple 42", user=django_user_model(username="oscar"))


@pytest.mark.django_db
def test_api_answers_429_to_an_anonymous_flood(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/minute", raising=False)
    # Permissions are checked before throttles, so the flood goes to the one public endpoint, the schema.
    statuses = [Client().get("/api/schema/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


@pytest.mark.django_db
def test_api_answers_429_to_a_flooding_user_with_retry_after(acme, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "4/minute", raising=False)
    client = Client()
    client.login(username="audrey", password=PASSWORD)
    answers = [client.get("/api/v1/ai-systems/", HTTP_X_ORGANISATION="acme") for _ in range(6)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 429, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    other = Client()
    other.login(username="oscar", password=PASSWORD)
    assert other.get("/api/v1/ai-systems/", HTTP_X_ORGANISATION="acme").status_code == 200, "limits are per user"


SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "Cross-Origin-Opener-Policy": "same-origin"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/ai-systems/", "/api/schema/", "/accounts/login/", "/no-such-page/",
                                  "/ai-systems/999999/", "/api/v1/ai-systems/999999/"])
def test_security_headers_and_policy_are_on_api_answers_login_and_errors(acme, path):
    client = Client()
    client.login(username="audrey", password=PASSWORD)
    answer = client.get(path, HTTP_X_ORGANISATION="acme")
    for header, value in SECURITY_HEADERS.items():
        assert answer[header] == value, f"{path}: {header}"
    policy = answer["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy and "object-src 'none'" in policy
    assert "camera=()" in answer["Permissions-Policy"]


@pytest.mark.django_db
def test_the_api_docs_page_has_no_inline_script(acme):
    client = Client()
    client.login(username="audrey", password=PASSWORD)
    page = client.get("/api/docs/").content.decode()
    import re

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts, "the docs page loads its scripts"
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts), "inline script found"


@pytest.mark.django_db
def test_debug_pages_are_off_in_production_and_errors_show_no_traceback(acme, settings):
    settings.DEBUG = False
    answer = Client().get("/no-such-page/")
    assert answer.status_code == 404
    assert b"Traceback" not in answer.content and b"URLconf" not in answer.content
