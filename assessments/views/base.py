"""What the web views share: organisation-scoped lookups, service errors as messages, pagination."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Page, Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import View

from governance.authz import OrganisationAccessMixin

PAGE_SIZE = 50


INTEGER_FILTERS = ("framework", "ai_system", "assessment", "requirement", "page", "heatmap_page", "expiring")


class OrganisationView(OrganisationAccessMixin, View):
    """`self.access` is set by the mixin; rows of other organisations are 404."""

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        # A filter that is not a number would reach the ORM as one and fail there: refuse it here (400).
        for name in INTEGER_FILTERS:
            value = request.GET.get(name, "")
            if value and not value.isdigit() and not (name == "page" and value == "last"):
                raise BadRequest(f"{name} must be a number")

    def organisation_object(self, queryset: models.QuerySet | type[models.Model], **lookup: Any) -> Any:
        if isinstance(queryset, type):
            queryset = queryset.objects.all()
        return get_object_or_404(queryset, organisation=self.access.organisation, **lookup)

    def paginate(self, queryset: models.QuerySet) -> Page:
        return Paginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("page"))

    def query_string(self) -> str:
        """The current filters without `page`, for pagination links."""
        params = self.request.GET.copy()
        params.pop("page", None)
        return params.urlencode()


def run_service(request: HttpRequest, call: Any, *, success: str, back: str) -> HttpResponse:
    """Run a service call; a refusal becomes a message, never a 500."""
    try:
        call()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(request, success)
    return redirect(back)
