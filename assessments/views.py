"""Assessments web views."""

from __future__ import annotations

from django.views.generic import TemplateView

from governance.authz import OrganisationAccessMixin


class DashboardView(OrganisationAccessMixin, TemplateView):
    """The control-evidence dashboard of the current organisation."""

    template_name = "assessments/dashboard.html"
