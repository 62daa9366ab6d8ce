"""Governance web views, one module per area."""
