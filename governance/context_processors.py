from __future__ import annotations

from django.http import HttpRequest

from governance.access import access_context_get
from governance.models.tenancy import Membership
from governance.permissions import PERMISSIONS, Permission


def current_organisation(request: HttpRequest) -> dict[str, object]:
    """Templates see the organisation, the role, what the role may do, and the switcher list."""
    context = access_context_get(request) if hasattr(request, "user") else None
    if context is None:
        return {"access": None, "can": {}, "my_memberships": []}
    can = {action.value: context.role in PERMISSIONS[action] for action in Permission}
    memberships = Membership.objects.filter(user=context.membership.user).select_related("organisation")
    return {"access": context, "can": can, "my_memberships": memberships}
