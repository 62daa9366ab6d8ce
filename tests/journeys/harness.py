"""A user's journey through the product in Chromium: one page, a screenshot per step, and a watch
that fails the journey on any console error, page error or failed request it did not expect."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connections
from playwright.sync_api import Browser, ConsoleMessage, Page, Response

from tests.browser import ConsoleWatch
from tests.conftest import PASSWORD

JOURNEYS = Path(__file__).resolve().parents[2] / "var" / "test-output" / "journeys"
# Chromium reports every 4xx/5xx answer a second time as a console error with this text.
RESOURCE_ERROR = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")


@dataclass
class Refusal:
    """An answer the journey expects to fail (an auditor's write, say), and whether it came."""

    status: int
    path: str
    seen: int = 0


@dataclass
class Journey:
    """One person's way through the product. `step()` screenshots; `problems` collects what went wrong."""

    page: Page
    base_url: str
    name: str
    problems: list[str] = field(init=False)  # the page's ConsoleWatch errors, then unexpected answers
    refusals: list[Refusal] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.problems = ConsoleWatch(self.page, expected=self._expected_console).errors
        self.page.on("response", self._response)

    # -- what the browser reports ------------------------------------------------------------------
    def _expected(self, status: int, url: str) -> Refusal | None:
        path = url.removeprefix(self.base_url).split("?", 1)[0]
        return next((r for r in self.refusals if r.status == status and r.path == path), None)

    def _expected_console(self, message: ConsoleMessage) -> bool:
        match = RESOURCE_ERROR.match(message.text)
        return bool(match and self._expected(int(match.group(1)), message.location.get("url", "")))

    def _response(self, response: Response) -> None:
        if response.status < 400:
            return
        refusal = self._expected(response.status, response.url)
        if refusal is not None:
            refusal.seen += 1
            return
        self.problems.append(f"unexpected {response.status}: {response.request.method} {response.url}")

    # -- what the journey does ---------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> Response | None:
        return self.page.goto(self.url(path))

    def login(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("text=Log out")

    def step(self, label: str) -> Path:
        """A full-page screenshot named <journey>-<nn>-<label>.png; also asserts nothing went wrong so far."""
        JOURNEYS.mkdir(parents=True, exist_ok=True)
        path = JOURNEYS / f"{self.name}-{len(self.screenshots) + 1:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.screenshots.append(path)
        assert self.problems == [], f"{self.name}, before step {label!r}: {self.problems}"
        return path

    @contextlib.contextmanager
    def expect_refusal(self, status: int, path: str) -> Iterator[Refusal]:
        """Within the block, answers of `status` for `path` are expected; at its end, one must have come."""
        refusal = Refusal(status, path)
        self.refusals.append(refusal)
        yield refusal
        assert refusal.seen, f"expected {status} from {path}; it never came"

    def finish(self) -> None:
        assert self.problems == [], f"{self.name}: {self.problems}"
        assert all(shot.stat().st_size > 5_000 for shot in self.screenshots), "a blank screenshot"


@contextlib.contextmanager
def journey(browser: Browser, base_url: str, name: str) -> Iterator[Journey]:
    """A fresh browser context (own cookies) for one person; its screenshots start from a clean slate.

    ORM calls the test makes between page actions run beside Playwright's event loop, so asgiref
    gives them database connections of their own that pytest-django never closes: they are closed
    here, or PostgreSQL refuses to drop the test database ("being accessed by other users").
    """
    for old in JOURNEYS.glob(f"{name}-*.png"):
        old.unlink()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    try:
        yield Journey(context.new_page(), base_url.rstrip("/"), name)
    finally:
        context.close()
        connections.close_all()
