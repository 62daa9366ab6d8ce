"""Widgets every app's forms share."""

from __future__ import annotations

from django import forms

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the browser's date input reads ISO only
TEXTAREA = forms.Textarea(attrs={"rows": 3})
