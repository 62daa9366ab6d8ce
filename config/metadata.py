"""OPTIONS answers for the API (DRF metadata)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request, clone_request

if TYPE_CHECKING:  # rest_framework.views imports the metadata class itself
    from rest_framework.views import APIView


class AnchorageMetadata(SimpleMetadata):
    """DRF's metadata, except that a collection-level PUT (a route such as /risks/matrix/ that
    names no object) describes its serializer without trying to look an object up."""

    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if not hasattr(view, "get_object") or lookup in getattr(view, "kwargs", {}):
            return super().determine_actions(request, view)
        actions: dict[str, Any] = {}
        for method in {"PUT", "POST"} & set(view.allowed_methods):
            view.request = clone_request(request, method)
            try:
                view.check_permissions(view.request)
            except (APIException, PermissionDenied, Http404):
                continue
            else:
                actions[method] = self.get_serializer_info(view.get_serializer())
            finally:
                view.request = request
        return actions
