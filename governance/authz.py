"""The one place where views and API endpoints decide access (the table in docs/architecture.md).

Web views use `OrganisationAccessMixin`, API views `OrganisationPermission`. Both resolve the
request's `AccessContext` and check one `Permission`: reads need `Permission.READ`; writes need the
view's `write_action` (or the per-verb `required_actions`). Anonymous users are sent to log in;
a non-member gets 404 so that nothing hints an object exists; a member whose role may not do
the action gets 403. Querysets are always filtered to the context's organisation.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from rest_framework import exceptions as api_exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from governance.access import AccessContext, access_context_get
from governance.permissions import Permission


def required_action_for(method: str, *, write_action: Permission | None,
                        required_actions: dict[str, Permission] | None) -> Permission | None:
    if required_actions and method in required_actions:
        return required_actions[method]
    if method in SAFE_METHODS:
        return Permission.READ
    return write_action


class OrganisationAccessMixin(LoginRequiredMixin):
    """Web views: `self.access` is the caller's context once `dispatch` has let them in."""

    write_action: Permission | None = None
    required_actions: dict[str, Permission] | None = None
    access: AccessContext

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        context = access_context_get(request)
        if context is None:
            raise Http404("No organisation")
        action = required_action_for(request.method or "GET", write_action=self.write_action,
                                     required_actions=self.required_actions)
        if action is None or not context.can(action):
            raise PermissionDenied(f"Your role ({context.membership.get_role_display()}) may not do this.")
        self.access = context
        return super().dispatch(request, *args, **kwargs)


class OrganisationPermission(BasePermission):
    """API views: the same rule. Set `write_action` or `required_actions` on the view."""

    message = "Your role in this organisation may not do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise api_exceptions.NotAuthenticated()
        context = access_context_get(request._request)
        if context is None:
            raise api_exceptions.NotFound("No organisation: send X-Organisation with a slug you belong to.")
        action = required_action_for(
            request.method or "GET",
            write_action=getattr(view, "write_action", None),
            required_actions=getattr(view, "required_actions", None),
        )
        request.access = context  # type: ignore[attr-defined]  # DRF Request does not declare it
        return action is not None and context.can(action)


def access_of(request: HttpRequest | Request) -> AccessContext:
    """The context a permission check already resolved (never None after it)."""
    raw = request._request if isinstance(request, Request) else request
    context = access_context_get(raw)
    if context is None:
        raise PermissionDenied("No organisation")
    return context
