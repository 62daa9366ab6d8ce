"""The framework catalogs: read-only pages for every member."""

from __future__ import annotations

from typing import Any

from governance import selectors
from governance.models.catalog import Framework, Requirement
from governance.web.views import ReadView, row_or_404


class FrameworkListView(ReadView):
    template_name = "governance/framework_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "frameworks": selectors.frameworks()}


class FrameworkDetailView(ReadView):
    template_name = "governance/framework_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        framework = row_or_404(Framework.objects.all(), slug=kwargs["slug"])
        return {**super().get_context_data(**kwargs), "framework": framework,
                "requirements": selectors.requirements_of(framework),
                "crosswalk_sources": selectors.framework_crosswalk_sources(framework)}


class RequirementDetailView(ReadView):
    template_name = "governance/requirement_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        requirement = row_or_404(Requirement.objects.select_related("framework", "parent"), pk=kwargs["pk"])
        controls = selectors.controls_for(self.access).filter(requirements=requirement)
        return {**super().get_context_data(**kwargs), "requirement": requirement,
                "children": requirement.children.all(), "crosswalks": selectors.requirement_crosswalks(requirement),
                "controls": controls}
