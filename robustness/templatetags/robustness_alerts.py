"""`{% load robustness_alerts %}{% robustness_alerts %}`: the dashboard's robustness alerts.

A template tag rather than a Python import, so that the dashboard (assessments) shows
regressions and failed thresholds without that app importing this one.
"""

from __future__ import annotations

from typing import Any

from django import template

from robustness.selectors import alerts_open

register = template.Library()


@register.inclusion_tag("robustness/_alerts.html", takes_context=True)
def robustness_alerts(context: template.Context) -> dict[str, Any]:
    access = context.get("access")
    return {"alerts": alerts_open(access.organisation) if access else []}
