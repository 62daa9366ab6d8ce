"""The shared base of governance viewsets: authz, organisation scoping, service errors as 400."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.viewsets import GenericViewSet

from governance.access import AccessContext
from governance.authz import OrganisationPermission, access_of
from governance.permissions import Permission

T = TypeVar("T")


def service_call(function: Callable[..., T], **kwargs: Any) -> T:
    """Run a service; its ValidationError becomes the API's 400 with the same message."""
    try:
        return function(**kwargs)
    except DjangoValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
        raise serializers.ValidationError(detail) from None


class OrganisationViewSet(GenericViewSet):
    """Every governance endpoint: `OrganisationPermission` decides, querysets follow the context.

    Extra actions take `**kwargs`: DRF passes `format="json"` to the handler of a `….json` URL.
    """

    permission_classes = [OrganisationPermission]
    write_action: Permission | None = Permission.EDIT_REGISTRY
    required_actions: dict[str, Permission] | None = None  # per-verb overrides; extra actions set their own

    @property
    def access(self) -> AccessContext:
        return access_of(self.request)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular builds the schema without a caller
            return self.queryset
        return self.scoped_queryset()

    def scoped_queryset(self) -> Any:
        """The caller's rows: always filtered to the context's organisation (or global catalogs)."""
        raise NotImplementedError
