"""Playwright on Debian's Chromium (installed by `make test`); no browser download ever."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "test-output" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the Django ORM calls made by
    # the test itself between page actions are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def aborted_by_the_browser(request: Request) -> bool:
    """A request the browser itself cancelled: the page navigated (its reload when a run finishes,
    say) while an image or script was still loading, or a download went to the download manager.
    Nothing failed on the server; an answer of 4xx/5xx is reported as a response or console error."""
    return request.failure == "net::ERR_ABORTED"


class ConsoleWatch:
    """Collect console errors and failed requests: a page that logs one fails its test.

    `expected` names console errors that are not failures (a journey's announced refusals)."""

    def __init__(self, page: Page, *, expected: Callable[[ConsoleMessage], bool] = lambda message: False) -> None:
        self.errors: list[str] = []
        self.expected = expected
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("requestfailed", self._request_failed)

    def _request_failed(self, request: Request) -> None:
        if not aborted_by_the_browser(request):
            self.errors.append(f"request failed: {request.url} ({request.failure})")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not self.expected(message):
            self.errors.append(f"console: {message.text} ({message.location.get('url', '')})")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
