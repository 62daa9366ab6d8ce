"""A person logs in with a real browser and sees the dashboard shell."""

from __future__ import annotations

import pytest

from tests.browser import ConsoleWatch, chromium, screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_risk_officer_logs_in_and_sees_the_dashboard_shell(live_server, acme):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        watch = ConsoleWatch(page)
        page.goto(f"{live_server.url}/")
        assert "/accounts/login/" in page.url, "anonymous visitors are sent to log in"
        screenshot(page, "shell-01-login")
        page.fill("#id_username", "oscar")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("h1")
        assert page.url == f"{live_server.url}/"
        assert page.inner_text("h1") == "Control-evidence dashboard"
        assert page.inner_text(".session .role") == "Risk officer"
        assert "Acme Robotics" in page.inner_text(".session")
        shot = screenshot(page, "shell-02-dashboard")
        assert shot.stat().st_size > 5_000
        page.click("text=Log out")
        page.wait_for_url("**/accounts/login/")
        assert watch.errors == []


def test_api_docs_render_offline_under_the_content_security_policy(live_server, acme):
    with chromium() as browser:
        page = browser.new_page()
        watch = ConsoleWatch(page)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "audrey")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
        assert "Anchorage API" in page.inner_text(".swagger-ui .info .title")
        screenshot(page, "shell-03-api-docs")
        assert watch.errors == []
