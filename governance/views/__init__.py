"""Governance web views, one module per area."""

from governance.views.switch import organisation_switch

__all__ = ["organisation_switch"]
