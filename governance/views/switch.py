"""Governance web views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from governance.access import access_context_switch


@login_required
@require_POST
def organisation_switch(request: HttpRequest) -> HttpResponse:
    """Consultants (and anyone with several memberships) switch the organisation they work in."""
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        raise Http404("No such organisation") from None
    if access_context_switch(request, organisation_id=organisation_id) is None:
        raise Http404("No such organisation")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "dashboard"
    return redirect(target)
