"""The judge's speaker-order panel in Debian's Chromium: the lobby, a request
to speak from the custody endpoint (a Python media client), the floor given
and taken back, checked where it matters (the media), and a clerk's panel
following the same state."""

from __future__ import annotations

import time

import pytest

from hearing.docket.parties import EndpointKind
from hearing.services import Services
from tests.browser import LiveServer, screenshot, sign_in
from tests.conftest import Court_, enroll_device, logged
from tests.media.peers import Peer, PeerThread
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

# The inbound audio a browser has received and the energy it played, from
# its own statistics.
INBOUND_AUDIO = """async () => {
    let audio = {energy: 0, packets: 0};
    (await window.hearingMedia.pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio") {
            audio = {energy: s.totalAudioEnergy || 0, packets: s.packetsReceived || 0};
        }
    });
    return audio;
}"""


# Buttons, fields and videos of the page without a name a screen reader can say.
UNNAMED_CONTROLS = """() => [...document.querySelectorAll("button, select, input:not([type=hidden]), video")]
    .filter((el) => !(el.getAttribute("aria-label") || (el.labels && el.labels.length) || el.textContent.trim()
        || (el.getAttribute("aria-labelledby") || "").split(" ").some(
            (id) => document.getElementById(id) && document.getElementById(id).textContent.trim())))
    .map((el) => el.outerHTML.slice(0, 80))"""


def energy_over(page, packets: int) -> float:  # type: ignore[no-untyped-def]
    """Audio energy the judge's browser played while its next `packets` audio
    packets (20 ms each) arrived: a window of sound, however slowly the
    machine runs."""
    start = latest = page.evaluate(INBOUND_AUDIO)

    def arrived() -> bool:
        nonlocal latest
        latest = page.evaluate(INBOUND_AUDIO)
        return bool(latest["packets"] >= start["packets"] + packets)

    wait_until(arrived)
    return float(latest["energy"] - start["energy"])


@pytest.mark.timeout(180)
def test_the_judge_admits_grants_and_takes_back_the_floor_and_the_clerk_follows(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    h = court.hearing_a
    judge = browser.new_context(locale="en-GB").new_page()
    sign_in(judge, live_server, "judge", court.secrets["judge"])
    judge.goto(f"{live_server.url}/hearings/{h}")
    judge.get_by_role("button", name="Open", exact=True).click()  # the lifecycle: the hearing opens its lobby
    panel = judge.locator("[data-panel]")
    panel.get_by_role("status").filter(has_text="Live").wait_for()

    # The custody endpoint connects and waits in the lobby, heard by no one.
    token = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{h}/media"
    with PeerThread(
        Peer("custody", tone=700.0, camera=(640, 360)), url, {"Authorization": f"Device {token}"}
    ) as custody:
        client = custody.peer.client
        assert client is not None and client.floor["admitted"] is False
        admit = judge.get_by_role("button", name="Admit: Custody facility")
        admit.wait_for()
        screenshot(judge, "panel-1-lobby")
        room = live_server.app.state.live_hearings.get(h).room
        assert room is not None and not room.routes["judge"].hears("custody")
        admit.click()
        panel.locator('[data-role=seats] [data-seat="custody"]').get_by_text("Detainee: Test Detainee").wait_for()
        wait_until(lambda: client.floor.get("admitted") is True)
        assert panel.locator("[data-role=lobby] li").count() == 0

        # Controlled mode: only the judge, the floor holder and the interpreter are heard.
        judge.get_by_label("Controlled: only the judge, the floor and the interpreter").check()
        wait_until(lambda: not room.routes["judge"].hears("custody"))

        # The judge's own video link, to hear what the server forwards.
        judge.get_by_role("button", name="Join the video link").click()
        judge.get_by_role("status").filter(has_text="Connected").wait_for()
        wait_until(lambda: judge.evaluate(INBOUND_AUDIO)["packets"] > 0)

        # A clerk follows the same hearing in a second browser context.
        clerk = browser.new_context(locale="en-GB").new_page()
        sign_in(clerk, live_server, "clerk", court.secrets["clerk"])
        clerk.goto(f"{live_server.url}/hearings/{h}")
        clerk_panel = clerk.locator("[data-panel]")
        clerk_panel.get_by_role("status").filter(has_text="Live").wait_for()
        assert clerk_panel.get_by_role("button", name="Give the floor to the next").count() == 0  # read-only

        # The detainee asks to speak from the custody endpoint.
        request = panel.locator('[data-role=queue] [data-speaker="custody:detainee"]')
        asked = time.monotonic()
        custody.send({"type": "request", "speaker": "custody:detainee"})
        request.wait_for()
        shown_after = time.monotonic() - asked  # a figure for bench/, not a bound
        clerk_panel.locator('[data-role=queue] [data-speaker="custody:detainee"]').wait_for()
        silent = energy_over(judge, 50)
        screenshot(judge, "panel-2-request")

        # The floor: forwarded at the server, and heard in the judge's browser.
        judge.get_by_role("button", name="Give the floor: Detainee (Custody facility)").click()
        panel.get_by_text("Detainee (Custody facility) has the floor").wait_for()
        wait_until(lambda: room.routes["judge"].hears("custody"))
        wait_until(lambda: energy_over(judge, 25) > 0)
        heard = energy_over(judge, 50)
        assert heard > 100 * silent and heard > 0
        clerk_panel.get_by_text("Detainee (Custody facility) has the floor").wait_for()
        assert judge.locator("[data-panel]").get_attribute("data-version") == clerk.locator(
            "[data-panel]"
        ).get_attribute("data-version")
        # Labelled for screen readers: every control has an accessible name.
        unnamed = judge.evaluate(UNNAMED_CONTROLS)
        assert unnamed == [], unnamed
        screenshot(judge, "panel-3-floor")
        screenshot(clerk, "panel-4-clerk")

        # Taken back: silent again at the server and at the receiver.
        judge.get_by_role("button", name="Take back the floor").click()
        panel.get_by_text("The judge has the floor.").wait_for()
        wait_until(lambda: not room.routes["judge"].hears("custody"))
        # What was already on its way still plays out of the browser's jitter buffer.
        wait_until(lambda: energy_over(judge, 25) < heard / 200)
        after = energy_over(judge, 50)
        assert after < heard / 100, (silent, heard, after)
        clerk_panel.get_by_text("The judge has the floor.").wait_for()

        # Keyboard alone: a request on behalf of the prosecutor, moved ahead of
        # the detainee's with Alt+Up, then G grants the next.
        judge.get_by_label("Ask to speak on behalf of").select_option("courtroom:prosecutor")
        judge.get_by_role("button", name="Add to the queue").click()
        queue = panel.locator("[data-role=queue] li")
        queue.first.wait_for()
        custody.send({"type": "request", "speaker": "custody:detainee"})
        wait_until(lambda: queue.count() == 2)
        assert [queue.nth(i).get_attribute("data-speaker") for i in range(2)] == [
            "courtroom:prosecutor",
            "custody:detainee",
        ]
        queue.nth(1).focus()
        judge.keyboard.press("Alt+ArrowUp")
        panel.locator('[data-role=queue] li:first-child[data-speaker="custody:detainee"]').wait_for()
        assert judge.evaluate("document.activeElement.dataset.speaker") == "custody:detainee"  # focus follows
        judge.locator("h1").click()  # focus away from the queue and the form controls
        judge.keyboard.press("g")
        panel.get_by_text("Detainee (Custody facility) has the floor").wait_for()
        judge.keyboard.press("g")
        panel.get_by_text("Prosecutor (Courtroom) has the floor").wait_for()

        # The hearing starts; P pauses it. The page stays, and so does the judge's link.
        judge.get_by_role("button", name="Start", exact=True).click()
        judge.locator("[data-role=hearing-state]").filter(has_text="in session").wait_for()
        judge.keyboard.press("p")
        judge.locator("[data-role=hearing-state]").filter(has_text="paused").wait_for()
        clerk.locator("[data-role=hearing-state]").filter(has_text="paused").wait_for()
        assert judge.get_by_role("status").filter(has_text="Connected").count() == 1 and "judge" in room.peers
        judge.get_by_role("button", name="Resume", exact=True).click()
        judge.locator("[data-role=hearing-state]").filter(has_text="in session").wait_for()

        # Danish, switched on the page.
        judge.get_by_role("button", name="Dansk").click()
        judge.locator("[data-panel]").get_by_text("Anklager (Retssalen) har ordet").wait_for()
        screenshot(judge, "panel-5-dansk")

    actions = [e.action for e in logged(services) if e.hearing_id == h]
    for expected in (
        "lobby.admitted",
        "floor.mode_changed",
        "floor.requested",
        "floor.granted",
        "floor.taken_back",
        "hearing.paused",
    ):
        assert expected in actions
    print(f"request shown on the panel {shown_after * 1000:.0f} ms after the endpoint sent it;")
    print(f"audio energy at the judge: before {silent:.2e}, with the floor {heard:.2e}, taken back {after:.2e}")
