"""Assessments REST endpoints at /api/v1/ (every one through governance.authz.OrganisationPermission)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from assessments.api.assessments import AssessmentViewSet, RequirementResultViewSet
from assessments.api.evidence import EvidenceVersionViewSet, EvidenceViewSet, VerifyViewSet
from assessments.api.reports import DashboardViewSet, ReportViewSet
from assessments.api.work import ActionViewSet, EngagementViewSet, FindingViewSet, PhaseViewSet


def register(router: DefaultRouter) -> None:
    """Assessments viewsets join the router here."""
    router.register("assessments", AssessmentViewSet, basename="assessment")
    router.register("requirement-results", RequirementResultViewSet, basename="requirement-result")
    router.register("evidence", EvidenceViewSet, basename="evidence")
    router.register("evidence-versions", EvidenceVersionViewSet, basename="evidence-version")
    router.register("findings", FindingViewSet, basename="finding")
    router.register("engagements", EngagementViewSet, basename="engagement")
    router.register("engagement-phases", PhaseViewSet, basename="engagement-phase")
    router.register("actions", ActionViewSet, basename="action")
    router.register("reports", ReportViewSet, basename="report")
    router.register("verify", VerifyViewSet, basename="verify")
    router.register("dashboard", DashboardViewSet, basename="dashboard")
