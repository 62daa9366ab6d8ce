"""What the assessments services share: errors, the actor type, tenancy checks."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from governance.errors import ConflictError, NotPermittedError, ServiceError
from governance.models.tenancy import Membership, Organisation
from governance.permissions import Permission, role_allows

Actor = AbstractBaseUser | AnonymousUser | None


class AssessmentLockedError(ConflictError):
    """A locked assessment is immutable; views answer 409."""


class SegregationOfDutiesError(NotPermittedError):
    """This person may not do this to this object (four eyes, not the named reviewer); the API answers 403."""


class AssessmentIncompleteError(ConflictError):
    """The lock refuses: `blockers` lists each result and why (the API answers 409 with the list)."""

    def __init__(self, message: str, blockers: list[str]) -> None:
        super().__init__(message)
        self.blockers = blockers


def same_organisation(organisation: Organisation, rows: Iterable[models.Model], what: str) -> list[models.Model]:
    """Refuse rows of another organisation (catalog rows without `organisation_id` pass)."""
    rows = list(rows)
    for row in rows:
        owner = getattr(row, "organisation_id", organisation.pk)
        if owner != organisation.pk:
            raise ServiceError(f"{what} belongs to another organisation.")
    return rows


def user_or_none(actor: Actor) -> AbstractBaseUser | None:
    return actor if isinstance(actor, AbstractBaseUser) else None


def actor_assert_may(actor: Actor, *, organisation_id: int, action: Permission, refusal: str) -> AbstractBaseUser:
    """The actor as a user whose role in the organisation may do `action` (`governance.permissions`), else
    `NotPermittedError(refusal)`: for the services that a person, never the system, must do."""
    user = user_or_none(actor)
    role = (Membership.objects.filter(user=user, organisation_id=organisation_id).values_list("role", flat=True)
            .first() if user is not None else None)
    if not role_allows(role, action):
        raise NotPermittedError(refusal)
    return user
