"""Forms for controls, risks, the Statement of Applicability, members and the audit filter."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from governance.forms.fields import choices_limit
from governance.models.audit import AuditAction
from governance.models.catalog import Requirement
from governance.models.controls import Control
from governance.models.registry import AISystem
from governance.models.risks import Risk
from governance.models.tenancy import Organisation, Role
from governance.selectors import members_of
from governance.web.widgets import DATE, TEXTAREA


class RequirementChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Requirement) -> str:
        return f"{obj.framework.ref_id} · {obj.ref_id} {obj.title or obj.text[:80]}"


class ControlForm(forms.ModelForm):
    requirements = RequirementChoiceField(
        queryset=Requirement.objects.filter(assessable=True).select_related("framework")
        .order_by("framework__slug", "order"),
        required=False, widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="Implement once, satisfy many: pick requirements of any framework.")

    class Meta:
        model = Control
        fields = ["ref_id", "name", "description", "control_type", "owner", "status", "review_frequency_days",
                  "last_reviewed"]
        widgets = {"description": TEXTAREA, "last_reviewed": DATE}

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_limit(self, members_of(organisation), "owner")

    def _post_clean(self) -> None:
        """The service validates against the organisation (unique ref ids)."""

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class RiskForm(forms.ModelForm):
    class Meta:
        model = Risk
        fields = ["title", "ai_system", "description", "risk_source", "characteristic", "likelihood", "impact",
                  "treatment", "treatment_plan", "residual_likelihood", "residual_impact", "owner", "status",
                  "next_review", "controls"]
        widgets = {"description": TEXTAREA, "treatment_plan": TEXTAREA, "next_review": DATE}

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        matrix = organisation.risk_matrix
        for name, scale, required in (("likelihood", "likelihood", True), ("impact", "impact", True),
                                      ("residual_likelihood", "likelihood", False),
                                      ("residual_impact", "impact", False)):
            choices: list[tuple[int | str, str]] = [] if required else [("", "—")]
            choices += [(index, f"{index} {label}") for index, label in enumerate(matrix[scale], start=1)]
            self.fields[name] = forms.TypedChoiceField(
                choices=choices, coerce=int, required=required,
                empty_value=None, label=self.fields[name].label)
        choices_limit(self, members_of(organisation), "owner")
        choices_limit(self, AISystem.objects.filter(organisation=organisation), "ai_system")
        choices_limit(self, Control.objects.filter(organisation=organisation), "controls")
        self.fields["controls"].required = False

    def _post_clean(self) -> None:
        """The service checks the scales and the organisation."""

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "controls"}


class DecisionForm(forms.Form):
    applicable = forms.TypedChoiceField(choices=[("yes", "Applies"), ("no", "Does not apply")],
                                        coerce=lambda value: value == "yes", widget=forms.RadioSelect)
    justification = forms.CharField(widget=TEXTAREA, help_text="Why it applies or not (kept in the SoA).")


class ConfirmAllForm(forms.Form):
    framework = forms.IntegerField(widget=forms.HiddenInput)
    justification = forms.CharField(widget=TEXTAREA, label="Justification for confirming every open proposal")


class MembershipAddForm(forms.Form):
    username = forms.CharField(label="Username or e-mail of an existing account")
    role = forms.ChoiceField(choices=Role.choices)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


LEVELS_HELP = "One level per line, lowest first (3 to 7 levels)."


class RiskMatrixForm(forms.Form):
    likelihood = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), help_text=LEVELS_HELP)
    impact = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), help_text=LEVELS_HELP)

    def clean_likelihood(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["likelihood"].splitlines() if line.strip()]

    def clean_impact(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["impact"].splitlines() if line.strip()]


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "any action"), *AuditAction.choices], required=False)
    object_type = forms.ChoiceField(choices=[("", "any object")], required=False)
    actor = forms.CharField(required=False)
    since = forms.DateField(required=False, widget=DATE)
    until = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args: Any, object_types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["object_type"]).choices = [("", "any object"),
                                                                       *[(name, name) for name in object_types]]
