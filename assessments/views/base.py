"""What the web views share: organisation-scoped lookups, service errors as messages, pagination."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import View

from governance.api.filters import MAX_ID, web_query_int
from governance.authz import OrganisationAccessMixin

PAGE_SIZE = 50
MAX_EXPIRING_DAYS = 3650  # `?expiring=`: ten years ahead at most (a date the calendar holds)


# Query parameters that are row ids (1 … 2**63 - 1) or bounded numbers; anything else is a 400 naming them.
ID_FILTERS = ("framework", "ai_system", "assessment", "requirement")
BOUNDED_FILTERS = {"page": (1, MAX_ID), "heatmap_page": (1, MAX_ID), "expiring": (0, MAX_EXPIRING_DAYS)}
INTEGER_FILTERS = (*ID_FILTERS, *BOUNDED_FILTERS)


class OrganisationView(OrganisationAccessMixin, View):
    """`self.access` is set by the mixin; rows of other organisations are 404."""

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        # A filter that is not a number, or one the database cannot hold, would fail in the ORM
        # (a 500): refuse it here with the 400 page naming the parameter (`governance.api.filters`).
        for name in ID_FILTERS:
            web_query_int(request.GET, name)
        for name, (minimum, maximum) in BOUNDED_FILTERS.items():
            if not (name == "page" and request.GET.get(name) == "last"):
                web_query_int(request.GET, name, minimum=minimum, maximum=maximum)

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
