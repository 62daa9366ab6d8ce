"""Shared fixtures: a story of two organisations.

Acme is the organisation under test: alice is its admin, oscar its risk officer, carol a
consultant (who also serves Globex), and audrey its auditor. mallory is a member of Globex only,
so she stands for "a member of another organisation" in every authorisation matrix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.test import Client

if TYPE_CHECKING:
    from governance.models.tenancy import Membership, Organisation

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PASSWORD = "correct horse battery"
# The authorisation matrix's callers: each of the four roles, a stranger and nobody. (Plain
# strings, so that the engine's tests can run without Django: `pytest -p no:django`.)
ROLE_USERS = {"org_admin": "alice", "risk_officer": "oscar", "consultant": "carol", "auditor": "audrey"}
CALLERS = ["anonymous", "other_organisation", *ROLE_USERS]


def pytest_sessionfinish(session, exitstatus) -> None:
    """Remove this run's private broker file, media and cache folders (settings/test.py)."""
    import shutil
    from pathlib import Path

    from django.conf import settings

    if not settings.configured:  # the engine's tests run without Django (-p no:django)
        return
    var = Path(settings.VAR_DIR)
    run = str(os.getpid())
    for leftover in var.glob(f"test-broker-{run}.sqlite3*"):
        leftover.unlink(missing_ok=True)
    for folder in (var / "test-media" / run, var / "test-cache" / run):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login throttling counts in the cache: no test inherits another's failures."""
    from django.conf import settings

    if not settings.configured:  # the engine's tests run without Django (-p no:django)
        yield
        return
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def acme(db) -> Organisation:
    from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

    organisation = OrganisationFactory(name="Acme Robotics", slug="acme")
    for role, username in ROLE_USERS.items():
        MembershipFactory(user=UserFactory(username=username), organisation=organisation, role=role)
    return organisation


@pytest.fixture
def globex(db, acme) -> Organisation:
    from governance.models.tenancy import Role
    from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

    organisation = OrganisationFactory(name="Globex", slug="globex")
    MembershipFactory(user=UserFactory(username="mallory"), organisation=organisation, role=Role.ORG_ADMIN)
    MembershipFactory(user=UserFactory(username="carol"), organisation=organisation, role=Role.CONSULTANT)
    return organisation


@pytest.fixture
def member(acme) -> Callable[[str], Membership]:
    from governance.models.tenancy import Membership

    def get(role: str) -> Membership:
        return Membership.objects.get(organisation=acme, role=role)

    return get


@pytest.fixture
def client_as(acme, globex) -> Callable[[str], Client]:
    """A logged-in web client for a caller of the matrix, working in Acme (or Globex for mallory)."""

    def make(caller: str) -> Client:
        client = Client()
        if caller == "anonymous":
            return client
        username = "mallory" if caller == "other_organisation" else ROLE_USERS[caller]
        assert client.login(username=username, password=PASSWORD)
        if caller != "other_organisation":
            session = client.session
            session["organisation_id"] = acme.pk
            session.save()
        return client

    return make
