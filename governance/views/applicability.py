"""The Statement of Applicability of one AI system: proposals, decisions, bulk confirmation."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import escape
from django.views import View

from governance import selectors, services
from governance.authz import OrganisationAccessMixin
from governance.forms.management import ConfirmAllForm, DecisionForm
from governance.models.applicability import ApplicabilityDecision
from governance.permissions import Permission
from governance.web.views import ReadView, WriteFormView, row_or_404


def soa_url(ai_system_id: int) -> str:
    return reverse("governance:soa", args=[ai_system_id])


class StatementOfApplicabilityView(ReadView):
    template_name = "governance/soa.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        system = row_or_404(selectors.ai_systems_for(self.access), pk=kwargs["pk"])
        decisions = selectors.applicability_for(self.access).filter(ai_system=system) \
            .order_by("requirement__framework__slug", "requirement__order")
        groups = [(framework, list(rows)) for framework, rows in
                  groupby(decisions, key=lambda row: row.requirement.framework)]
        summary = [{"framework": framework, "applicable": sum(row.applicable for row in rows),
                    "total": len(rows), "open": sum(row.decided_at is None for row in rows)}
                   for framework, rows in groups]
        return {**super().get_context_data(**kwargs), "system": system, "groups": groups, "summary": summary}


class ProposeView(OrganisationAccessMixin, View):
    """POST: (re)compute the proposals from the classification and attributes."""

    write_action = Permission.EDIT_CONTROLS
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        system = row_or_404(selectors.ai_systems_for(self.access), pk=pk)
        try:
            changed = services.applicability_propose(ai_system=system, actor=request.user)
        except ValidationError as error:
            reason = " ".join(message for messages_ in error.message_dict.values() for message in messages_)
            return HttpResponse(escape(reason), status=400, content_type="text/plain; charset=utf-8")
        messages.success(request, f"Proposals updated ({changed} changed).")
        return HttpResponseRedirect(soa_url(system.pk))


class ConfirmAllView(OrganisationAccessMixin, View):
    write_action = Permission.EDIT_CONTROLS
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        system = row_or_404(selectors.ai_systems_for(self.access), pk=pk)
        form = ConfirmAllForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give a justification to confirm the proposals.")
            return HttpResponseRedirect(soa_url(system.pk))
        try:
            count = services.applicability_confirm_all(ai_system=system, framework_id=form.cleaned_data["framework"],
                                                       actor=request.user,
                                                       justification=form.cleaned_data["justification"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Confirmed {count} proposal(s).")
        return HttpResponseRedirect(soa_url(system.pk))


class DecisionView(WriteFormView[DecisionForm, ApplicabilityDecision]):
    form_class = DecisionForm
    write_action = Permission.EDIT_CONTROLS
    template_name = "governance/decision_form.html"
    title = "Applicability decision"
    decision: ApplicabilityDecision

    def setup_objects(self) -> None:
        self.decision = row_or_404(selectors.applicability_for(self.access), pk=self.kwargs["pk"])

    def cancel_url(self) -> str:
        return soa_url(self.decision.ai_system_id)

    def initial(self) -> dict[str, Any]:
        return {"applicable": "yes" if self.decision.applicable else "no",
                "justification": self.decision.justification}

    def context(self, form: DecisionForm) -> dict[str, Any]:
        return {**super().context(form), "decision": self.decision}

    def perform(self, form: DecisionForm) -> ApplicabilityDecision:
        return services.applicability_decide(decision=self.decision, actor=self.request.user,
                                             applicable=form.cleaned_data["applicable"],
                                             justification=form.cleaned_data["justification"])

    def success_url(self, row: ApplicabilityDecision) -> str:
        return soa_url(row.ai_system_id)
