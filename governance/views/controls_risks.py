"""Controls and the risk register (with its heat map)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from governance import selectors, services
from governance.forms.management import ControlForm, RiskForm, RiskMatrixForm
from governance.models.controls import Control
from governance.models.risks import Risk
from governance.models.tenancy import Organisation
from governance.permissions import Permission
from governance.web.views import DeleteView, ReadView, WriteFormView, row_or_404


class ControlListView(ReadView):
    template_name = "governance/control_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "controls": selectors.controls_for(self.access)}


class ControlDetailView(ReadView):
    template_name = "governance/control_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        control = row_or_404(selectors.controls_for(self.access), pk=kwargs["pk"])
        return {**super().get_context_data(**kwargs), "control": control,
                "requirements": control.requirements.select_related("framework").order_by("framework__slug", "order"),
                "risks": selectors.risks_for(self.access).filter(controls=control)}


class ControlCreateView(WriteFormView[ControlForm, Control]):
    form_class = ControlForm
    write_action = Permission.EDIT_CONTROLS
    title = "New control"

    def cancel_url(self) -> str:
        return reverse("governance:control-list")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"organisation": self.access.organisation}

    def perform(self, form: ControlForm) -> Control:
        return services.control_create(organisation=self.access.organisation, actor=self.request.user,
                                       data=form.service_data(), requirements=form.cleaned_data["requirements"])


class ControlEditView(WriteFormView[ControlForm, Control]):
    form_class = ControlForm
    write_action = Permission.EDIT_CONTROLS
    title = "Edit control"
    control: Control

    def setup_objects(self) -> None:
        self.control = row_or_404(selectors.controls_for(self.access), pk=self.kwargs["pk"])

    def cancel_url(self) -> str:
        return self.control.get_absolute_url()

    def subject(self) -> Control:
        return self.control

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"organisation": self.access.organisation, "instance": Control.objects.get(pk=self.control.pk)}

    def initial(self) -> dict[str, Any]:
        return {"requirements": list(self.control.requirements.values_list("pk", flat=True))}

    def perform(self, form: ControlForm) -> Control:
        return services.control_update(control=self.control, actor=self.request.user, data=form.service_data(),
                                       requirements=form.cleaned_data["requirements"])


class ControlDeleteView(DeleteView[Control]):
    write_action = Permission.EDIT_CONTROLS
    next_url = "governance:control-list"

    def get_row(self) -> Control:
        return row_or_404(selectors.controls_for(self.access), pk=self.kwargs["pk"])

    def perform(self, row: Control) -> None:
        services.control_delete(control=row, actor=self.request.user)


class RiskListView(ReadView):
    template_name = "governance/risk_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        matrix = self.access.organisation.risk_matrix
        row_labels = [f"{index} {label}" for index, label in reversed(list(enumerate(matrix["likelihood"], 1)))]
        return {**super().get_context_data(**kwargs), "risks": selectors.risks_for(self.access),
                "heat_map": list(zip(row_labels, selectors.risk_heat_map(self.access), strict=True)),
                "residual_heat_map": list(zip(row_labels, selectors.risk_heat_map(self.access, residual=True),
                                              strict=True)),
                "impact_labels": [f"{index} {label}" for index, label in enumerate(matrix["impact"], 1)]}


class RiskDetailView(ReadView):
    template_name = "governance/risk_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        risk = row_or_404(selectors.risks_for(self.access), pk=kwargs["pk"])
        matrix = self.access.organisation.risk_matrix
        maximum = len(matrix["likelihood"]) * len(matrix["impact"])
        return {**super().get_context_data(**kwargs), "risk": risk, "matrix": matrix,
                "inherent_level": selectors.risk_level(risk.inherent_score, maximum=maximum),
                "residual_level": selectors.risk_level(risk.residual_score, maximum=maximum)
                if risk.residual_score is not None else None}


class RiskCreateView(WriteFormView[RiskForm, Risk]):
    form_class = RiskForm
    write_action = Permission.EDIT_CONTROLS
    title = "New risk"

    def cancel_url(self) -> str:
        return reverse("governance:risk-list")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"organisation": self.access.organisation}

    def initial(self) -> dict[str, Any]:
        return {"ai_system": self.request.GET.get("ai_system")}

    def perform(self, form: RiskForm) -> Risk:
        return services.risk_create(organisation=self.access.organisation, actor=self.request.user,
                                    data=form.service_data(), controls=form.cleaned_data["controls"])


class RiskEditView(WriteFormView[RiskForm, Risk]):
    form_class = RiskForm
    write_action = Permission.EDIT_CONTROLS
    title = "Edit risk"
    risk: Risk

    def setup_objects(self) -> None:
        self.risk = row_or_404(selectors.risks_for(self.access), pk=self.kwargs["pk"])

    def cancel_url(self) -> str:
        return self.risk.get_absolute_url()

    def subject(self) -> Risk:
        return self.risk

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"organisation": self.access.organisation, "instance": Risk.objects.get(pk=self.risk.pk)}

    def perform(self, form: RiskForm) -> Risk:
        return services.risk_update(risk=self.risk, actor=self.request.user, data=form.service_data(),
                                    controls=form.cleaned_data["controls"])


class RiskDeleteView(DeleteView[Risk]):
    write_action = Permission.EDIT_CONTROLS
    next_url = "governance:risk-list"

    def get_row(self) -> Risk:
        return row_or_404(selectors.risks_for(self.access), pk=self.kwargs["pk"])

    def perform(self, row: Risk) -> None:
        services.risk_delete(risk=row, actor=self.request.user)


class RiskMatrixView(WriteFormView[RiskMatrixForm, Organisation]):
    form_class = RiskMatrixForm
    write_action = Permission.EDIT_CONTROLS
    title = "Risk matrix scales"

    def cancel_url(self) -> str:
        return reverse("governance:risk-list")

    def initial(self) -> dict[str, Any]:
        matrix = self.access.organisation.risk_matrix
        return {"likelihood": "\n".join(matrix["likelihood"]), "impact": "\n".join(matrix["impact"])}

    def perform(self, form: RiskMatrixForm) -> Organisation:
        return services.organisation_risk_matrix_update(
            organisation=self.access.organisation, likelihood=form.cleaned_data["likelihood"],
            impact=form.cleaned_data["impact"], actor=self.request.user)

    def success_url(self, row: Organisation) -> str:
        return reverse("governance:risk-list")
