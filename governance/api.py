"""Governance REST endpoints, registered on the API router by config/api.py."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter


def register(router: DefaultRouter) -> None:
    """Governance viewsets join the router here."""
