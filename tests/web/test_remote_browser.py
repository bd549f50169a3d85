"""Issue 12's acceptance at the gateway, in Debian's Chromium with fake
media: the interpreter opens the gateway's join page from the invitation's
link, enters the code, passes the device check and waits; the judge (a
second browser context, on the internal listener) sees them wait and admits
them from the panel's lobby; sound flows both ways, checked on the media
side (the server's levels of the interpreter's seat, as the bench's panel
is told them, and the interpreter page's own received sound, from its
getStats). Both listeners run as `hearing serve` runs them: two uvicorn
servers on one loop, the gateway's media on 127.0.0.2.

Every state is saved in Danish and English (test-artifacts/remote-*.png)
and scanned by axe-core.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from hearing.docket.parties import EndpointKind, ParticipantRole
from hearing.services import Services
from tests.browser import assert_accessible, screenshot
from tests.conftest import PASSWORD, Court_, current_code, enroll_device, logged
from tests.media.peers import Peer, PeerThread
from tests.waiting import wait_until
from tests.web import remote_support
from tests.web.remote_support import Listeners, invite

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
gateway_listeners = remote_support.gateway_listeners  # the fixture: both listeners on one loop

LAPTOP = {"width": 1280, "height": 800}
BENCH = {"width": 1366, "height": 768}


class Levels:
    """A panel channel on the live hearing: the mixer's levels of one seat."""

    def __init__(self, seat: str) -> None:
        self.seat = seat
        self.dbfs: list[float] = []

    def deliver(self, message: dict[str, Any]) -> None:
        if message.get("type") == "level" and message.get("seat") == self.seat:
            self.dbfs.append(float(message["dbfs"]))

    def dismiss(self, reason: str) -> None:
        pass

    def since(self, count: int) -> list[float]:
        return self.dbfs[count:]


def state(page: Any) -> str:
    value: str = page.evaluate("document.body.dataset.state")
    return value


def wait_for_state(page: Any, wanted: str, timeout: float = 30) -> None:
    wait_until(lambda: state(page) == wanted, timeout=timeout, describe=lambda: state(page))


def received_sound(page: Any) -> float:
    """The remote page's own getStats: the total energy of the sound it received."""
    energy: float = page.evaluate(
        """async () => {
            const link = window.remoteParty.link;
            if (!link || !link.pc) return 0;
            let energy = 0;
            (await link.pc.getStats()).forEach((s) => {
                if (s.type === "inbound-rtp" && s.kind === "audio") energy += s.totalAudioEnergy || 0;
            });
            return energy;
        }"""
    )
    return energy


def both_languages(page: Any, name: str) -> None:
    """The screen as it is, in Danish and in English (the remote page
    switches in place: the media link stays up), each scanned by axe-core."""
    first = page.evaluate("document.documentElement.lang")
    for lang, label in (("da", "Dansk"), ("en", "English")) if first == "da" else (("en", "English"), ("da", "Dansk")):
        if page.evaluate("document.documentElement.lang") != lang:
            page.locator("form[data-role=language]").get_by_role("button", name=label).click()
            wait_until(lambda lang=lang: page.evaluate("document.documentElement.lang") == lang)
        screenshot(page, f"remote-{name}-{lang}")
        assert_accessible(page)


def sign_in_judge(browser: Any, listeners: Listeners, court: Court_) -> Any:
    judge = browser.new_context(locale="en-GB", viewport=BENCH).new_page()
    judge.goto(f"{listeners.url}/signin")
    judge.locator("input[name=username]").fill("judge")
    judge.locator("input[name=password]").fill(PASSWORD)
    judge.locator("input[name=code]").fill(current_code(court.secrets["judge"]))
    judge.locator("form[action='/signin'] button[type=submit]").click()
    judge.wait_for_url(lambda url: "/signin" not in url)
    return judge


@pytest.mark.timeout(300)
def test_the_interpreter_joins_by_code_waits_is_admitted_and_is_heard_both_ways(
    browser,  # type: ignore[no-untyped-def]
    gateway_listeners: Listeners,
    services: Services,
    court: Court_,
) -> None:
    listeners, h = gateway_listeners, court.hearing_a
    _, issued = invite(services, h)
    seat = issued.seat

    # The interpreter, outside, on the invitation's link: the join page (their browser speaks Danish).
    person = browser.new_context(locale="da-DK", viewport=LAPTOP)
    interpreter = person.new_page()
    interpreter.goto(f"{listeners.gateway_url}/join/{issued.invitation}")
    assert interpreter.locator("input[name=invitation]").input_value() == issued.invitation
    screenshot(interpreter, "remote-join-da")
    assert_accessible(interpreter)
    # A wrong code first: the one generic message, and the page to try again
    # (in each language: the switch reloads the join page, the invitation kept).
    for lang, field, button, words in (
        ("da", "Kode (8 cifre)", "Fortsæt", "Koden kunne ikke bruges."),
        ("en", "Code (8 digits)", "Continue", "The code could not be used."),
    ):
        interpreter.get_by_label(field).fill("0000 0000")
        interpreter.get_by_role("button", name=button).click()
        interpreter.get_by_role("alert").filter(has_text=words).wait_for()
        screenshot(interpreter, f"remote-join-rejected-{lang}")
        assert_accessible(interpreter)
        if lang == "da":
            interpreter.locator("form[data-role=language]").get_by_role("button", name="English").click()
            interpreter.wait_for_url(f"{listeners.gateway_url}/join/{issued.invitation}")
    assert interpreter.locator("input[name=invitation]").input_value() == issued.invitation
    interpreter.get_by_label("Code (8 digits)").fill(f"{issued.code[:4]} {issued.code[4:]}")
    interpreter.get_by_label("Code (8 digits)").press("Enter")  # the keyboard alone
    interpreter.wait_for_url(f"{listeners.gateway_url}/remote")

    # The device check: the camera's preview, the microphone's level, Continue.
    wait_for_state(interpreter, "check")
    wait_until(
        lambda: interpreter.evaluate("window.remoteParty.heard"),
        describe=lambda: interpreter.evaluate("window.remoteParty.level"),
    )
    wait_until(lambda: interpreter.evaluate("document.querySelector('video[data-role=preview]').videoWidth") > 0)
    both_languages(interpreter, "device-check")

    # The hearing has not begun: the page says so and looks again by itself.
    interpreter.get_by_role("button", name="Fortsæt").click()
    wait_for_state(interpreter, "not_open")
    both_languages(interpreter, "not-open")

    # The judge opens the hearing; the interpreter's page connects and waits in the lobby.
    judge = sign_in_judge(browser, listeners, court)
    judge.goto(f"{listeners.url}/hearings/{h}")
    judge.get_by_role("button", name="Open", exact=True).click()
    judge.locator("[data-panel]").get_by_role("status").filter(has_text="Live").wait_for()
    wait_for_state(interpreter, "lobby", timeout=40)
    live = listeners.on_loop(lambda: listeners.app.state.live_hearings.get(h))
    assert seat in live.floor.lobby
    # The bench is sent the waiting interpreter's picture (rule 7), nobody hears them.
    wait_until(lambda: live.room.board.senders[seat].frames_in > 10)
    assert seat in live.room.routes["judge"].video
    assert not any(route.hears(seat) for route in live.room.routes.values())
    both_languages(interpreter, "lobby")

    rig_token = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token
    rig_url = f"ws://127.0.0.1:{listeners.settings.port}/ws/hearings/{h}/media"
    rig = Peer("courtroom", tone=440.0, camera=(640, 360), listen=True)
    with PeerThread(rig, rig_url, {"Authorization": f"Device {rig_token}"}):
        # The judge sees them waiting and admits them, from the panel's lobby.
        admit = judge.get_by_role("button", name=re.compile(r"^Admit\b.*Interpreter"))
        admit.wait_for()
        screenshot(judge, "remote-bench-lobby")
        admit.click()
        wait_until(lambda: seat in live.floor.admitted)
        wait_for_state(interpreter, "admitted")
        judge.get_by_role("button", name="Start", exact=True).click()
        wait_for_state(interpreter, "in_session")

        # Sound both ways, on the media side. Into the interpreter's page:
        # the courtroom's tone (the interpreter hears every party).
        before = received_sound(interpreter)
        wait_until(lambda: received_sound(interpreter) > before + 0.01, describe=lambda: received_sound(interpreter))
        # From the interpreter: the mixer's level of their seat, as the panel is told it.
        levels = Levels(seat)
        listeners.on_loop(lambda: live.panel_opened(levels))
        wait_until(lambda: max(levels.dbfs, default=-120.0) > -40.0, timeout=20, describe=lambda: levels.dbfs[-5:])
        assert live.room.routes["courtroom"].hears(seat) and live.room.routes["judge"].hears(seat)
        print(f"the interpreter's loudest level at the bench: {max(levels.dbfs):.1f} dBFS")
        # The courtroom rig receives their sound too (its own receiver's count).
        wait_until(lambda: len(rig.heard) > 50)
        both_languages(interpreter, "in-session")

        # Muted by themself: nothing of the microphone goes out, and the page says so.
        interpreter.get_by_role("button", name=re.compile("Slå min mikrofon fra|Mute myself")).click()
        interpreter.locator("[data-role=mic]").filter(
            has_text=re.compile("Din mikrofon er slået fra|Your microphone is off")
        ).wait_for()
        muted_from = len(levels.dbfs)
        wait_until(lambda: len(levels.since(muted_from)) > 30)
        quiet_from = len(levels.dbfs)
        wait_until(lambda: len(levels.since(quiet_from)) > 25)
        assert max(levels.since(quiet_from)) < -60.0, levels.since(quiet_from)
        both_languages(interpreter, "muted")
        interpreter.get_by_role("button", name=re.compile("Slå min mikrofon til|Turn my microphone on")).click()

        # Ask for clarification: a priority request in the judge's queue.
        interpreter.get_by_role("button", name=re.compile("Bed om afklaring|Ask for clarification")).click()
        queue = judge.locator("[data-role=queue] li")
        wait_until(lambda: queue.count() == 1)
        assert "nterpreter" in queue.first.inner_text()
        assert live.floor.queue[0].priority
        interpreter.locator("[data-role=floor]").filter(has_text=re.compile("afklaring|clarification")).wait_for()

        # The interpretation, as the seat is told it: the mode and who hears them now.
        told = {
            "type": "interpretation",
            "mode": "simultaneous",
            "direction": "to_party",
            "needs": ["custody"],
            "heard_by": {seat: ["custody", "recorder"]},
        }
        listeners.on_loop(lambda: live._seats[seat].deliver(told))
        interpreter.locator("[data-role=interp-heard]").filter(has_text=re.compile("sigtede|the detainee")).wait_for()
        both_languages(interpreter, "clarification-and-interpretation")
        screenshot(judge, "remote-bench-admitted")
        assert_accessible(judge)
        live.panel_closed(levels)

    # The judge ends the hearing: the interpreter's page says so, and the session is over.
    judge.once("dialog", lambda dialog: dialog.accept())
    judge.get_by_role("button", name="Adjourn", exact=True).click()
    wait_for_state(interpreter, "ended", timeout=30)
    both_languages(interpreter, "ended")
    joined = [e for e in logged(services) if e.action == "participant.joined" and (e.payload or {}).get("seat") == seat]
    assert joined and joined[0].actor_kind == "remote"
    assert ParticipantRole.INTERPRETER.value in (joined[0].actor_role or "")


class JudgeOverHttp:
    """The judge's panel's own requests (the floor's commands, the
    lifecycle's form), from a signed-in session, without a second page."""

    def __init__(self, listeners: Listeners, services: Services, court: Court_) -> None:
        import httpx2

        from tests.conftest import session_cookie

        self.hearing = court.hearing_a
        self.http = httpx2.Client(base_url=listeners.url, follow_redirects=False, timeout=20)
        self.http.cookies.set("hearing_session", session_cookie(services, court.users["judge"]))
        page = self.http.get(f"/hearings/{self.hearing}")
        match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
        assert match, page.status_code
        self.token = match.group(1)

    def floor(self, **command: str) -> None:
        response = self.http.post(
            f"/hearings/{self.hearing}/floor",
            json=command,
            headers={"X-CSRF-Token": self.token, "Accept": "application/json"},
        )
        assert response.status_code == 200, response.text

    def transition(self, action: str) -> None:
        response = self.http.post(
            f"/hearings/{self.hearing}/transition", data={"csrf_token": self.token, "action": action}
        )
        assert response.status_code == 303, response.text


@pytest.mark.timeout(180)
def test_remote_counsel_confers_in_private_and_the_page_says_so(
    browser,  # type: ignore[no-untyped-def]
    gateway_listeners: Listeners,
    services: Services,
    court: Court_,
) -> None:
    from hearing.docket.lifecycle import HearingState
    from tests.conftest import open_hearing

    listeners, h = gateway_listeners, court.hearing_a
    open_hearing(services, h, HearingState.IN_SESSION)
    _, issued = invite(services, h, role=ParticipantRole.DEFENCE_COUNSEL, name="Advokat Lis Holm", language=None)
    seat = issued.seat
    counsel = browser.new_context(locale="en-GB", viewport=LAPTOP).new_page()
    counsel.goto(f"{listeners.gateway_url}/join/{issued.invitation}")
    counsel.get_by_label("Code (8 digits)").fill(issued.code)
    counsel.get_by_role("button", name="Continue").click()
    wait_for_state(counsel, "check")
    counsel.get_by_role("button", name="Continue").click()
    wait_for_state(counsel, "lobby")

    judge = JudgeOverHttp(listeners, services, court)
    judge.floor(action="admit", seat=seat)
    wait_for_state(counsel, "in_session")
    # Counsel asks to speak like everyone else (not "clarification": that is the interpreter's).
    ask = counsel.get_by_role("button", name="Ask to speak")
    ask.click()
    counsel.locator("[data-role=floor]").filter(has_text="You have asked to speak").wait_for()
    counsel.get_by_role("button", name="Withdraw").click()
    counsel.get_by_role("button", name="Ask to speak").wait_for()

    # On a phone: one column, the buttons within reach of a thumb.
    counsel.set_viewport_size({"width": 390, "height": 844})
    screenshot(counsel, "remote-counsel-phone-en")
    assert_accessible(counsel)
    counsel.set_viewport_size(LAPTOP)

    # The judge lets counsel and the detainee talk in private: counsel's page says the court cannot hear.
    judge.transition("begin_consultation")
    wait_for_state(counsel, "consulting")
    live = listeners.on_loop(lambda: listeners.app.state.live_hearings.get(h))
    assert seat in live.floor.consultation
    assert not live.room.routes["judge"].hears(seat) and not live.room.routes["courtroom"].hears(seat)
    both_languages(counsel, "counsel-consultation")
    judge.transition("end_consultation")
    wait_for_state(counsel, "in_session")

    # The link drops (the server stops hearing from the page): the page
    # reconnects by itself, with the session's cookie, and keeps its seat.
    def joins() -> list[dict[str, object]]:
        return [e.payload or {} for e in logged(services) if e.action == "participant.joined"]

    joined_before = len(joins())
    listeners.on_loop(lambda: live._seats[seat].dismiss("timeout"))
    wait_until(lambda: len(joins()) > joined_before)
    assert joins()[-1] == {"seat": seat, "reconnected": True}
    wait_for_state(counsel, "in_session", timeout=30)
    assert [e.action for e in logged(services)].count("remote.code_used") == 1
    judge.http.close()
