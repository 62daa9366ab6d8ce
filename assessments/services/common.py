"""What the assessments services share: errors, the actor type, tenancy checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.contrib.auth.models import User
from django.db import models

from governance.audit import Actor, actor_user
from governance.errors import ConflictError, NotPermittedError, ServiceError
from governance.models.tenancy import Membership, Organisation
from governance.permissions import Permission, role_allows


class AssessmentLockedError(ConflictError):
    """A locked assessment is immutable; views answer 409."""


class SegregationOfDutiesError(NotPermittedError):
    """This person may not do this to this object (four eyes, not the named reviewer); the API answers 403."""


class AssessmentIncompleteError(ConflictError):
    """The lock refuses: `blockers` lists each result and why (the API answers 409 with the list)."""

    def __init__(self, message: str, blockers: list[str]) -> None:
        super().__init__(message)
        self.blockers = blockers


Row = TypeVar("Row", bound=models.Model)


def same_organisation(organisation: Organisation, rows: Iterable[Row], what: str) -> list[Row]:
    """Refuse rows of another organisation (catalog rows without `organisation_id` pass)."""
    rows = list(rows)
    for row in rows:
        owner = getattr(row, "organisation_id", organisation.pk)
        if owner != organisation.pk:
            raise ServiceError(f"{what} belongs to another organisation.")
    return rows


def user_or_none(actor: Actor) -> User | None:
    return actor_user(actor)


def actor_assert_may(actor: Actor, *, organisation_id: int, action: Permission, refusal: str) -> User:
    """The actor as a user whose role in the organisation may do `action` (`governance.permissions`), else
    `NotPermittedError(refusal)`: for the services that a person, never the system, must do."""
    user = user_or_none(actor)
    role = (Membership.objects.filter(user=user, organisation_id=organisation_id).values_list("role", flat=True)
            .first() if user is not None else None)
    if user is None or not role_allows(role, action):
        raise NotPermittedError(refusal)
    return user
