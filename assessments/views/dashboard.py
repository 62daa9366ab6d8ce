"""The control-evidence dashboard (per organisation, or per AI system with `?ai_system=`)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from assessments.reporting.charts import robustness_over_versions_svg
from assessments.selectors.dashboard import dashboard_get
from governance.models import AISystem
from governance.selectors import classifications_incomplete
from governance.web.views import OrganisationView


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise Http404("Bad filter") from None


class DashboardView(OrganisationView):
    template_name = "assessments/dashboard.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        organisation = self.access.organisation
        system_id = _int(request.GET.get("ai_system"))
        ai_system = self.organisation_object(AISystem, pk=system_id) if system_id else None
        dashboard = dashboard_get(organisation=organisation, today=timezone.localdate(), ai_system=ai_system,
                                  framework_id=_int(request.GET.get("framework")),
                                  heatmap_page=_int(request.GET.get("heatmap_page")) or 1)
        context: dict[str, Any] = {"dashboard": dashboard, "today": timezone.localdate(),
                                   "scope_query": f"&ai_system={ai_system.pk}" if ai_system else "",
                                   "incomplete_classifications": classifications_incomplete(
                                       organisation, ai_system_id=system_id)}
        by_system: dict[int | None, list] = {}
        for summary in dashboard.robustness:
            by_system.setdefault(summary.ai_system_id, []).append(summary)
        # Our own SVG with every label escaped: safe to embed.
        context["robustness_charts"] = [mark_safe(robustness_over_versions_svg(  # noqa: S308
            items, f"Worst-case robust accuracy — {items[0].ai_system_name or 'unassigned'}"))
            for items in by_system.values()]
        return render(request, self.template_name, context)
