"""Request forms: what a person chooses; the services check it again and freeze it."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from governance.models.registry import AISystem, Dataset, ModelVersion, ValidationStatus
from governance.thresholds import parse_epsilon
from robustness.services.loading import (
    ATTACK_PRESET_CHOICES,
    BUILTIN_DATASETS,
    retraining_methods,
    retraining_presets,
)

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
    attacks = forms.MultipleChoiceField(choices=ATTACK_PRESET_CHOICES, initial=["screen-pgd10"],
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


def _optional(field: forms.Field, help_text: str) -> forms.Field:
    field.required = False
    field.help_text = help_text
    return field


class RetrainingRequestForm(RunRequestForm):
    """A paper's preset, and any hyperparameter set by hand; an empty field keeps the preset's value (the
    platform's default without a preset). The service validates the whole setting once more."""

    preset = forms.ChoiceField(choices=lambda: [("", "— no preset: the platform's defaults —"),
                                                *((name, f"{name}: {text}") for name, text in retraining_presets())],
                               required=False)
    method = forms.ChoiceField(choices=lambda: [("", "— the preset's (alignment-ce without one) —"),
                                                *((m, m) for m in retraining_methods())], required=False)
    training_dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), required=False)
    builtin_dataset = forms.ChoiceField(choices=BUILTIN_CHOICES, required=False, initial="synthetic-train",
                                        label="Built-in training data")
    steps = _optional(forms.IntegerField(min_value=1, max_value=10_000_000), "Empty: the preset's (100 without one).")
    eps = _optional(forms.CharField(label="ε (training)"), "k/255 or a fraction. Empty: the preset's (4/255).")
    lr = _optional(forms.FloatField(min_value=1e-9, max_value=10.0, label="Learning rate"),
                   "Empty: the preset's (2e-4).")
    optimizer = forms.ChoiceField(choices=[("", "— the preset's —"), ("sgd", "SGD"), ("adamw", "AdamW")],
                                  required=False)
    momentum = _optional(forms.FloatField(min_value=0.0, max_value=0.999999), "SGD momentum in [0, 1).")
    weight_decay = _optional(forms.FloatField(min_value=0.0, max_value=1.0), "In [0, 1].")
    batch_size = _optional(forms.IntegerField(min_value=1, max_value=4096), "Empty: the preset's (32).")
    warmup_steps = _optional(forms.IntegerField(min_value=0, max_value=10_000_000),
                             "Linear warm-up steps. Empty: the preset's (a tenth of the steps).")
    schedule = forms.ChoiceField(choices=[("", "— the preset's —"), ("warmup-cosine", "warm-up + cosine"),
                                          ("step", "warm-up, then ×0.1 at 60 %")], required=False)
    attack_steps = _optional(forms.IntegerField(min_value=1, max_value=1000, label="Inner PGD steps"),
                             "Empty: the preset's (2).")
    attack_step_size = _optional(forms.CharField(label="Inner PGD step α"), "k/255 or a fraction. Empty: ε/2.")
    scale = _optional(forms.FloatField(min_value=1e-6, max_value=1000.0, label="Logit scale"),
                      "The loss's logit scale (1/τ). Empty: the method's (100; AGFT 180).")
    ratio = _optional(forms.FloatField(min_value=1e-6, max_value=1.0, label="AGFT teacher ratio r"), "In (0, 1].")
    consistency_weight = _optional(forms.FloatField(min_value=0.0, max_value=100.0, label="Consistency weight β"),
                                   "Alignment CE's clean/adversarial consistency weight.")
    expand_anchors = forms.ChoiceField(choices=[("", "— the preset's (yes) —"), ("yes", "yes"), ("no", "no")],
                                       required=False, label="Expand the anchors (alignment CE)")
    checkpoint_every = _optional(forms.IntegerField(min_value=1), "Steps between resumable checkpoints (10).")
    seed = _optional(forms.IntegerField(min_value=0), "Empty: 0.")

    def clean_eps(self) -> float | None:
        return self._one_fraction("eps")

    def clean_attack_step_size(self) -> float | None:
        return self._one_fraction("attack_step_size")

    def _one_fraction(self, name: str) -> float | None:
        text = self.cleaned_data[name]
        if not text:
            return None
        values = epsilons_parse(text)
        if len(values) != 1:
            raise forms.ValidationError("Give one value.")
        return values[0]

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        settings = {key: data[key] for key in ("preset", "method", "builtin_dataset", "steps", "eps", "lr", "optimizer",
                                               "momentum", "weight_decay", "batch_size", "warmup_steps", "schedule",
                                               "attack_steps", "attack_step_size", "scale", "ratio",
                                               "consistency_weight", "checkpoint_every", "seed")
                    if data.get(key) not in (None, "")}
        if data.get("expand_anchors"):
            settings["expand_anchors"] = data["expand_anchors"] == "yes"
        return settings
