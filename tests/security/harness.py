"""A module-scoped world of two organisations, logged-in clients for every caller, and fingerprints.

Building the world once per test module (inside one transaction, rolled back at the end) keeps
the matrices fast; each request then runs in a savepoint of its own that is rolled back, so an
allowed delete never takes a row away from the next caller.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import connection, models, transaction
from django.test import Client, override_settings

from governance.models.tenancy import Organisation, Role
from tests.conftest import ROLE_USERS, client_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.security.world import World, media_files, world_build

ACME_LABEL, GLOBEX_LABEL = "zq-acme", "zq-globex"
ACME_NAME = "Acme Robotics"
# Rows that change on every request or belong to no organisation's data.
FINGERPRINT_EXCLUDED = {"sessions.Session"}


class ExplainingClient(Client):
    """A test client whose 500 answers carry the exception (as `response.exception`) instead of raising it."""

    def request(self, **request: Any) -> Any:
        errors: list[BaseException] = []

        def remember(sender: Any, request: Any = None, **kwargs: Any) -> None:
            errors.append(sys.exc_info()[1])  # type: ignore[arg-type]

        got_request_exception.connect(remember, dispatch_uid=f"explain-{id(self)}")
        try:
            response = super().request(**request)
        finally:
            got_request_exception.disconnect(dispatch_uid=f"explain-{id(self)}")
        response.exception = errors[-1] if errors else None
        return response


@dataclass
class Matrix:
    acme: World
    globex: World
    sessions: dict[str, str]  # caller → session key

    handler: Any = None  # one request handler for every client: loading the middleware (WhiteNoise
    # scans every static file) per client would cost more than the requests themselves

    def client(self, caller: str, *, organisation_header: str | None = None) -> Client:
        extra = {"HTTP_X_ORGANISATION": organisation_header} if organisation_header else {}
        client = ExplainingClient(raise_request_exception=False, **extra)
        if self.handler is None:
            self.handler = client.handler
        client.handler = self.handler
        if caller != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[caller]
        return client


def _organisations() -> tuple[Organisation, Organisation]:
    acme = OrganisationFactory(name=ACME_NAME, slug="acme")
    for role, username in ROLE_USERS.items():
        MembershipFactory(user=UserFactory(username=username), organisation=acme, role=role)
    globex = OrganisationFactory(name="Globex", slug="globex")
    MembershipFactory(user=UserFactory(username="mallory"), organisation=globex, role=Role.ORG_ADMIN)
    MembershipFactory(user=UserFactory(username="carol"), organisation=globex, role=Role.CONSULTANT)
    return acme, globex


def _session(username: str, organisation: Organisation | None) -> str:
    return client_in(username, organisation).cookies[settings.SESSION_COOKIE_NAME].value


def _sessions(acme: Organisation, globex: Organisation) -> dict[str, str]:
    sessions = {Role(role).value: _session(username, acme) for role, username in ROLE_USERS.items()}
    sessions["other_organisation"] = _session("mallory", globex)
    sessions["consultant_in_globex"] = _session("carol", globex)
    return sessions


@contextmanager
def matrix_world(django_db_blocker: Any) -> Iterator[Matrix]:
    """Two organisations with one row of every kind each, for one test module."""
    media = Path(tempfile.mkdtemp(prefix="anchorage-security-media-"))
    overrides = override_settings(MEDIA_ROOT=media, HEALTHZ_WORKER_TIMEOUT=0.2)
    overrides.enable()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            acme, globex = _organisations()
            from django.contrib.auth import get_user_model

            users = get_user_model().objects
            matrix = Matrix(acme=world_build(acme, users.get(username="alice"), ACME_LABEL),
                            globex=world_build(globex, users.get(username="mallory"), GLOBEX_LABEL),
                            sessions=_sessions(acme, globex))
            yield matrix
            transaction.set_rollback(True)
    finally:
        overrides.disable()


def _fingerprinted_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models()
            if model._meta.managed and not model._meta.proxy and model._meta.label not in FINGERPRINT_EXCLUDED]


def _tables() -> list[tuple[str, str]]:
    """(table, primary-key column) of every fingerprinted model and automatic many-to-many table."""
    tables = []
    for model in _fingerprinted_models():
        tables.append((model._meta.db_table, model._meta.pk.column))
        tables += [(m2m.remote_field.through._meta.db_table, "id") for m2m in model._meta.local_many_to_many
                   if m2m.remote_field.through._meta.auto_created]
    return tables


def _fingerprint_sql() -> str:
    """One query: per table, the row count and an MD5 of every row's full content in key order (PostgreSQL)."""
    quote = connection.ops.quote_name
    digest = "(SELECT COUNT(*) || ':' || md5(COALESCE(string_agg(t::text, '|' ORDER BY t.{pk}), '')) FROM {table} AS t)"
    parts = [digest.format(pk=quote(pk), table=quote(table)) for table, pk in _tables()]  # names from the models
    return "SELECT " + ", ".join(parts)


def fingerprint() -> tuple[Any, ...]:
    """The content of every row of every model (and automatic many-to-many table), one digest per table.

    Any change a denied request made to any column of any row shows, not only to rows with a change time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_fingerprint_sql())
            return tuple(cursor.fetchone())
    return tuple(hashlib.sha256(repr(list(model._base_manager.order_by("pk").values_list())).encode()).hexdigest()
                 for model in _fingerprinted_models())


def state() -> tuple[tuple[Any, ...], frozenset[str]]:
    return fingerprint(), frozenset(media_files())
