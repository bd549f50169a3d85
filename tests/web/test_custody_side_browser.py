"""Issue 11's acceptance, end to end in Debian's Chromium with fake media:
three people at three screens, as a remand hearing runs.

The custody officer (Danish) assigns the hearing room and checks the
detainee in; the detainee's kiosk (an enrolled device, its cookie from the
one-time link) waits, and the console sees it answer; the judge (English, at
1366×768) sees "ready", opens the hearing, admits the room from the lobby
and starts. The kiosk shows the courtroom program (a Python rig on the
courtroom seat: frames decoded, sound received, per its own getStats); the
detainee asks to speak and the request is in the judge's queue (the time
printed against the issue's 500 ms); the judge gives the floor and the
detainee's sound is heard at the bench (the judge's route hears the custody seat, whose level the mixer
measures, and the judge's browser receives sound). Every screen is saved and
scanned by axe-core.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from hearing.audit.actions import Action
from hearing.db.models import TestCall
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from tests.browser import LiveServer, assert_accessible, screenshot, sign_in
from tests.conftest import Court_, enroll_device, logged
from tests.media.peers import Peer, PeerThread
from tests.waiting import wait_until
from tests.web.test_kiosk_browser import enrolled_kiosk, inbound, kiosk_state, wait_for_state, where

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

BENCH = {"width": 1366, "height": 768}


def judge_inbound_audio(page: Any) -> float:
    """The judge's browser's received sound energy (its own getStats)."""
    energy: float = page.evaluate(
        """async () => {
            const stats = await window.hearingMedia.link.pc.getStats();
            let energy = 0;
            stats.forEach((s) => {
                if (s.type === "inbound-rtp" && s.kind === "audio") energy += s.totalAudioEnergy || 0;
            });
            return energy;
        }"""
    )
    return energy


class Levels:
    """A panel channel on the live hearing: the mixer's level of each seat."""

    def __init__(self) -> None:
        self.loudest: dict[str, float] = {}

    def deliver(self, message: dict[str, Any]) -> None:
        if message.get("type") == "level" and isinstance(message.get("dbfs"), int | float):
            seat = message["seat"]
            self.loudest[seat] = max(self.loudest.get(seat, -120.0), message["dbfs"])

    def dismiss(self, reason: str) -> None:
        pass


@pytest.mark.timeout(240)
def test_officer_kiosk_and_judge_hold_the_hearing_together(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    h = court.hearing_a
    kiosk, kiosk_id = enrolled_kiosk(browser, live_server, services)
    wait_for_state(kiosk, "waiting")
    rig_token = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token

    # The officer: the room, then the check-in. The console sees the real kiosk answer.
    officer = browser.new_context(locale="da-DK", viewport=BENCH).new_page()
    sign_in(officer, live_server, "custody-officer", court.secrets["custody_officer"])
    officer.wait_for_url(f"{live_server.url}/custody")
    card = officer.locator(f"[data-desk-hearing='{h}']")
    card.get_by_label("Videorum").select_option(label="custody-a")
    card.get_by_role("button", name="Gem rum").click()
    card.get_by_role("status").filter(has_text="Videorummet er gemt.").wait_for()
    card.locator("[data-role=kiosk]").filter(has_text="svarer").wait_for()
    assert live_server.app.state.endpoint_presence.online(kiosk_id)
    card.get_by_label("Navnet passer med berammelsen").check()
    card.get_by_label("Referencen passer med berammelsen").check()
    card.get_by_label("Klar").check()
    card.get_by_role("button", name="Gem indtjekning").click()
    card.get_by_role("status").filter(has_text="Indtjekningen er gemt.").wait_for()
    screenshot(officer, "custody-side-console")
    assert_accessible(officer)

    # The judge sees "ready" and opens the hearing; the kiosk joins by itself, into the lobby.
    judge = browser.new_context(locale="en-GB", viewport=BENCH).new_page()
    sign_in(judge, live_server, "judge", court.secrets["judge"])
    judge.goto(f"{live_server.url}/hearings/{h}")
    assert judge.locator("[data-role=check-in-status]").inner_text() == "Ready"
    judge.get_by_role("button", name="Open", exact=True).click()
    judge.locator("[data-panel]").get_by_role("status").filter(has_text="Live").wait_for()
    wait_for_state(kiosk, "lobby")
    card.locator("[data-role=link]").filter(has_text="forbundet til retsmødet").wait_for()

    rig_url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{h}/media"
    rig = Peer("courtroom", tone=440.0, camera=(640, 360))
    with PeerThread(rig, rig_url, {"Authorization": f"Device {rig_token}"}):
        # Admitted from the lobby by the judge's own click; the floor controlled; the session started.
        judge.get_by_role("button", name="Admit: Custody facility").click()
        # The admission's own floor update is shown first (it would set the
        # mode's radio back to what the floor says if it came after the click).
        judge.get_by_role("button", name="Admit: Custody facility").wait_for(state="detached")
        judge.get_by_label("Controlled").check()
        live = live_server.app.state.live_hearings.get(h)
        assert live is not None
        wait_until(lambda: live.floor.mode.value == "controlled" and "custody" in live.floor.admitted)
        judge.get_by_role("button", name="Start", exact=True).click()
        wait_for_state(kiosk, "in_session")

        # The kiosk shows the courtroom program and receives the court's sound.
        wait_until(lambda: (s := inbound(kiosk))["frames"] > 25 and s["packets"] > 50 and s["energy"] > 0)
        assert kiosk.evaluate("document.querySelector('video[data-view=courtroom]').videoWidth") == 640
        screenshot(kiosk, "custody-side-kiosk")
        assert_accessible(kiosk)

        # The judge joins the video link.
        judge.get_by_role("button", name="Join the video link").click()
        judge.locator("[data-media-panel]").get_by_role("status").filter(has_text="Connected").wait_for()
        levels = Levels()
        live.panel_opened(levels)
        # Controlled floor: the detainee is not heard at the bench before the word is given.
        assert not live.room.routes["judge"].hears("custody")

        # Ask to speak: in the judge's queue, on the judge's own page. The issue's
        # 500 ms is measured, not asserted (machines here are shared): printed
        # here, and against the target in bench/kiosk_bench.py.
        queue = judge.locator("[data-role=queue] li")
        assert queue.count() == 0
        ask = kiosk.get_by_role("button", name="Bed om ordet")
        ask.wait_for()
        asked = time.monotonic()
        ask.click()
        wait_until(lambda: queue.count() == 1, timeout=5)
        took_ms = (time.monotonic() - asked) * 1000
        print(f"ask to speak: in the judge's queue on the judge's page {took_ms:.0f} ms after the click (target 500)")
        assert "Detainee" in queue.first.inner_text()

        # The judge gives the floor: the detainee's sound is heard at the bench.
        before = judge_inbound_audio(judge)
        judge.get_by_role("button", name="Give the floor to the next").click()
        wait_until(lambda: kiosk.evaluate("document.body.dataset.floor") == "holding")
        assert live.room.routes["judge"].hears("custody")
        wait_until(lambda: levels.loudest.get("custody", -120.0) > -40.0, timeout=10)
        wait_until(lambda: judge_inbound_audio(judge) > before)
        print(f"the custody seat's loudest level at the bench: {levels.loudest['custody']:.1f} dBFS")
        screenshot(judge, "custody-side-bench")
        assert_accessible(judge)
        live.panel_closed(levels)
    assert kiosk_state(kiosk) == "in_session"


@pytest.mark.timeout(120)
def test_the_officer_runs_the_rooms_test_call_from_the_console(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    """The console asks the kiosk; the kiosk runs the loop through the
    server by itself; the grade is recorded against the room and the console
    shows it within a refresh, as do the judge's and the clerk's page."""
    h = court.hearing_a
    kiosk, kiosk_id = enrolled_kiosk(browser, live_server, services)
    wait_for_state(kiosk, "waiting")
    officer = browser.new_context(locale="da-DK", viewport=BENCH).new_page()
    sign_in(officer, live_server, "custody-officer", court.secrets["custody_officer"])
    card = officer.locator(f"[data-desk-hearing='{h}']")
    card.get_by_label("Videorum").select_option(label="custody-a")
    card.get_by_role("button", name="Gem rum").click()
    card.locator("[data-role=kiosk]").filter(has_text="svarer").wait_for()
    assert card.locator("[data-role=test-call]").inner_text() == "ingen endnu"

    card.get_by_role("button", name="Kør prøveopkald").click()
    card.get_by_role("status").filter(has_text="Kiosken er bedt om at køre et prøveopkald.").wait_for()
    wait_until(lambda: where(kiosk) == "/device/test-call?auto=1")
    card.locator("[data-role=kiosk]").filter(has_text="kører prøveopkald").wait_for()
    # The loop runs its 8 s, then the kiosk's page says the grade in words.
    card.locator("[data-role=test-call] .badge").wait_for(timeout=40_000)
    badge = card.locator("[data-role=test-call]").inner_text()
    assert badge.startswith("god, kl. "), badge  # good, on a loopback with fake devices
    calls = services.unit_of_work(lambda db: [(c.endpoint_id, c.grade) for c in db.scalars(select(TestCall))])
    assert calls == [(kiosk_id, "good")]
    assert Action.ENDPOINT_TEST_CALL in [e.action for e in logged(services)]
    screenshot(officer, "custody-side-console-test-call")
    assert_accessible(officer)
    # The result stays up a while; then the kiosk is back on its own page, answering, ready for the hearing.
    wait_until(lambda: where(kiosk) == "/device", timeout=30)
    wait_for_state(kiosk, "waiting")
    card.locator("[data-role=kiosk]").filter(has_text="svarer").wait_for()

    clerk = browser.new_context(locale="en-GB", viewport=BENCH).new_page()
    sign_in(clerk, live_server, "clerk", court.secrets["clerk"])
    clerk.goto(f"{live_server.url}/hearings/{h}")
    assert clerk.locator("[data-role=test-call-summary] [data-grade]").get_attribute("data-grade") == "good"
