"""The auditor reads the system's events in Danish in Debian's Chromium:
failed sign-ins made through the real sign-in page, filtered by action,
actor and day."""

from __future__ import annotations

from datetime import datetime

import pytest

from hearing.services import Services
from tests.browser import LiveServer, screenshot
from tests.conftest import PASSWORD, Court_, current_code, logged

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def attempt(page, live_server: LiveServer, username: str, code: str) -> None:
    page.goto(f"{live_server.url}/signin")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#code").fill(code)
    page.get_by_role("button", name="Log ind").click()


def test_auditor_filters_the_system_events_in_danish(
    browser, live_server: LiveServer, services: Services, court: Court_
) -> None:
    # Two failed sign-ins on the real page: a wrong code, and a name nobody has.
    stranger = browser.new_context(locale="da-DK")
    page = stranger.new_page()
    for username in ("judge", "mallory"):
        attempt(page, live_server, username, "000000")
        page.get_by_role("alert").wait_for()
    stranger.close()
    assert [e.action for e in logged(services)].count("user.sign_in_failed") == 2

    context = browser.new_context(locale="da-DK", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    # The sign-in page in Danish (tests.browser.sign_in knows the English labels).
    attempt(page, live_server, "auditor", current_code(court.secrets["auditor"]))
    page.wait_for_url(lambda url: "/signin" not in url)
    page.goto(f"{live_server.url}/audit")
    page.get_by_role("link", name="Systemhændelser: login, afvisninger, enheder og konti").click()
    page.wait_for_url(f"{live_server.url}/audit/system")
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.get_by_role("heading", level=1).inner_text() == "Systemhændelser"
    everything = page.locator("ol.audit li").all_inner_texts()
    assert any(item.endswith("Auditor (revisor) loggede ind") for item in everything), everything

    today = datetime.now(live_server.settings.timezone).date().isoformat()
    page.get_by_label("Fra (dato)").fill(today)
    page.get_by_label("Til og med (dato)").fill(today)
    page.get_by_label("Handling").select_option("user.sign_in_failed")
    page.get_by_label("Aktør").fill("judge")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**/audit/system?*action=user.sign_in_failed*")
    items = page.locator("ol.audit li").all_inner_texts()
    assert len(items) == 1
    assert items[0].endswith("Judge (dommer) kunne ikke logge ind som judge (forkert engangskode)")
    # The form keeps what was asked.
    assert page.get_by_label("Aktør").input_value() == "judge"
    assert page.get_by_label("Handling").input_value() == "user.sign_in_failed"
    screenshot(page, "audit-system-da")

    page.get_by_label("Aktør").fill("anonymous")
    page.get_by_role("button", name="Vis").click()
    page.wait_for_url("**actor=anonymous*")
    items = page.locator("ol.audit li").all_inner_texts()
    assert len(items) == 1 and "mallory" in items[0]
    assert errors == []  # no CSP violations or script errors
    # Each filtered reading is in the log.
    readings = [e for e in logged(services) if e.action == "audit.system_read"]
    assert [r.payload and r.payload["filters"].get("actor") for r in readings] == [None, "judge", "anonymous"]
    context.close()
