"""What every viewset of every app shares: access through `OrganisationPermission`, the caller's
organisation's rows, typed list filters (`governance.web.filters`) and one translation of service
errors into HTTP answers.

The recipe of an endpoint:

- reads need `Permission.READ`, writes the viewset's `write_action`; a route that needs something
  else says so per verb in `required_actions`, on the class or on its `@action(...)`
  (`route_needs(permission)` for every verb of one route);
- the rows are `scoped_queryset()`: by default the class `queryset` filtered to the caller's
  organisation; a viewset whose rows come from a selector (or global catalogs) overrides it;
- `filters` (`{parameter: ORM lookup}`) filter the list;
- a service's `ValidationError` is answered by `service_error_to_api`, wherever it is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.viewsets import GenericViewSet

from governance.access import AccessContext
from governance.authz import OrganisationPermission, access_of
from governance.errors import ConflictError, NotPermittedError
from governance.permissions import Permission
from governance.web.filters import filters_apply

T = TypeVar("T")
RowT = TypeVar("RowT", bound=models.Model)
VERBS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The object is locked."
    default_code = "locked"


def service_error_to_api(error: DjangoValidationError) -> exceptions.APIException:
    """The one translation: 409 for a conflict (with the lock's `blockers` where it has them), 403 for a
    role or person who may not, else 400; field errors keep their field names."""
    blockers = getattr(error, "blockers", None)
    if isinstance(error, ConflictError) and blockers is not None:  # the lock's refusal names every result
        return Conflict(detail={"detail": " ".join(error.messages), "blockers": blockers})
    if isinstance(error, ConflictError):  # a locked assessment, machine evidence, an inference confirmed twice
        return Conflict(detail=error.messages)
    if isinstance(error, NotPermittedError):
        return exceptions.PermissionDenied(detail=" ".join(error.messages))
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(detail=error.message_dict)
    return exceptions.ValidationError(detail=error.messages)


def service_call(function: Callable[..., T], **kwargs: Any) -> T:
    """Run a service; its ValidationError becomes the API's answer (`service_error_to_api`)."""
    try:
        return function(**kwargs)
    except DjangoValidationError as error:
        raise service_error_to_api(error) from None


def route_needs(permission: Permission) -> dict[str, Permission]:
    """`required_actions` for a route whose every verb needs `permission`."""
    return dict.fromkeys(VERBS, permission)


class OrganisationViewSet(GenericViewSet):
    """Querysets are always the caller's organisation; others' rows are 404, never 403."""

    # `OrganisationPermission` decides every request (the docstring above is the OpenAPI description of
    # the viewsets that have none). Extra actions take `**kwargs`: DRF passes `format="json"` to the
    # handler of a `….json` URL.

    permission_classes = [OrganisationPermission]
    write_action: Permission | None = None  # each viewset names it; None: no writes
    required_actions: dict[str, Permission] | None = None  # per-verb overrides; extra actions set their own
    filters: dict[str, str] = {}  # query parameter → ORM lookup, for the list

    @property
    def access(self) -> AccessContext:
        return access_of(self.request)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular builds the schema without a caller
            return self.queryset
        rows = self.scoped_queryset()
        if self.action == "list" and self.filters:
            rows = filters_apply(rows, self.filters, self.request.query_params)
        return rows

    def scoped_queryset(self) -> Any:
        """The caller's rows: always filtered to the context's organisation (or global catalogs)."""
        return super().get_queryset().filter(organisation=self.access.organisation)

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, DjangoValidationError):
            exc = service_error_to_api(exc)
        return super().handle_exception(exc)


def organisation_rows(model: type[RowT], ids: Iterable[int] | None, request: Request,
                      *, tenant: bool = True) -> list[RowT] | None:
    """Ids from a request → rows of the caller's organisation; an unknown id is a 400, not a leak."""
    if ids is None:
        return None
    ids = list(ids)
    queryset = model._default_manager.filter(pk__in=ids)
    if tenant:
        queryset = queryset.filter(organisation=access_of(request).organisation)
    rows = list(queryset)
    if len(rows) != len(set(ids)):
        raise exceptions.ValidationError({model._meta.model_name: "Unknown id(s)."})
    return rows


def organisation_row(model: type[RowT], pk: Any, request: Request) -> RowT | None:
    """An optional id (None or empty: no row) → the caller's organisation's row; an unknown id is a 400."""
    if pk in (None, ""):
        return None
    return organisation_row_required(model, pk, request)


def organisation_row_required(model: type[RowT], pk: int, request: Request) -> RowT:
    """A required id → the caller's organisation's row; an unknown id is a 400."""
    row = model._default_manager.filter(pk=pk, organisation=access_of(request).organisation).first()
    if row is None:
        raise exceptions.ValidationError({model._meta.model_name: "Unknown id."})
    return row


def get_or_404(queryset: models.QuerySet[RowT], **lookup: Any) -> RowT:
    row = queryset.filter(**lookup).first()
    if row is None:
        raise Http404
    return row


def member_user(pk: int | None, request: Request) -> User | None:
    if pk is None:
        return None
    return member_users([pk], request)[0]


def member_users(ids: Iterable[int], request: Request) -> list[User]:
    """Users by id who are members of the caller's organisation (owners, assessors, reviewers)."""
    ids = list(ids)
    users = list(User.objects.filter(pk__in=ids, memberships__organisation=access_of(request).organisation))
    if len(users) != len(set(ids)):
        raise exceptions.ValidationError({"user": "Unknown member id(s)."})
    return users
