"""Robustness REST endpoints at /api/v1/robustness/..., registered on the API router by config/api.py."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from robustness.api.runs import AnchorAnalysisViewSet, EvaluationRunViewSet, RetrainingRunViewSet


def register(router: DefaultRouter) -> None:
    """Robustness viewsets join the router here."""
    router.register("robustness/evaluations", EvaluationRunViewSet, basename="robustness-evaluation")
    router.register("robustness/anchor-analyses", AnchorAnalysisViewSet, basename="robustness-anchor-analysis")
    router.register("robustness/retraining-runs", RetrainingRunViewSet, basename="robustness-retraining")
