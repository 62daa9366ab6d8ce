"""Request forms: what a person chooses; the services check it again and freeze it."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from governance.models.registry import AISystem, Dataset, ModelVersion, ValidationStatus
from governance.thresholds import parse_epsilon
from robustness.services.loading import ATTACK_PRESETS, BUILTIN_DATASETS, retraining_methods

BUILTIN_CHOICES = [("", "— an uploaded dataset —"), *BUILTIN_DATASETS.items()]


def epsilons_parse(text: str) -> list[float]:
    """"1/255, 4/255" or "0.0039" → fractions of the [0, 1] range."""
    try:
        return [parse_epsilon(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise forms.ValidationError(f"Write each ε as k/255 or a fraction, separated by commas ({error}).") from None


class RunRequestForm(forms.Form):
    """What every kind of run asks for: a model version of the system; `config()` is the run's settings."""

    model_version = forms.ModelChoiceField(queryset=ModelVersion.objects.none())

    def __init__(self, *args: Any, ai_system: AISystem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["model_version"]).queryset = ModelVersion.objects.filter(
            ai_system=ai_system).exclude(status=ValidationStatus.INVALID)
        for name in ("dataset", "training_dataset"):
            if name in self.fields:
                cast(forms.ModelChoiceField, self.fields[name]).queryset = Dataset.objects.filter(
                    organisation=ai_system.organisation).exclude(status=ValidationStatus.INVALID)

    def config(self) -> dict[str, Any]:
        raise NotImplementedError


class EvaluationRequestForm(RunRequestForm):
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), required=False)
    builtin_dataset = forms.ChoiceField(choices=BUILTIN_CHOICES, required=False, initial="synthetic-held-out",
                                        label="Built-in dataset")
    attacks = forms.MultipleChoiceField(choices=[(name, name) for name in ATTACK_PRESETS], initial=["screen-pgd10"],
                                        widget=forms.CheckboxSelectMultiple)
    epsilons = forms.CharField(initial="1/255, 2/255, 4/255", help_text="L∞ radii, e.g. 1/255, 4/255.")
    n_examples = forms.IntegerField(min_value=1, max_value=100_000, initial=200, label="Examples")
    batch_size = forms.IntegerField(min_value=1, max_value=4096, initial=32)
    seed = forms.IntegerField(min_value=0, initial=0)
    shards = forms.IntegerField(min_value=1, max_value=64, initial=1, help_text="Split over several workers.")

    def clean_epsilons(self) -> list[float]:
        return epsilons_parse(self.cleaned_data["epsilons"])

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {key: data[key] for key in ("builtin_dataset", "attacks", "epsilons", "n_examples", "batch_size",
                                           "seed")}


class AnchorAnalysisRequestForm(RunRequestForm):
    train_class_names = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                        help_text="One per line; empty: the model version's classes.")
    target_class_names = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                         help_text="New classes to apply the expansion to (optional), one per line.")

    def config(self) -> dict[str, Any]:
        lines = lambda text: [line.strip() for line in text.splitlines() if line.strip()]  # noqa: E731
        return {"train_class_names": lines(self.cleaned_data["train_class_names"]),
                "target_class_names": lines(self.cleaned_data["target_class_names"])}


class RetrainingRequestForm(RunRequestForm):
    method = forms.ChoiceField(choices=lambda: [(m, m) for m in retraining_methods()], initial="alignment-ce")
    training_dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), required=False)
    builtin_dataset = forms.ChoiceField(choices=BUILTIN_CHOICES, required=False, initial="synthetic-train",
                                        label="Built-in training data")
    steps = forms.IntegerField(min_value=1, max_value=1_000_000, initial=100)
    eps = forms.CharField(initial="4/255", label="ε (training)")
    lr = forms.FloatField(min_value=1e-8, max_value=1.0, initial=2e-4, label="Learning rate")
    batch_size = forms.IntegerField(min_value=1, max_value=4096, initial=32)
    checkpoint_every = forms.IntegerField(min_value=1, initial=10, help_text="Steps between resumable checkpoints.")
    seed = forms.IntegerField(min_value=0, initial=0)

    def clean_eps(self) -> float:
        values = epsilons_parse(self.cleaned_data["eps"])
        if len(values) != 1:
            raise forms.ValidationError("Give one ε.")
        return values[0]

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {key: data[key] for key in ("method", "builtin_dataset", "steps", "eps", "lr", "batch_size",
                                           "checkpoint_every", "seed")}
