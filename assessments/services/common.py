"""What the assessments services share: errors, the actor type, tenancy checks."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models

from governance.models.tenancy import Organisation

Actor = AbstractBaseUser | AnonymousUser | None


class ServiceError(ValidationError):
    """Bad input or a forbidden state change; views answer 400."""


class AssessmentLockedError(ServiceError):
    """A locked assessment is immutable; views answer 409."""


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
