"""Shared fixtures: a story of two organisations.

Acme is the organisation under test: alice is its admin, oscar its risk officer, carol a
consultant (who also serves Globex), and audrey its auditor. mallory is a member of Globex only,
so she stands for "a member of another organisation" in every authorisation matrix.
"""

from __future__ import annotations

import datetime as dt
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
_DEMO_BUILD = pytest.StashKey["subprocess.Popen[bytes]"]()

# The instant a test that builds dates near "today" lives at (see `frozen_clock`): the suite gives
# the same answer on any day of any year. Dates in those tests are written relative to it.
FROZEN_NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
# `ANCHORAGE_TEST_CLOCK_SHIFT_DAYS=365 make test` runs the whole session with the clock moved that
# many days ahead (time-machine, still ticking): the proof that no test depends on the calendar.
_CLOCK_SHIFT = "ANCHORAGE_TEST_CLOCK_SHIFT_DAYS"


def pytest_collection_finish(session) -> None:
    """Start pretraining the demo model at once, beside the suite, when an accuracy test will need it.

    The build is one torch thread for several minutes; begun now on the second core, it is usually
    done by the time the first accuracy test asks `ensure_demo_model`, whose file lock makes that
    test wait for this build (or build it itself, should this one die) rather than start another.
    """
    import subprocess
    import sys
    from pathlib import Path

    if not any(item.get_closest_marker("accuracy") for item in session.items):
        return
    root = Path(__file__).resolve().parent.parent
    logs = root / "var" / "test-output" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "demo-model-build.log").open("wb") as log:
        session.config.stash[_DEMO_BUILD] = subprocess.Popen(
            [sys.executable, "-m", "robustness.engine", "pretrain-demo", "--var", str(root / "var")],
            cwd=root, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=log, stderr=subprocess.STDOUT)


def pytest_sessionfinish(session, exitstatus) -> None:
    """Stop a demo-model build nobody waited for; remove this run's private broker, media and cache."""
    import shutil
    from pathlib import Path

    build = session.config.stash.get(_DEMO_BUILD, None)
    if build is not None and build.poll() is None:  # the run ended early (-x, deselection): no orphan
        build.kill()
        build.wait()

    from django.conf import settings

    if not settings.configured:  # the engine's tests run without Django (-p no:django)
        return
    var = Path(settings.VAR_DIR)
    run = str(os.getpid())
    for leftover in var.glob(f"test-broker-{run}.sqlite3*"):
        leftover.unlink(missing_ok=True)
    for folder in (var / "test-media" / run, var / "test-cache" / run):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _shifted_calendar():
    """Move the whole session's clock `ANCHORAGE_TEST_CLOCK_SHIFT_DAYS` ahead when that is set."""
    days = os.environ.get(_CLOCK_SHIFT, "")
    if not days:
        yield
        return
    import time_machine

    with time_machine.travel(dt.timedelta(days=int(days)), tick=True):  # a timedelta: relative to now
        yield


@pytest.fixture
def frozen_clock():
    """Stop the clock at FROZEN_NOW for tests whose data carries calendar dates near "today"."""
    import time_machine

    with time_machine.travel(FROZEN_NOW, tick=False) as traveller:
        yield traveller


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
        if caller == "anonymous":
            return Client()
        if caller == "other_organisation":
            return client_in("mallory")
        return client_in(ROLE_USERS[caller], acme)

    return make


def client_in(username: str, organisation: Organisation | None = None) -> Client:
    """A web client logged in as `username`, working in `organisation` (else the default of the session)."""
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    if organisation is not None:
        session = client.session
        session["organisation_id"] = organisation.pk
        session.save()
    return client
