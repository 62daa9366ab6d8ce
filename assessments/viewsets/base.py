"""What every assessments viewset shares: access through `OrganisationPermission`, tenant querysets,
query-parameter filters (typed in the OpenAPI schema: `governance.api.filters`) and service errors as
HTTP answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404
from rest_framework import exceptions, viewsets
from rest_framework.request import Request

from assessments.services.common import AssessmentIncompleteError, ConflictError, NotPermittedError
from governance.access import AccessContext
from governance.api.filters import filters_apply
from governance.authz import OrganisationPermission, access_of
from governance.permissions import Permission


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The object is locked."
    default_code = "locked"


def service_error_to_api(error: DjangoValidationError) -> exceptions.APIException:
    if isinstance(error, AssessmentIncompleteError):  # the lock's refusal names every result in the way
        return Conflict(detail={"detail": " ".join(error.messages), "blockers": error.blockers})
    if isinstance(error, ConflictError):  # a locked assessment, machine evidence, an inference confirmed twice
        return Conflict(detail=error.messages)
    if isinstance(error, NotPermittedError):
        return exceptions.PermissionDenied(detail=" ".join(error.messages))
    return exceptions.ValidationError(detail=error.messages)


class OrganisationViewSet(viewsets.GenericViewSet):
    """Querysets are always the caller's organisation; others' rows are 404, never 403."""

    permission_classes = [OrganisationPermission]
    write_action: Permission | None = Permission.EDIT_ASSESSMENTS
    filters: dict[str, str] = {}  # query parameter → ORM lookup, for the list
    # Per-route needs beyond read/write (e.g. "approve" → APPROVE_ASSESSMENTS), read by OrganisationPermission.
    action_permissions: dict[str, Permission] = {}

    @property
    def required_actions(self) -> dict[str, Permission] | None:
        needed = self.action_permissions.get(self.action or "")
        return {self.request.method or "GET": needed} if needed else None

    @property
    def access(self) -> AccessContext:
        return access_of(self.request)

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset().filter(organisation=self.access.organisation)
        if self.action == "list":
            queryset = filters_apply(queryset, self.filters, self.request.query_params)
        return queryset

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, DjangoValidationError):
            exc = service_error_to_api(exc)
        return super().handle_exception(exc)


def organisation_rows(model: type[models.Model], ids: Iterable[int] | None, request: Request,
                      *, tenant: bool = True) -> list[models.Model] | None:
    """Ids from a request → rows of the caller's organisation; an unknown id is a 400, not a leak."""
    if ids is None:
        return None
    ids = list(ids)
    queryset = model.objects.filter(pk__in=ids)
    if tenant:
        queryset = queryset.filter(organisation=access_of(request).organisation)
    rows = list(queryset)
    if len(rows) != len(set(ids)):
        raise exceptions.ValidationError({model._meta.model_name: "Unknown id(s)."})
    return rows


def organisation_row(model: type[models.Model], pk: Any, request: Request) -> models.Model | None:
    if pk in (None, ""):
        return None
    row = model.objects.filter(pk=pk, organisation=access_of(request).organisation).first()
    if row is None:
        raise exceptions.ValidationError({model._meta.model_name: "Unknown id."})
    return row


def get_or_404(queryset: models.QuerySet, **lookup: Any) -> models.Model:
    row = queryset.filter(**lookup).first()
    if row is None:
        raise Http404
    return row
