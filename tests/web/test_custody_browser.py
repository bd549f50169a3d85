"""The custody officer's console in Debian's Chromium: the officer signs in
(Danish by default), sees the facility's day, assigns the room, checks the
detainee in as ready; the judge's hearing page (a second context) shows
"ready" without a reload. Screenshots console-da, console-en and
hearing-check-in; axe-core finds nothing; three hearings fit 1366×768."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from tests.browser import LiveServer, assert_accessible, screenshot, sign_in
from tests.conftest import Court_, add_hearing, enroll_device, open_hearing
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

SCREEN = {"width": 1366, "height": 768}
FITS = "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"


class Kiosk:
    """The room's kiosk page, as its channel in EndpointPresence (the kiosk's
    own socket is the kiosk part's; the lead tests the joined flow)."""

    def __init__(self) -> None:
        self.told: list[dict[str, Any]] = []

    def deliver(self, message: dict[str, Any]) -> None:
        self.told.append(message)

    def dismiss(self, reason: str) -> None:
        pass


def two_more_hearings(services: Services, court: Court_, tz: Any) -> None:
    """Two more of facility A's hearings today (court-local), in the other courtroom."""
    today = datetime.now(UTC).astimezone(tz).date()
    morning = datetime.combine(today, time(0, 5), tzinfo=tz).astimezone(UTC)
    services.unit_of_work(
        lambda db: [
            add_hearing(db, court.courtroom_b, court.facility_a, morning + timedelta(minutes=40 * i), case=case)
            for i, case in enumerate(("SS 2-300/2026", "SS 3-400/2026"))
        ]
    )


@pytest.mark.timeout(120)
def test_the_officer_checks_the_detainee_in_and_the_judge_sees_ready(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    h = court.hearing_a
    two_more_hearings(services, court, live_server.settings.timezone)
    kiosk_id = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    enroll_device(services, "kiosk-a2", EndpointKind.CUSTODY, "Facility A")
    open_hearing(services, h, HearingState.OPEN)
    kiosk = Kiosk()
    live_server.app.state.endpoint_presence.connected(kiosk_id, kiosk)

    officer = browser.new_context(locale="da-DK", viewport=SCREEN).new_page()
    sign_in(officer, live_server, "custody-officer", court.secrets["custody_officer"])
    officer.wait_for_url(f"{live_server.url}/custody")  # the officer's home is the console
    assert officer.evaluate("document.documentElement.lang") == "da"
    cards = officer.locator("[data-desk-hearing]")
    assert cards.count() == 3
    card = officer.locator(f"[data-desk-hearing='{h}']")
    assert "Test Detainee" in card.inner_text() and "REF-1" in card.inner_text()

    judge = browser.new_context(locale="en-GB").new_page()
    sign_in(judge, live_server, "judge", court.secrets["judge"])
    judge.goto(f"{live_server.url}/hearings/{h}")
    judge.locator("[data-panel]").get_by_role("status").filter(has_text="Live").wait_for()
    assert judge.locator("[data-check-in]").inner_text().count("Not checked in yet") == 1

    # The room, then the check-in: sent without a reload.
    card.get_by_label("Videorum").select_option(label="kiosk-a")
    card.get_by_role("button", name="Gem rum").click()
    card.get_by_role("status").filter(has_text="Videorummet er gemt.").wait_for()
    card.locator("[data-role=kiosk]").filter(has_text="svarer").wait_for()
    card.get_by_label("Navnet passer med berammelsen").check()
    card.get_by_label("Referencen passer med berammelsen").check()
    card.get_by_label("Klar").check()
    card.get_by_label("Bemærkning").fill("Sigtede ønsker tolk.")
    card.get_by_role("button", name="Gem indtjekning").click()
    card.get_by_role("status").filter(has_text="Indtjekningen er gemt.").wait_for()
    assert officer.url == f"{live_server.url}/custody"  # no reload, no navigation

    # The judge sees it at once, without a reload.
    wait_until(lambda: judge.locator("[data-role=check-in-status]").inner_text() == "Ready")
    line = judge.locator("[data-check-in]").inner_text()
    assert "name and reference confirmed" in line and "Custody-Officer" in line and "Sigtede ønsker tolk." in line
    screenshot(judge, "hearing-check-in")
    assert_accessible(judge)

    # The kiosk is asked to connect.
    card.get_by_role("button", name="Forbind kiosken").click()
    card.get_by_role("status").filter(has_text="Kiosken er bedt om at forbinde.").wait_for()
    assert kiosk.told == [{"type": "connect", "hearing": h}]
    # Offline now: the console says so within a refresh, and a request says why in words.
    live_server.app.state.endpoint_presence.disconnected(kiosk_id, kiosk)
    card.locator("[data-role=kiosk]").filter(has_text="svarer ikke").wait_for()
    card.get_by_role("button", name="Kør prøveopkald").click()
    card.get_by_role("status").filter(has_text="Rummets kiosk svarer ikke").wait_for()

    width, height = officer.evaluate(FITS)
    assert width <= SCREEN["width"] and height <= SCREEN["height"], (width, height)  # three hearings, no scrolling
    screenshot(officer, "console-da")
    assert_accessible(officer)

    # Keyboard alone: the room's select and its save button are reachable and work.
    card.get_by_label("Videorum").focus()
    officer.keyboard.press("Tab")
    assert officer.evaluate("document.activeElement.textContent.trim()") == "Gem rum"

    officer.locator("form.language button[lang=en]").click()
    officer.wait_for_load_state()
    assert officer.evaluate("document.documentElement.lang") == "en"
    officer.locator(f"[data-desk-hearing='{h}'] [data-role=check-in]").filter(has_text="Ready").wait_for()
    width, height = officer.evaluate(FITS)
    assert width <= SCREEN["width"] and height <= SCREEN["height"], (width, height)
    screenshot(officer, "console-en")
    assert_accessible(officer)
