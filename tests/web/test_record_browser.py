"""The hearing's record in Debian's Chromium: a hearing conducted through the
product, then its record on screen and as it prints, in Danish, axe-clean."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hearing.services import Services
from tests.browser import LiveServer, assert_accessible, screenshot, sign_in
from tests.conftest import Court_
from tests.web.test_record_page import conduct

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def test_the_record_on_screen_and_in_print(
    browser,
    live_server: LiveServer,
    client: TestClient,
    services: Services,
    court: Court_,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h = conduct(client, services, court, monkeypatch)
    context = browser.new_context(locale="da-DK", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "judge", court.secrets["judge"])
    page.goto(f"{live_server.url}/hearings/{h}")
    page.get_by_role("link", name="Retsmødets forløb").click()
    page.wait_for_url(f"{live_server.url}/hearings/{h}/record")
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.get_by_role("heading", level=1).inner_text() == "Retsbog: retsmødets forløb"
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert headings[:3] == ["Retsmødet", "Adgang og forbindelser", "Ordet"] and headings[-1] == "Hele forløbet"
    consultation = page.locator("section[aria-labelledby=record-consultation] table tbody tr")
    assert consultation.count() == 1
    gap = page.locator("section[aria-labelledby=record-interruption] table tbody tr").inner_text()
    assert "Forbindelsen til arresten afbrudt" in gap
    screenshot(page, "record-da")
    assert_accessible(page)

    page.emulate_media(media="print")
    # Print: no navigation, black on white, each section from a new page.
    assert page.locator("header.bar").is_hidden()
    assert page.locator("body").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    assert page.locator("ol.record-events li").first.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
    section = page.locator("section.record-section").first
    assert section.evaluate("e => getComputedStyle(e).breakBefore") == "page"
    screenshot(page, "record-da-print")
    assert errors == []
    context.close()
