"""Forms of the AI system registry: systems, classification, model versions, cards, datasets."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from governance.eu_ai_act import (
    ANNEX_III_POINTS,
    DEROGATION_CONDITIONS,
    OPERATOR_ROLES,
    PROHIBITED_PRACTICES,
    TRANSPARENCY_OBLIGATIONS,
)
from governance.forms.fields import choices_limit
from governance.models.registry import AISystem, LossTermKind, ModelVersion, OperatorRole
from governance.models.tenancy import Organisation
from governance.selectors import members_of
from governance.thresholds import Threshold, thresholds_format_lines, thresholds_parse_lines
from governance.uploads import (
    UploadError,
    checkpoint_check,
    class_names_check,
    dataset_zip_check,
    json_list_parse,
    model_config_check,
    pretrained_tag_check,
    prompt_templates_check,
)
from governance.web.widgets import DATE, TEXTAREA


def _upload_checked(function: Any, value: Any) -> Any:
    try:
        return function(value)
    except UploadError as error:
        raise forms.ValidationError(str(error)) from None


class AISystemForm(forms.ModelForm):
    operator_roles = forms.MultipleChoiceField(
        choices=OperatorRole.choices, widget=forms.CheckboxSelectMultiple, label="Operator role(s)",
        help_text="Tick every role the organisation has for this system (an in-house system is provider and "
                  "deployer).")
    thresholds = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "placeholder": "screen-pgd10 4/255 0.40 0.80"}),
        label="Robustness thresholds (set in advance)",
        help_text="One per line: attack preset, ε (e.g. 4/255), minimum robust accuracy, optional minimum clean "
                  "accuracy (accuracies as fractions 0-1).")

    class Meta:
        model = AISystem
        fields = ["name", "intended_purpose", "owner", "business_owner", "operator_roles", "lifecycle_stage",
                  "deployment_context", "affected_persons", "human_oversight", "human_oversight_description",
                  "review_frequency_days", "last_reviewed"]
        widgets = {"intended_purpose": TEXTAREA, "deployment_context": TEXTAREA, "affected_persons": TEXTAREA,
                   "human_oversight_description": TEXTAREA, "last_reviewed": DATE}

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_limit(self, members_of(organisation), "owner")
        if self.instance.pk and not self.is_bound:
            self.initial["thresholds"] = thresholds_format_lines(self.instance.robustness_thresholds)
            self.initial["operator_roles"] = list(self.instance.operator_roles or [])

    def clean_thresholds(self) -> list[Threshold]:
        try:
            return thresholds_parse_lines(self.cleaned_data.get("thresholds", ""))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def _post_clean(self) -> None:
        """Uniqueness and the rest are checked by the service (which owns the organisation)."""

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["robustness_thresholds"] = self.cleaned_data["thresholds"]
        return data


def _grouped_annex_iii() -> list[Any]:
    from governance.eu_ai_act import ANNEX_III_AREAS

    return [(f"{area}. {title}", [(ref, f"{ref[len('Annex III '):]} {label}")
                                  for ref, label in ANNEX_III_POINTS.items() if ref.startswith(f"Annex III {area}(")])
            for area, title in ANNEX_III_AREAS.items()]


NONE = "none"
YES_NO = [("yes", "Yes"), ("no", "No")]


def _none_first(choices: list[Any]) -> list[Any]:
    return [(NONE, "None of these"), *choices]


def _yes_no(label: str, **kwargs: Any) -> forms.TypedChoiceField:
    """Yes / No, and blank stays blank (None): an unanswered question is not a "no"."""
    return forms.TypedChoiceField(choices=YES_NO, coerce=lambda value: value == "yes", empty_value=None,
                                  required=False, widget=forms.RadioSelect, label=label, **kwargs)


def _ticked(label: str, choices: Any, **kwargs: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label=label,
                                     choices=choices, **kwargs)


LIST_QUESTIONS = ("prohibited_practices", "annex_iii_points", "derogation_conditions", "transparency_obligations")
YES_NO_QUESTIONS = ("annex_i_product", "annex_i_third_party_assessment", "annex_i_section_b", "profiling",
                    "public_service_deployer", "general_purpose_model", "general_purpose_model_provider",
                    "systemic_risk")


class ClassificationForm(forms.Form):
    """The guided EU AI Act questions, in the order the Act applies them. Blank is not "no": tick
    "None of these" or answer No, or the classification stays incomplete and says what is missing."""

    operator_roles = _ticked("0. The organisation's role(s) for this system", list(OPERATOR_ROLES.items()),
                             help_text="Several at once where it applies (an in-house system is provider and "
                                       "deployer). Art 50 and Arts 26-27 follow the role.")
    prohibited_practices = _ticked("1. Prohibited practices (Art 5)",
                                   _none_first([(ref, f"{ref}: {label}") for ref, label in
                                                PROHIBITED_PRACTICES.items()]),
                                   help_text="Tick any practice the system performs, or None of these.")
    annex_i_product = _yes_no("2a. It is a safety component of a product, or itself a product, covered by the Union "
                              "harmonisation legislation listed in Annex I (machinery, toys, medical devices…)")
    annex_i_third_party_assessment = _yes_no("2b. That product must undergo a third-party conformity assessment "
                                             "(Art 6(1)(b))")
    annex_i_section_b = _yes_no("2c. That legislation is in Annex I Section B (vehicles, aviation, marine equipment, "
                                "rail…): Art 2(2)")
    annex_iii_points = _ticked("3. Annex III use cases (Art 6(2))", lambda: _none_first(_grouped_annex_iii()),
                               help_text="Tick every point the intended purpose falls under, or None of these.")
    profiling = _yes_no("3a. The system performs profiling of natural persons")
    public_service_deployer = _yes_no("3b. As deployer, the organisation is a body governed by public law or a "
                                      "private entity providing public services (Art 27(1))")
    derogation_conditions = _ticked("4. Art 6(3) derogation: the system poses no significant risk of harm because…",
                                    _none_first([(ref, f"{ref}: {label}") for ref, label in
                                                 DEROGATION_CONDITIONS.items()]))
    derogation_assessment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label="4a. Documented assessment (Art 6(4))",
        help_text="Required when you claim the derogation: why the system poses no significant risk of harm.")
    transparency_obligations = _ticked("5. Transparency cases (Art 50)",
                                       _none_first([(ref, f"{ref}: {label}") for ref, label in
                                                    TRANSPARENCY_OBLIGATIONS.items()]))
    general_purpose_model = _yes_no("6. The system is built on a general-purpose AI model")
    general_purpose_model_provider = _yes_no("6a. The organisation provides a general-purpose AI model (Chapter V, "
                                             "Art 53)")
    systemic_risk = _yes_no("6b. That model has systemic risk: trained with more than 10^25 FLOPs (Art 51(2)) or "
                            "designated by the Commission (Art 51(1)(b))")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = dict(kwargs.pop("initial", None) or {})
        for key in LIST_QUESTIONS:
            if initial.get(key) == []:
                initial[key] = [NONE]
        for key in YES_NO_QUESTIONS:
            if isinstance(initial.get(key), bool):
                initial[key] = "yes" if initial[key] else "no"
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for key in LIST_QUESTIONS:
            values = data.get(key)
            if values and NONE in values and len(values) > 1:
                self.add_error(key, "Tick the cases that apply or None of these, not both.")
            data[key] = [] if values == [NONE] else (values or None)  # None: not answered
        data["operator_roles"] = data.get("operator_roles") or None
        if data.get("derogation_conditions"):
            if not data.get("annex_iii_points"):
                self.add_error("derogation_conditions", "The Art 6(3) derogation only concerns Annex III systems.")
            elif not data.get("profiling") and not data.get("derogation_assessment", "").strip():
                self.add_error("derogation_assessment",
                               "Art 6(4): a provider relying on the derogation must document the assessment.")
        if data.get("annex_i_third_party_assessment") and not data.get("annex_i_product"):
            self.add_error("annex_i_product", "Third-party assessment only matters for an Annex I product.")
        if data.get("systemic_risk") and not data.get("general_purpose_model_provider"):
            self.add_error("systemic_risk", "Systemic risk concerns a general-purpose AI model the organisation "
                                            "provides (6a).")
        return data


def _lines_or_json(value: str, what: str) -> list[Any]:
    try:
        return json_list_parse(value, what=what)
    except UploadError as error:
        raise forms.ValidationError(str(error)) from None


class ModelVersionForm(forms.Form):
    version = forms.CharField(max_length=80, help_text="Your label, e.g. v1.0 or 2026-11-retrain.")
    architecture = forms.CharField(max_length=120, help_text="open_clip architecture name, e.g. ViT-B-32.")
    model_config = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                   label="Custom model config (JSON, optional)",
                                   help_text="An open_clip config with embed_dim, vision_cfg, text_cfg.")
    checkpoint = forms.FileField(required=False, help_text=".pt, .pth, .bin, .safetensors or .ckpt")
    pretrained_tag = forms.CharField(required=False, max_length=120,
                                     help_text="Or a pretrained tag already in the local open_clip cache.")
    class_names = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), help_text="One per line (or JSON list).")
    prompt_templates = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), initial="a photo of a {}.",
                                       help_text="One per line, with {} for the class name.")
    parent = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), required=False,
                                    label="Derived from (lineage)")

    def __init__(self, *args: Any, ai_system: AISystem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_limit(self, ModelVersion.objects.filter(ai_system=ai_system), "parent")

    def clean_model_config(self) -> dict[str, Any] | None:
        text = self.cleaned_data["model_config"].strip()
        if not text:
            return None
        try:
            config = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"Not valid JSON: {error}") from None
        _upload_checked(model_config_check, config)
        return config

    def clean_checkpoint(self) -> Any:
        upload = self.cleaned_data.get("checkpoint")
        if upload is not None:
            _upload_checked(checkpoint_check, upload)
        return upload

    def clean_class_names(self) -> list[str]:
        return _upload_checked(class_names_check, _lines_or_json(self.cleaned_data["class_names"], "class names"))

    def clean_prompt_templates(self) -> list[str]:
        return _upload_checked(prompt_templates_check,
                               _lines_or_json(self.cleaned_data["prompt_templates"], "prompt templates"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "checkpoint" in data and bool(data.get("checkpoint")) == bool(data.get("pretrained_tag", "").strip()):
            self.add_error("checkpoint", "Upload a checkpoint or name a cached pretrained tag (exactly one).")
        if "pretrained_tag" in data and data.get("pretrained_tag", "").strip():
            try:
                data["pretrained_tag"] = pretrained_tag_check(data["pretrained_tag"], data.get("architecture", ""))
            except UploadError as error:
                self.add_error("pretrained_tag", str(error))
        return data

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in
                ("version", "architecture", "model_config", "pretrained_tag", "class_names", "prompt_templates",
                 "parent")}


class ModelVersionEditForm(ModelVersionForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("architecture", "model_config", "checkpoint", "pretrained_tag"):
            del self.fields[name]

    def clean(self) -> dict[str, Any]:
        forms.Form.clean(self)  # not ModelVersionForm's: an edit keeps its checkpoint or tag
        return self.cleaned_data

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("version", "class_names", "prompt_templates", "parent")}


class TrainingCardForm(forms.Form):
    loss_terms = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "cross-entropy accuracy 1.0\nTRADES-KL robustness 6"}),
        help_text=f"One term per line: name, kind ({', '.join(LossTermKind.values)}), weight.")
    achieves_intended_outcome = forms.CharField(required=False, widget=TEXTAREA,
                                                label="Does minimising the loss achieve the intended outcome?")
    gaming_risks = forms.CharField(required=False, widget=TEXTAREA, label="How could the objective be gamed?")
    tracks_real_world_metrics = forms.CharField(required=False, widget=TEXTAREA,
                                                label="Do loss improvements track real-world metrics?")
    edge_case_treatment = forms.CharField(required=False, widget=TEXTAREA, label="How are edge cases treated?")

    def clean_loss_terms(self) -> list[dict[str, Any]]:
        terms = []
        for number, line in enumerate(self.cleaned_data["loss_terms"].splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 3:
                raise forms.ValidationError(f"Line {number}: expected 'name kind weight'.")
            *name, kind, weight = parts
            if kind not in LossTermKind.values:
                raise forms.ValidationError(f"Line {number}: kind must be one of {', '.join(LossTermKind.values)}.")
            try:
                terms.append({"name": " ".join(name), "kind": kind, "weight": float(weight)})
            except ValueError:
                raise forms.ValidationError(f"Line {number}: weight {weight!r} is not a number.") from None
        if not terms:
            raise forms.ValidationError("Name at least one loss term.")
        return terms


def loss_terms_lines(terms: list[dict[str, Any]]) -> str:
    return "\n".join(f"{term['name']} {term['kind']} {term['weight']:g}" for term in terms)


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=200)
    ai_system = forms.ModelChoiceField(queryset=AISystem.objects.none(), required=False, label="AI system")
    description = forms.CharField(required=False, widget=TEXTAREA)
    file = forms.FileField(label="ImageFolder zip", help_text="A .zip with one folder per class of images.")

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_limit(self, AISystem.objects.filter(organisation=organisation), "ai_system")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        _upload_checked(dataset_zip_check, upload)
        return upload
