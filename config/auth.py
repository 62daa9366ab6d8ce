"""Login with throttling: one throttle for every password door (the site's login and the admin's).

There is no API password door: the API takes session cookies and tokens that an administrator
issues (``rest_framework.authtoken`` models only; no ``obtain_auth_token`` view is routed), so
nobody can guess passwords through it.

The design (docs/reliability.md, "Login throttle"): three counters of failed logins, each in the
shared cache with a fixed window that starts at its first failure.

* **Per client address** (``LOGIN_ADDRESS_MAX_FAILURES`` in ``LOGIN_ADDRESS_WINDOW_SECONDS``): a hard
  budget. Once spent, every login from that address is refused (429) until the window ends, whatever
  the user name. This caps password spraying with random or many names from one client.
* **Per (address, user name)** (``LOGIN_MAX_FAILURES`` in ``LOGIN_LOCKOUT_SECONDS``): one client may
  guess one name's password only so often. It is cleared when that client logs in as that name.
* **Per user name, from all addresses** (``LOGIN_USER_SOFT_LIMIT`` in ``LOGIN_LOCKOUT_SECONDS``): a soft
  limit. Past it the name is *not* locked: each address's allowance for the name drops from
  ``LOGIN_MAX_FAILURES`` to a single attempt. So a distributed guesser gets one guess per address,
  while the real user, from an address that has not failed for that name, can always try once and
  log in. Nobody elsewhere can lock a named account out.

The user name is normalised the way the account is (NFKC, as Django's ``UsernameField``), then
case-folded, so compatibility variants (``ｃonsultant``) and case variants share one counter. The
client address is ``REMOTE_ADDR`` unless ``TRUSTED_PROXY_COUNT`` proxies are configured: then it is
the entry that many places from the right of ``CLIENT_ADDRESS_HEADER`` (``X-Forwarded-For``), the
address the outermost trusted proxy saw. Counters are read-modify-write (not atomic), so concurrent
failures may be under-counted by a few; the limits are orders of magnitude below what guessing needs.
"""

from __future__ import annotations

import hashlib
import math
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache

# The throttle's clock (seconds since the epoch); tests freeze it with time-machine.
clock: Callable[[], float] = time.time

THROTTLED_MESSAGE = "Too many failed attempts. Try again in {minutes} minutes."


def normalise_username(raw: str) -> str:
    """The throttle's name for a login attempt: NFKC (as Django's UsernameField) then case-folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).strip().casefold())


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the outermost of TRUSTED_PROXY_COUNT trusted proxies saw."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get(settings.CLIENT_ADDRESS_HEADER, "").split(",") if hop.strip()]
    if len(hops) < count:
        return remote  # the request did not come through all the proxies: only the peer is known
    return hops[-count]


def _hashed(kind: str, *parts: str) -> str:
    return f"login-{kind}:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class _Counter:
    key: str
    window_s: int

    def read(self, now: float) -> tuple[int, float]:
        """(failures, end of the window); (0, now) when none are counted."""
        entry = cache.get(self.key)
        if not entry or entry[1] <= now:
            return 0, now
        return int(entry[0]), float(entry[1])

    def add(self, now: float) -> None:
        count, until = self.read(now)
        if count == 0:
            until = now + self.window_s
        cache.set(self.key, (count + 1, until), timeout=max(1, math.ceil(until - now)))

    def clear(self) -> None:
        cache.delete(self.key)


@dataclass(frozen=True)
class LoginThrottle:
    address: _Counter
    pair: _Counter
    user: _Counter

    @classmethod
    def for_request(cls, request: HttpRequest) -> LoginThrottle:
        name = normalise_username(request.POST.get("username", ""))
        address = client_address(request)
        return cls(address=_Counter(_hashed("address", address), settings.LOGIN_ADDRESS_WINDOW_SECONDS),
                   pair=_Counter(_hashed("pair", address, name), settings.LOGIN_LOCKOUT_SECONDS),
                   user=_Counter(_hashed("user", name), settings.LOGIN_LOCKOUT_SECONDS))

    def refused_until(self) -> float | None:
        """When this attempt may be made, if it must be refused now; None when it may go ahead."""
        now = clock()
        address_failures, address_until = self.address.read(now)
        if address_failures >= settings.LOGIN_ADDRESS_MAX_FAILURES:
            return address_until
        pair_failures, pair_until = self.pair.read(now)
        user_failures, _ = self.user.read(now)
        allowance = 1 if user_failures >= settings.LOGIN_USER_SOFT_LIMIT else settings.LOGIN_MAX_FAILURES
        if pair_failures >= allowance:
            return pair_until
        return None

    def failed(self) -> None:
        now = clock()
        for counter in (self.address, self.pair, self.user):
            counter.add(now)

    def succeeded(self) -> None:
        # Only this client's count for this name: the address budget and the name's count from
        # elsewhere are not reset by a login (an attacker's own account must not refill them).
        self.pair.clear()


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view behind the LoginThrottle (module docstring); refusals answer 429."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.throttle = LoginThrottle.for_request(request)
        until = self.throttle.refused_until()
        if until is not None:
            return self.throttled(request, until)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        self.throttle.succeeded()
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        if form.data.get("username") and form.data.get("password"):  # a blank field is no guess
            self.throttle.failed()
        return super().form_invalid(form)

    def throttled(self, request: HttpRequest, until: float) -> HttpResponse:
        minutes = max(1, math.ceil((until - clock()) / 60))
        form = self.get_form_class()(request)  # unbound: never authenticates
        message = THROTTLED_MESSAGE.format(minutes=minutes)
        # add_error() needs cleaned_data, which an unbound form lacks; django-stubs omit BaseForm._errors.
        errors = ErrorDict({"__all__": form.error_class([message], error_class="nonfield")})
        form._errors = errors  # type: ignore[attr-defined]
        context = self.get_context_data(form=form, throttled=True, lockout_minutes=minutes)
        return TemplateResponse(request, self.get_template_names(), context, status=429)


@never_cache
def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """``admin.site.login`` through the throttle: AdminSite.login's context, ThrottledLoginView's door."""
    from django.contrib.admin.forms import AdminAuthenticationForm

    site = admin.site
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    context = {**site.each_context(request), "title": "Log in", "subtitle": None,
               "app_path": request.get_full_path(), "username": request.user.get_username()}
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=site.name)
    context.update(extra_context or {})
    request.current_app = site.name
    view = ThrottledLoginView.as_view(extra_context=context,
                                      authentication_form=site.login_form or AdminAuthenticationForm,
                                      template_name=site.login_template or "admin/login.html")
    return cast(HttpResponse, view(request))  # a LoginView answers a page or a redirect, both HttpResponses
