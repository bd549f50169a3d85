"""The judge's pictures in Chromium: each tile names what it shows, says in
words why it shows nothing, and a language switch keeps the video link up."""

from __future__ import annotations

import pytest

from hearing.docket.parties import EndpointKind
from hearing.services import Services
from tests.browser import LiveServer, screenshot, sign_in
from tests.conftest import Court_, admit, enroll_device, open_hearing
from tests.media.peers import Peer, PeerThread
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

MAIN = "[data-tile=main]"
CUSTODY = "[data-tile=custody]"


@pytest.mark.timeout(120)
def test_tiles_name_what_they_show_and_the_link_survives_a_language_switch(
    browser, live_server: LiveServer, services: Services, court: Court_
) -> None:  # type: ignore[no-untyped-def]
    h = court.hearing_a
    open_hearing(services, h)
    admit(services, court, h)
    token = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{h}/media"
    with PeerThread(Peer("custody", tone=700.0, camera=(640, 360)), url, {"Authorization": f"Device {token}"}):
        page = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 768}).new_page()
        sign_in(page, live_server, "judge", court.secrets["judge"])
        page.goto(f"{live_server.url}/hearings/{h}")
        page.locator(MAIN).get_by_text("Not connected").wait_for()  # before joining, it says so
        page.get_by_role("button", name="Join the video link").click()
        page.get_by_role("status").filter(has_text="Connected").wait_for()

        # The judge holds the floor; the main picture is the detainee's, and says so.
        main = page.locator(MAIN)
        main.locator("figcaption", has_text="Detainee (custody facility)").wait_for()
        assert main.get_attribute("data-showing") == "custody" and main.locator("[data-role=overlay]").is_hidden()
        # Polled from here: page.wait_for_function evaluates its string with
        # eval() when it polls, which the page's CSP forbids.
        wait_until(lambda: page.evaluate("() => document.querySelector('video[data-role=remote]').videoWidth > 0"))
        # No courtroom rig is connected: its tile says there is no picture, not a black box.
        courtroom = page.locator("[data-tile=courtroom]")
        courtroom.get_by_text("No picture is being sent").wait_for()

        # A private consultation: the custody picture is cut at the server, and the tile says why.
        for action in ("Start", "Private consultation"):
            page.get_by_role("button", name=action, exact=True).click()
        page.locator("[data-role=hearing-state]").filter(has_text="private consultation").wait_for()
        page.locator(CUSTODY).get_by_text("Private consultation: picture and sound are cut").wait_for()
        main.get_by_text("No picture", exact=True).wait_for()
        assert main.get_attribute("data-showing") == ""
        screenshot(page, "pictures-1-consultation")

        # Danish, switched on the page: the same connection, every word in Danish.
        connection = page.evaluate("window.hearingMedia.pc.connectionState")
        page.evaluate("window.beforeSwitch = window.hearingMedia.pc")
        page.get_by_role("button", name="Dansk").click()
        page.locator("[data-panel]").get_by_role("heading", name="Taleorden").wait_for()
        assert page.evaluate("document.documentElement.lang") == "da"
        assert page.evaluate("window.hearingMedia.pc === window.beforeSwitch") is True
        assert connection == page.evaluate("window.hearingMedia.pc.connectionState") == "connected"
        page.get_by_role("status").filter(has_text="Forbundet").first.wait_for()
        page.locator(CUSTODY).get_by_text("Fortrolig samtale: billede og lyd er afbrudt").wait_for()
        page.locator("[data-role=hearing-state]").filter(has_text="fortrolig samtale").wait_for()
        screenshot(page, "pictures-2-dansk")

        # The consultation ends: the detainee is back on the main picture.
        page.get_by_role("button", name="Afslut samtalen", exact=True).click()
        main.locator("figcaption", has_text="Sigtede (arresten)").wait_for()
        assert page.locator(CUSTODY).locator("[data-role=overlay]").is_hidden()
        assert page.evaluate("window.hearingMedia.pc === window.beforeSwitch") is True
