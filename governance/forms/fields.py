"""Pick-lists every app's forms narrow to the caller's organisation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet


def choices_limit(form: forms.BaseForm, queryset: QuerySet[Any], *names: str) -> None:
    """Offer only `queryset`'s rows in the form's model-choice fields `names`."""
    for name in names:
        field = form.fields[name]
        if not isinstance(field, forms.ModelChoiceField):
            raise TypeError(f"{type(form).__name__}.{name} is not a model-choice field")
        field.queryset = queryset
