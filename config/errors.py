"""A full disk is the machine's fault, not the request's: answered 507 with its reason, never a bare 500.

The upload that hit it was written whole or not at all (`config.storages`), and the view's
transaction rolled back, so the answer can say that nothing was saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from governance.oserrors import is_disk_full

logger = logging.getLogger(__name__)
DISK_FULL_MESSAGE = ("The server's storage is full (no space left on the device): nothing you sent was saved. "
                     "Ask your administrator to free space, then send it again.")


class DiskFullMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_disk_full(exception):
            return None
        logger.error("%s %s: the disk is full (%s)", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": DISK_FULL_MESSAGE}, status=507)
        return render(request, "507.html", {"message": DISK_FULL_MESSAGE}, status=507)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The product's 400 page (`handler400`), naming the reason when our code raised `BadRequest`.

    Only `BadRequest` messages are shown: they are ours ("framework must be a whole number …").
    A `SuspiciousOperation` (a bad Host header, a tampered session) keeps the generic text.
    """
    reason = str(exception) if type(exception) is BadRequest else ""
    return render(request, "400.html", {"reason": reason}, status=400)
