"""Governance REST endpoints, registered on the API router by config/api.py."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from governance.api.management import (
    ApplicabilityDecisionViewSet,
    AuditEventViewSet,
    ControlViewSet,
    CrosswalkViewSet,
    FrameworkViewSet,
    MembershipViewSet,
    RequirementViewSet,
    RiskViewSet,
)
from governance.api.registry import AISystemViewSet, DatasetViewSet, ModelVersionViewSet

ROUTES = [
    ("ai-systems", AISystemViewSet, "ai-system"),
    ("model-versions", ModelVersionViewSet, "model-version"),
    ("datasets", DatasetViewSet, "dataset"),
    ("frameworks", FrameworkViewSet, "framework"),
    ("requirements", RequirementViewSet, "requirement"),
    ("crosswalks", CrosswalkViewSet, "crosswalk"),
    ("applicability-decisions", ApplicabilityDecisionViewSet, "applicability-decision"),
    ("controls", ControlViewSet, "control"),
    ("risks", RiskViewSet, "risk"),
    ("memberships", MembershipViewSet, "membership"),
    ("audit-events", AuditEventViewSet, "audit-event"),
]


def register(router: DefaultRouter) -> None:
    """Governance viewsets join the router here."""
    for prefix, viewset, basename in ROUTES:
        router.register(prefix, viewset, basename=basename)
