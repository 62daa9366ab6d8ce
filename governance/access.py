"""Who is asking, in which organisation, with which role: resolved once per request.

The organisation comes from the `X-Organisation` header (API clients; the organisation's
slug), else from the session (the web UI's organisation switcher), else from the user's only
membership. A user who is not a member of it gets no context, and views answer 404 or a login
redirect, never a hint that the object exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from governance.models.tenancy import Membership, Organisation
from governance.permissions import Permission, role_allows

SESSION_KEY = "organisation_id"
HEADER = "HTTP_X_ORGANISATION"


@dataclass(frozen=True)
class AccessContext:
    membership: Membership

    @property
    def organisation(self) -> Organisation:
        return self.membership.organisation

    @property
    def role(self) -> str:
        return self.membership.role

    def can(self, action: Permission) -> bool:
        return role_allows(self.role, action)


def signed_in_user(request: HttpRequest) -> User | None:
    """The signed-in user; None for an anonymous visitor."""
    return request.user if isinstance(request.user, User) else None


def _memberships(request: HttpRequest) -> QuerySet[Membership]:
    """The signed-in user's memberships; none for an anonymous visitor."""
    user = signed_in_user(request)
    return Membership.objects.select_related("organisation", "user").filter(user=user)


def access_context_get(request: HttpRequest) -> AccessContext | None:
    if hasattr(request, "_access_context"):  # resolved once per request
        return request._access_context
    context = _resolve(request) if request.user.is_authenticated else None
    request._access_context = context  # type: ignore[attr-defined]  # a per-request cache HttpRequest does not declare
    return context


def _resolve(request: HttpRequest) -> AccessContext | None:
    memberships = _memberships(request)
    slug = request.META.get(HEADER)
    if slug:
        membership = memberships.filter(organisation__slug=slug).first()
        return AccessContext(membership) if membership else None
    organisation_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if organisation_id is not None:
        membership = memberships.filter(organisation_id=organisation_id).first()
        if membership:
            return AccessContext(membership)
    first = memberships.order_by("organisation__name").first()
    return AccessContext(first) if first else None


def access_context_switch(request: HttpRequest, *, organisation_id: int) -> AccessContext | None:
    """Switch the session to another organisation the user belongs to (consultants)."""
    membership = _memberships(request).filter(organisation_id=organisation_id).first()
    if membership is None:
        return None
    request.session[SESSION_KEY] = membership.organisation_id
    request._access_context = AccessContext(membership)  # type: ignore[attr-defined]  # the per-request cache
    return request._access_context  # type: ignore[attr-defined]  # the per-request cache
