"""`{{ result|inferred_from }}`: the one sentence that says where an inferred result came from."""

from __future__ import annotations

from django import template

from assessments.models import RequirementResult
from assessments.services.inference import inferred_from_text

register = template.Library()


@register.filter(name="inferred_from")
def inferred_from(result: RequirementResult) -> str:
    return inferred_from_text(result)
