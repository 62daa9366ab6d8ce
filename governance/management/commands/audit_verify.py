"""`manage.py audit_verify`: the same as `verify_audit_trail` (chains and anchored heads)."""

from governance.management.commands.verify_audit_trail import Command  # noqa: F401
