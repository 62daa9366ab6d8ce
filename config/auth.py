"""Login with throttling: repeated failures for one user name from one address are refused."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def _key(request: HttpRequest) -> str:
    username = request.POST.get("username", "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "")
    return "login-failures:" + hashlib.sha256(f"{address}|{username}".encode()).hexdigest()


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view; after LOGIN_MAX_FAILURES failures the pair waits LOGIN_LOCKOUT_SECONDS."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = _key(request)
        if cache.get(key, 0) >= settings.LOGIN_MAX_FAILURES:
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            return TemplateResponse(request, self.template_name, {
                "form": self.get_form(), "throttled": True, "lockout_minutes": minutes}, status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            cache.delete(key)
        else:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        return response
