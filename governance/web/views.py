"""What every page of every app shares: access through `governance.authz`, organisation-scoped
lookups, service errors shown on the form or as a message, pagination.

A page is a `ReadView` (any member reads), a `WriteFormView` (GET the form, POST runs a service),
a `DeleteView`, or an `OrganisationView` (a plain view whose query filters are checked) with its
verbs' permissions in `required_actions`; a one-shot POST calls `run_service`.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import models
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from governance.authz import OrganisationAccessMixin
from governance.permissions import Permission
from governance.web.filters import MAX_ID, web_query_int

PAGE_SIZE = 50
MAX_EXPIRING_DAYS = 3650  # `?expiring=`: ten years ahead at most (a date the calendar holds)

# Query parameters that are row ids (1 … 2**63 - 1) or bounded numbers; anything else is a 400 naming them.
ID_FILTERS = ("framework", "ai_system", "assessment", "requirement")
BOUNDED_FILTERS = {"page": (1, MAX_ID), "heatmap_page": (1, MAX_ID), "expiring": (0, MAX_EXPIRING_DAYS)}
INTEGER_FILTERS = (*ID_FILTERS, *BOUNDED_FILTERS)

FormT = TypeVar("FormT", bound=BaseForm)
RowT = TypeVar("RowT", bound=models.Model)


def errors_onto_form(form: BaseForm, error: ValidationError) -> None:
    """A service's ValidationError lands on the field it names, else on the form."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


class ReadView(OrganisationAccessMixin, TemplateView):
    """A page any member may read (Permission.READ)."""


class WriteFormView(OrganisationAccessMixin, View, Generic[FormT, RowT]):
    """GET shows the form, POST runs the service; both need `write_action`.

    Subclasses name their form and row types (`WriteFormView[AISystemForm, AISystem]`), set
    `form_class`, `title`, and implement `perform(form)` (calls a service and returns the row to go
    to) and optionally `get_form_kwargs()`, `success_url(row)`.
    """

    form_class: type[FormT]
    template_name = "governance/form.html"
    title = ""
    write_action: Permission = Permission.EDIT_REGISTRY
    multipart = False

    @property
    def required_actions(self) -> dict[str, Permission]:  # type: ignore[override]  # a property over the mixin's attribute
        return {"GET": self.write_action, "HEAD": self.write_action, "POST": self.write_action}

    def setup_objects(self) -> None:
        """Load the rows the form works on (404 for another organisation's rows)."""

    def get_form_kwargs(self) -> dict[str, Any]:
        return {}

    def initial(self) -> dict[str, Any]:
        return {}

    def perform(self, form: FormT) -> RowT:
        raise NotImplementedError

    def success_url(self, row: RowT) -> str:
        return row.get_absolute_url()  # type: ignore[attr-defined]  # rows a form goes to define it; Model does not

    def cancel_url(self) -> str:
        return reverse("governance:ai-system-list")

    def subject(self) -> models.Model | None:
        """The row the form is about, named under the title."""
        return None

    def context(self, form: FormT) -> dict[str, Any]:
        return {"form": form, "title": self.title, "multipart": self.multipart, "cancel_url": self.cancel_url(),
                "subject": self.subject()}

    def render_form(self, form: FormT, status: int = 200) -> HttpResponse:
        return render(self.request, self.template_name, self.context(form), status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.setup_objects()
        return self.render_form(self.form_class(initial=self.initial(), **self.get_form_kwargs()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.setup_objects()
        form = self.form_class(request.POST, request.FILES, initial=self.initial(), **self.get_form_kwargs())
        if form.is_valid():
            try:
                row = self.perform(form)
            except ValidationError as error:
                errors_onto_form(form, error)
            else:
                messages.success(request, f"{self.title}: saved.")
                return HttpResponseRedirect(self.success_url(row))
        return self.render_form(form, status=400)


class DeleteView(OrganisationAccessMixin, View, Generic[RowT]):
    """GET asks for confirmation, POST deletes through the service (`DeleteView[AISystem]`)."""

    template_name = "governance/confirm_delete.html"
    write_action: Permission = Permission.EDIT_REGISTRY
    next_url = "governance:ai-system-list"

    @property
    def required_actions(self) -> dict[str, Permission]:  # type: ignore[override]  # a property over the mixin's attribute
        return {"GET": self.write_action, "HEAD": self.write_action, "POST": self.write_action}

    def get_row(self) -> RowT:
        raise NotImplementedError

    def perform(self, row: RowT) -> None:
        raise NotImplementedError

    def after_url(self, row: RowT) -> str:
        return redirect(self.next_url).url

    def cancel_url(self, row: RowT) -> str:
        return row.get_absolute_url() if hasattr(row, "get_absolute_url") else redirect(self.next_url).url

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        row = self.get_row()
        return render(request, self.template_name, {"object": row, "cancel_url": self.cancel_url(row)})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        row = self.get_row()
        target = self.after_url(row)
        try:
            self.perform(row)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return render(request, self.template_name, {"object": row, "cancel_url": self.cancel_url(row)},
                          status=400)
        messages.success(request, f"Deleted {row}.")
        return HttpResponseRedirect(target)


def row_or_404(queryset: models.QuerySet[RowT], **lookup: Any) -> RowT:
    return get_object_or_404(queryset, **lookup)


class OrganisationView(OrganisationAccessMixin, View):
    """`self.access` is set by the mixin; rows of other organisations are 404."""

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        # A filter that is not a number, or one the database cannot hold, would fail in the ORM
        # (a 500): refuse it here with the 400 page naming the parameter (`governance.web.filters`).
        for name in ID_FILTERS:
            web_query_int(request.GET, name)
        for name, (minimum, maximum) in BOUNDED_FILTERS.items():
            if not (name == "page" and request.GET.get(name) == "last"):
                web_query_int(request.GET, name, minimum=minimum, maximum=maximum)

    def organisation_object(self, queryset: models.QuerySet[RowT] | type[RowT], **lookup: Any) -> RowT:
        if isinstance(queryset, type):
            queryset = queryset._default_manager.all()
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
