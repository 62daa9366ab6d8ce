"""Governance models: one module per area, re-exported here for Django and the services."""

from governance.models.audit import AuditEvent
from governance.models.tenancy import Membership, Organisation, Role, TenantModel

__all__ = ["AuditEvent", "Membership", "Organisation", "Role", "TenantModel"]
