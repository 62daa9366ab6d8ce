"""The login throttle (config/auth.py; security review M-1, M-2, M-3): one throttle for every door.

Per (address, name): LOGIN_MAX_FAILURES failures, then 429 for that pair. Per address: a hard budget
(LOGIN_ADDRESS_MAX_FAILURES) whatever the names. Per name from all addresses: past LOGIN_USER_SOFT_LIMIT,
each address gets one attempt for the name, so an address that has not failed for it can still log in.
Names count as NFKC + casefold. The clock is frozen (time-machine) wherever the windows matter.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from config.auth import client_address, normalise_username
from governance.services.tenancy import user_with_membership_ensure
from tests.conftest import PASSWORD
from tests.factories import UserFactory

PROXY = "10.0.0.1"
ADDRESS_A, ADDRESS_B = "203.0.113.5", "198.51.100.7"


def _login(name: str, password: str, *, door: str = "/accounts/login/", via: str | None = None,
           remote: str = "127.0.0.1") -> tuple[int, Client]:
    client = Client(REMOTE_ADDR=remote, **({"HTTP_X_FORWARDED_FOR": via} if via else {}))
    answer = client.post(door, {"username": name, "password": password})
    return answer.status_code, client


def _logged_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else None


@pytest.fixture
def consultant(db):
    return UserFactory(username="consultant", password=PASSWORD)


def test_user_names_normalise_as_the_form_does_then_casefold():
    variants = ["consultant", "CONSULTANT", " consultant ", "ｃonsultant", "ｃｏｎｓｕｌｔａｎｔ", "𝐜onsultant"]
    assert {normalise_username(name) for name in variants} == {"consultant"}
    assert normalise_username("sectest\u2010nouser") != normalise_username("sectest-nouser")


@pytest.mark.django_db
def test_a_fullwidth_variant_shares_the_counter_with_the_plain_name(consultant, settings, frozen_clock):
    statuses = [_login(name, "wrong-guess")[0] for name in ["consultant", "ｃonsultant", "CONSULTANT",
                                                              "ｃｏｎｓｕｌｔａｎｔ", "𝐜onsultant"]]
    assert statuses == [200] * settings.LOGIN_MAX_FAILURES
    status, client = _login("ｃonsultant", PASSWORD)
    assert status == 429
    assert _logged_in_as(client) is None
    assert _login("consultant", PASSWORD)[0] == 429


@pytest.mark.django_db
def test_a_fullwidth_variant_with_the_right_password_logs_the_account_in(consultant):
    status, client = _login("ｃonsultant", PASSWORD)
    assert status == 302
    assert _logged_in_as(client) == "consultant"


@pytest.mark.django_db
def test_the_admin_login_is_throttled_and_shares_the_site_login_counter(settings, frozen_clock):
    UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    door = "/admin/login/?next=/admin/"
    statuses = [_login("root", f"x{attempt}", door=door)[0] for attempt in range(settings.LOGIN_MAX_FAILURES - 1)]
    assert statuses == [200] * (settings.LOGIN_MAX_FAILURES - 1)
    assert _login("ROOT", "last-guess")[0] == 200  # the site's door: the same counter
    client = Client()
    refused = client.post(door, {"username": "root", "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many failed attempts. Try again in 15 minutes." in refused.content
    assert "_auth_user_id" not in client.session
    assert _login("root", PASSWORD, door=door, remote="127.0.0.2")[0] == 302, "another address is not refused"


@pytest.mark.django_db
def test_behind_a_trusted_proxy_failures_from_a_do_not_block_x_from_b(consultant, settings, frozen_clock):
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = [_login("consultant", f"guess{n}", via=ADDRESS_A, remote=PROXY)[0]
                for n in range(settings.LOGIN_MAX_FAILURES + 3)]
    assert statuses == [200] * settings.LOGIN_MAX_FAILURES + [429] * 3
    status, client = _login("consultant", PASSWORD, via=ADDRESS_B, remote=PROXY)
    assert status == 302
    assert _logged_in_as(client) == "consultant"
    assert _login("consultant", PASSWORD, via=ADDRESS_A, remote=PROXY)[0] == 429, "A stays refused for the name"


@pytest.mark.django_db
def test_past_the_soft_limit_each_address_gets_one_attempt_and_the_user_still_logs_in(
        consultant, settings, frozen_clock):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_USER_SOFT_LIMIT = 6
    spread = [_login("consultant", "guess", via=f"192.0.2.{n}", remote=PROXY)[0] for n in range(1, 7)]
    assert spread == [200] * 6  # one failure from each of six addresses: the soft limit is reached
    fresh = [_login("consultant", f"guess{n}", via="192.0.2.50", remote=PROXY)[0] for n in range(3)]
    assert fresh == [200, 429, 429], "past the soft limit an address has one attempt for the name"
    status, client = _login("consultant", PASSWORD, via=ADDRESS_B, remote=PROXY)
    assert status == 302, "an address that has not failed for the name can always log in"
    assert _logged_in_as(client) == "consultant"


@pytest.mark.django_db
def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(consultant, settings, frozen_clock):
    assert settings.TRUSTED_PROXY_COUNT == 0
    statuses = [_login("consultant", "guess", via=f"192.0.2.{n}")[0] for n in range(settings.LOGIN_MAX_FAILURES + 1)]
    assert statuses == [200] * settings.LOGIN_MAX_FAILURES + [429]


@pytest.mark.django_db
def test_random_names_from_one_address_spend_its_budget(consultant, settings, frozen_clock):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 12
    statuses = [_login(f"nobody-{n}", "guess", remote=ADDRESS_A)[0] for n in range(14)]
    assert statuses == [200] * 12 + [429] * 2
    assert _login("consultant", PASSWORD, remote=ADDRESS_A)[0] == 429, "the budget covers every name"
    assert _login("consultant", PASSWORD, remote=ADDRESS_B)[0] == 302, "and only that address"


@pytest.mark.django_db
def test_the_default_address_budget_is_fifty_failures(settings, frozen_clock):
    assert settings.LOGIN_ADDRESS_MAX_FAILURES == 50
    statuses = [_login(f"nobody-{n}", "guess")[0] for n in range(51)]
    assert statuses == [200] * 50 + [429]


@pytest.mark.django_db
def test_a_refusal_ends_with_its_window_on_the_frozen_clock(consultant, settings, frozen_clock):
    for n in range(settings.LOGIN_MAX_FAILURES):
        _login("consultant", f"guess{n}")
    frozen_clock.shift(dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS - 61))
    client = Client()
    refused = client.post("/accounts/login/", {"username": "consultant", "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Try again in 2 minutes." in refused.content
    frozen_clock.shift(dt.timedelta(seconds=61))
    assert _login("consultant", PASSWORD)[0] == 302


@pytest.mark.django_db
def test_a_successful_login_clears_only_its_own_pair(consultant, settings, frozen_clock):
    for n in range(settings.LOGIN_MAX_FAILURES - 1):
        _login("consultant", f"guess{n}")
    assert _login("consultant", PASSWORD)[0] == 302
    statuses = [_login("consultant", f"again{n}")[0] for n in range(settings.LOGIN_MAX_FAILURES + 1)]
    assert statuses == [200] * settings.LOGIN_MAX_FAILURES + [429]


@pytest.mark.parametrize(("count", "forwarded", "expected"), [
    (0, "198.51.100.7", PROXY),
    (1, "198.51.100.7", "198.51.100.7"),
    (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a client-written entry on the left is not trusted
    (2, "6.6.6.6, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
    (2, "198.51.100.7", PROXY),  # fewer hops than proxies: only the peer is known
])
def test_the_client_address_comes_from_the_trusted_proxies_only(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


@pytest.mark.django_db
def test_accounts_are_created_normalised_and_unique_regardless_of_case(acme):
    user = user_with_membership_ensure(organisation=acme, username="ｍｉｒａ", password=PASSWORD, role="auditor")
    assert user.username == "mira"
    again = user_with_membership_ensure(organisation=acme, username="mira", password=PASSWORD, role="auditor")
    assert again.pk == user.pk
    with pytest.raises(ValidationError, match="in other letter case"):
        user_with_membership_ensure(organisation=acme, username="Mira", password=PASSWORD, role="auditor")
