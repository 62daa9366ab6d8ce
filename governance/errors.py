"""The refusals a service raises, and the HTTP answer each one means (`governance.web.api`).

They are `ValidationError`s, so a form shows them on its fields and a page as a message; the API
answers 400, 409 for a `ConflictError` and 403 for a `NotPermittedError`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """Bad input or a forbidden state change; views answer 400."""


class ConflictError(ServiceError):
    """The object's state forbids the change (already done, machine-made, …); the API answers 409."""


class NotPermittedError(ServiceError):
    """The actor's role may not do this (checked through `governance.permissions`); the API answers 403."""
