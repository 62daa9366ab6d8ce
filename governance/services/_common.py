"""Field handling shared by the services: whitelisted updates, model validation, membership checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import ProtectedError

from governance.models.tenancy import Membership, Organisation

P = ParamSpec("P")
R = TypeVar("R")


def fields_apply(instance: models.Model, data: Mapping[str, Any], *, allowed: Iterable[str]) -> None:
    allowed = frozenset(allowed)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(f"Unknown or read-only field(s): {', '.join(unknown)}")
    for name, value in data.items():
        setattr(instance, name, value)


def validated(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Model validation (choices, lengths, unique constraints) before the row is written."""
    instance.full_clean(exclude=list(exclude), validate_unique=True)


def member_check(user: Any, *, organisation: Organisation, field: str) -> None:
    """Owners and deciders must belong to the organisation: never point a row at a stranger."""
    if user is not None and not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise ValidationError({field: "Choose a member of this organisation."})


def same_organisation_check(rows: Iterable[models.Model | None], *, organisation: Organisation, field: str) -> None:
    for row in rows:
        if row is not None and getattr(row, "organisation_id", None) != organisation.pk:
            raise ValidationError({field: "Choose one of this organisation's records."})


def protected_rows_refused(function: Callable[P, R]) -> Callable[P, R]:
    """A delete that other records still depend on (PROTECT) answers with the reason, not a 500.

    The collector raises before any row is deleted, and the ValidationError rolls the whole
    service back, its audit events included.
    """

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except ProtectedError as error:
            counts = Counter(row._meta.verbose_name for row in error.protected_objects)
            users = ", ".join(f"{count} {name}{'' if count == 1 else '(s)'}" for name, count in sorted(counts.items()))
            raise ValidationError(f"Cannot delete: still used by {users}. Remove or reassign those first.") from None

    return wrapper
