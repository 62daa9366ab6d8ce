"""AI systems, their classification, model versions, training cards and datasets."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from governance import selectors, services
from governance.access import AccessContext
from governance.eu_ai_act import QUESTIONS
from governance.forms.registry import (
    AISystemForm,
    ClassificationForm,
    DatasetForm,
    ModelVersionEditForm,
    ModelVersionForm,
    TrainingCardForm,
    loss_terms_lines,
)
from governance.models.registry import AISystem, Dataset, ModelVersion, TrainingObjectiveCard
from governance.thresholds import format_epsilon
from governance.web.views import DeleteView, ReadView, WriteFormView, row_or_404


class AISystemListView(ReadView):
    template_name = "governance/ai_system_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "systems": selectors.ai_systems_for(self.access)}


class AISystemDetailView(ReadView):
    template_name = "governance/ai_system_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        system = row_or_404(selectors.ai_systems_for(self.access), pk=kwargs["pk"])
        thresholds = [{**row, "epsilon_label": format_epsilon(row["epsilon"])} for row in system.robustness_thresholds]
        versions = selectors.model_versions_for(self.access).filter(ai_system=system) \
            .select_related("training_card")
        classification = getattr(system, "classification", None)
        missing = [QUESTIONS.get(key, key) for key in (classification.missing_answers if classification else [])]
        return {**super().get_context_data(**kwargs), "system": system, "thresholds": thresholds,
                "classification": classification, "missing_questions": missing, "versions": versions,
                "datasets": selectors.datasets_for(self.access).filter(ai_system=system),
                "risks": selectors.risks_for(self.access).filter(ai_system=system)}


class AISystemCreateView(WriteFormView[AISystemForm, AISystem]):
    form_class = AISystemForm
    title = "Register an AI system"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"organisation": self.access.organisation}

    def perform(self, form: AISystemForm) -> AISystem:
        return services.ai_system_create(organisation=self.access.organisation, actor=self.request.user,
                                         data=form.service_data())


class _SystemMixin:
    """Form pages of one AI system (`self.system`); the view class supplies `access` and `kwargs`."""

    access: AccessContext
    kwargs: dict[str, Any]
    system: AISystem

    def setup_objects(self) -> None:
        self.system = row_or_404(selectors.ai_systems_for(self.access), pk=self.kwargs["pk"])

    def cancel_url(self) -> str:
        return self.system.get_absolute_url()

    def subject(self) -> AISystem:
        return self.system


class AISystemEditView(_SystemMixin, WriteFormView[AISystemForm, AISystem]):
    form_class = AISystemForm
    title = "Edit AI system"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"organisation": self.access.organisation, "instance": self.system}

    def perform(self, form: AISystemForm) -> AISystem:
        system = AISystem.objects.get(pk=self.system.pk)  # the form may have touched its instance
        return services.ai_system_update(ai_system=system, actor=self.request.user, data=form.service_data())


class AISystemDeleteView(DeleteView[AISystem]):
    def get_row(self) -> AISystem:
        return row_or_404(selectors.ai_systems_for(self.access), pk=self.kwargs["pk"])

    def perform(self, row: AISystem) -> None:
        services.ai_system_delete(ai_system=row, actor=self.request.user)


class ClassificationView(_SystemMixin, WriteFormView[ClassificationForm, AISystem]):
    form_class = ClassificationForm
    template_name = "governance/classification_form.html"
    title = "EU AI Act classification"

    def initial(self) -> dict[str, Any]:
        existing = getattr(self.system, "classification", None)
        answers = dict(existing.answers) if existing else {}
        answers.setdefault("operator_roles", list(self.system.operator_roles or []))
        return answers

    def context(self, form: ClassificationForm) -> dict[str, Any]:
        return {**super().context(form), "system": self.system}

    def perform(self, form: ClassificationForm) -> AISystem:
        services.classification_record(ai_system=self.system, actor=self.request.user, answers=form.cleaned_data)
        return self.system


class ModelVersionCreateView(_SystemMixin, WriteFormView[ModelVersionForm, ModelVersion]):
    form_class = ModelVersionForm
    title = "Register a model version"
    multipart = True

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"ai_system": self.system}

    def perform(self, form: ModelVersionForm) -> ModelVersion:
        return services.model_version_create(ai_system=self.system, actor=self.request.user,
                                             data=form.service_data(), checkpoint=form.cleaned_data["checkpoint"])


class _VersionMixin:
    """Form pages of one model version (`self.version`); the view class supplies `access` and `kwargs`."""

    access: AccessContext
    kwargs: dict[str, Any]
    version: ModelVersion

    def setup_objects(self) -> None:
        self.version = row_or_404(selectors.model_versions_for(self.access), pk=self.kwargs["pk"])

    def cancel_url(self) -> str:
        return self.version.get_absolute_url()

    def subject(self) -> ModelVersion:
        return self.version


class ModelVersionDetailView(ReadView):
    template_name = "governance/model_version_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        version = row_or_404(selectors.model_versions_for(self.access), pk=kwargs["pk"])
        card = TrainingObjectiveCard.objects.filter(model_version=version).first()
        return {**super().get_context_data(**kwargs), "version": version, "card": card,
                "children": version.children.all()}


class ModelVersionEditView(_VersionMixin, WriteFormView[ModelVersionEditForm, ModelVersion]):
    form_class = ModelVersionEditForm
    title = "Edit model version"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"ai_system": self.version.ai_system}

    def initial(self) -> dict[str, Any]:
        return {"version": self.version.version, "class_names": "\n".join(self.version.class_names),
                "prompt_templates": "\n".join(self.version.prompt_templates), "parent": self.version.parent_id}

    def perform(self, form: ModelVersionEditForm) -> ModelVersion:
        return services.model_version_update(model_version=self.version, actor=self.request.user,
                                             data=form.service_data())


class ModelVersionDeleteView(DeleteView[ModelVersion]):
    def get_row(self) -> ModelVersion:
        return row_or_404(selectors.model_versions_for(self.access), pk=self.kwargs["pk"])

    def after_url(self, row: ModelVersion) -> str:
        return row.ai_system.get_absolute_url()

    def perform(self, row: ModelVersion) -> None:
        services.model_version_delete(model_version=row, actor=self.request.user)


class TrainingCardView(_VersionMixin, WriteFormView[TrainingCardForm, ModelVersion]):
    form_class = TrainingCardForm
    title = "Training-objective card"

    def initial(self) -> dict[str, Any]:
        card = TrainingObjectiveCard.objects.filter(model_version=self.version).first()
        if card is None:
            return {}
        return {"loss_terms": loss_terms_lines(card.loss_terms), **{
            name: getattr(card, name) for name in ("achieves_intended_outcome", "gaming_risks",
                                                   "tracks_real_world_metrics", "edge_case_treatment")}}

    def perform(self, form: TrainingCardForm) -> ModelVersion:
        services.training_card_save(model_version=self.version, actor=self.request.user, data=form.cleaned_data)
        return self.version


class DatasetListView(ReadView):
    template_name = "governance/dataset_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "datasets": selectors.datasets_for(self.access)}


class DatasetDetailView(ReadView):
    template_name = "governance/dataset_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs),
                "dataset": row_or_404(selectors.datasets_for(self.access), pk=kwargs["pk"])}


class DatasetCreateView(WriteFormView[DatasetForm, Dataset]):
    form_class = DatasetForm
    title = "Upload an evaluation dataset"
    multipart = True

    def cancel_url(self) -> str:
        return reverse("governance:dataset-list")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"organisation": self.access.organisation}

    def initial(self) -> dict[str, Any]:
        return {"ai_system": self.request.GET.get("ai_system")}

    def perform(self, form: DatasetForm) -> Dataset:
        data = form.cleaned_data
        return services.dataset_create(organisation=self.access.organisation, actor=self.request.user,
                                       name=data["name"], file=data["file"], ai_system=data["ai_system"],
                                       description=data["description"])


class DatasetDeleteView(DeleteView[Dataset]):
    next_url = "governance:dataset-list"

    def get_row(self) -> Dataset:
        return row_or_404(selectors.datasets_for(self.access), pk=self.kwargs["pk"])

    def perform(self, row: Dataset) -> None:
        services.dataset_delete(dataset=row, actor=self.request.user)
