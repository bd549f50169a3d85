"""The detainee's kiosk in Debian's Chromium with fake media, against a Python
courtroom peer: every state it shows, the courtroom's picture and sound,
Ask to speak into the judge's queue, a reload and a dropped link."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

import pytest

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.clock import utcnow
from hearing.db.models import Participant, StaffUser
from hearing.docket import proceedings
from hearing.docket.lifecycle import LIVE_STATES, Transition
from hearing.docket.parties import Connection, EndpointKind, ParticipantRole
from hearing.live.hearing import LiveHearing
from hearing.routing.policy import Medium
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.speaker_order.commands import Command
from tests.browser import LiveServer, assert_accessible, screenshot
from tests.conftest import Court_, enroll_device, logged, open_hearing
from tests.media.peers import Peer, PeerThread
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

KIOSK_SCREEN = {"width": 1280, "height": 800}


def on_server(live_server: LiveServer, call: Callable[[], Any]) -> Any:
    """Run `call` in the server's event loop (a live hearing is driven there
    after each commit, as the web routes do)."""
    loop = live_server.server.servers[0].get_loop()

    async def run() -> Any:
        result = call()
        return await result if inspect.isawaitable(result) else result

    # Generous: closing a hearing's peers waits on their transports, slow on a loaded machine.
    return asyncio.run_coroutine_threadsafe(run(), loop).result(60)


class Bench:
    """The judge's decisions, through the services, followed by the live
    hearing exactly as the panel's routes follow them."""

    def __init__(self, live_server: LiveServer, services: Services, court: Court_) -> None:
        self.server, self.services, self.court = live_server, services, court
        self.hearing = court.hearing_a
        self.actor = Actor("user", court.users["judge"], "judge")

    @property
    def live(self) -> LiveHearing:
        live = self.server.app.state.live_hearings.get(self.hearing)
        assert live is not None
        return live

    def command(self, action: str, **fields: Any) -> None:
        command = Command(action, **fields)
        connected = self.live.connected
        floor = self.services.unit_of_work(
            lambda db: presiding.act(
                db, self.actor, self.hearing, command, courtroom_id=self.court.courtroom_a, connected=connected
            )
        )
        on_server(self.server, lambda: self.live.follow(floor))
        if command.rule.turns_away:
            on_server(self.server, lambda: self.live.turn_away(command.seat or ""))

    def move(self, action: str) -> None:
        def run(db: Any) -> Any:
            judge = db.get_one(StaffUser, self.actor.id)
            moved = proceedings.transition(db, judge, self.actor, self.hearing, Transition(action), utcnow())
            return moved.state, presiding.current(db, moved)

        state, floor = self.services.unit_of_work(run)
        hearings = self.server.app.state.live_hearings

        async def tell() -> None:
            if state in LIVE_STATES:
                live = await hearings.open(self.hearing, floor, state)
                live.lifecycle_moved(state)
            else:
                await hearings.end(self.hearing, state)

        on_server(self.server, tell)


def where(page: Any) -> str:
    """The page's own location (page.url follows only while Playwright runs),
    or nothing while it navigates."""
    try:
        return str(page.evaluate("location.pathname + location.search"))
    except Exception:  # the execution context went with the old document
        return ""


def kiosk_state(page: Any) -> str:
    return str(page.evaluate("document.body.dataset.state"))


def wait_for_state(page: Any, state: str, timeout: float = 30.0) -> None:
    wait_until(lambda: kiosk_state(page) == state, timeout, describe=lambda: f"kiosk shows {kiosk_state(page)!r}")


COLOURS: dict[str, str] = {}


def look(page: Any, name: str) -> None:
    screenshot(page, f"kiosk-{name}")
    assert_accessible(page)
    # Full screen without scrolling.
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight"), name
    COLOURS[kiosk_state(page)] = page.evaluate(
        "getComputedStyle(document.querySelector('[data-role=slate]')).backgroundColor"
    )


def inbound(page: Any) -> dict[str, float]:
    """The kiosk's own getStats: the courtroom view's decoded frames, and
    the court's sound (packets and energy)."""
    result: dict[str, float] = page.evaluate(
        """async () => {
            const link = window.kiosk.link;
            if (!link || !link.pc) return {frames: 0, packets: 0, energy: 0};
            const courtroom = document.querySelector("video[data-view=courtroom]").srcObject;
            const track = courtroom && courtroom.getVideoTracks()[0];
            const stats = await link.pc.getStats(track || null);
            const all = await link.pc.getStats();
            let frames = 0, packets = 0, energy = 0;
            stats.forEach((s) => {
                if (s.type === "inbound-rtp" && s.kind === "video") frames = Math.max(frames, s.framesDecoded || 0);
            });
            all.forEach((s) => {
                if (s.type === "inbound-rtp" && s.kind === "audio") {
                    packets = s.packetsReceived || 0;
                    energy = s.totalAudioEnergy || 0;
                }
            });
            return {frames, packets, energy};
        }"""
    )
    return result


def enrolled_kiosk(
    browser: Any,
    live_server: LiveServer,
    services: Services,
    kind: EndpointKind = EndpointKind.CUSTODY,
    site: str = "Facility A",
) -> tuple[Any, int]:
    """A kiosk browser enrolled the way an officer does it: the one-time
    enrollment link opened in it, and its button pressed. English browser
    locale: the kiosk speaks Danish anyway until someone chooses."""
    creds = enroll_device(services, f"{kind.value}-a", kind, site)
    context = browser.new_context(viewport=KIOSK_SCREEN, locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server.url}/device/enroll?code={creds.enrollment_code}")
    page.locator("form[action='/device/enroll'] button[type=submit]").click()
    page.wait_for_load_state()
    assert any(c["name"] == "hearing_device" for c in context.cookies())
    page.goto(f"{live_server.url}/device")
    return page, creds.endpoint_id


@pytest.mark.timeout(240)
def test_the_kiosk_takes_the_detainee_through_the_hearing(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    bench = Bench(live_server, services, court)
    h = court.hearing_a
    page, endpoint = enrolled_kiosk(browser, live_server, services)

    # Waiting: the calm slate, Danish by default, with the hearing's time and courtroom.
    wait_for_state(page, "waiting")
    assert page.evaluate("document.documentElement.lang") == "da"
    assert page.get_by_role("heading", name="Venter på retten").is_visible()
    assert "Room A" in page.locator("[data-role=where]").inner_text()
    assert page.locator("a[href]").count() == 0  # nothing navigates away
    # Its socket's heartbeat: the console sees the room online.
    wait_until(lambda: live_server.app.state.endpoint_presence.online(endpoint))
    look(page, "waiting")

    # The hearing opens: the kiosk learns it from its socket and joins by itself, into the lobby.
    opened = time.monotonic()
    open_hearing(services, h)
    wait_for_state(page, "lobby")
    print(f"kiosk in the lobby {time.monotonic() - opened:.2f} s after the hearing opened")
    assert "Retten kan se, at du venter" in page.locator("[data-role=detail]").inner_text()
    look(page, "lobby")

    token = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{h}/media"
    with PeerThread(Peer("courtroom", tone=440.0, camera=(640, 360)), url, {"Authorization": f"Device {token}"}):
        bench.command("admit", seat="custody")
        bench.move("start")
        wait_for_state(page, "in_session")
        # The courtroom program, decoded, and the court's sound, played.
        wait_until(lambda: (s := inbound(page))["frames"] > 25 and s["packets"] > 50 and s["energy"] > 0)
        assert page.evaluate("document.querySelector('video[data-view=courtroom]').videoWidth") > 0
        assert page.evaluate("document.querySelector('audio[data-role=remote]').srcObject !== null")
        wait_until(lambda: page.locator(".kiosk-courtroom [data-role=overlay]").is_hidden())
        look(page, "in_session")

        # Ask to speak: in the judge's queue within 500 ms.
        ask = page.get_by_role("button", name="Bed om ordet")
        ask.focus()  # the keyboard works as well as a touch
        # From the key press (Playwright may return after the page has sent it).
        asked = time.monotonic()
        page.keyboard.press("Enter")
        wait_until(lambda: "custody:detainee" in [r.speaker for r in bench.live.floor.queue], timeout=5)
        took = (time.monotonic() - asked) * 1000
        # The 500 ms bound is asserted once, in tests/web/test_custody_side_browser.py
        # (the acceptance, on the judge's own page); bench/ measures it.
        print(f"ask to speak reached the judge's queue in {took:.0f} ms")
        wait_until(lambda: page.evaluate("document.body.dataset.floor") == "queued")
        assert page.get_by_role("button", name="Træk tilbage").is_visible()
        look(page, "queued")

        # The floor granted: the kiosk says so, and its sound reaches the bench.
        levels: list[float] = []

        class Panel:
            def deliver(self, message: dict[str, Any]) -> None:
                if message["type"] == "level" and message["seat"] == "custody" and message["dbfs"] is not None:
                    levels.append(message["dbfs"])

            def dismiss(self, reason: str) -> None:
                pass

        panel = Panel()
        on_server(live_server, lambda: bench.live.panel_opened(panel))
        bench.command("grant", speaker="custody:detainee")
        wait_until(lambda: page.evaluate("document.body.dataset.floor") == "holding")
        assert bench.live.room.routes["judge"].hears("custody")
        wait_until(lambda: levels and max(levels) > -50, describe=lambda: f"custody levels {levels[-5:]}")
        print(f"the custody seat's loudest level at the bench: {max(levels):.1f} dBFS")
        look(page, "floor")

        # Hidden: the judge hides the detainee's picture from the courtroom.
        bench.command("hide", source="custody", receiver="courtroom", medium=Medium.VIDEO)
        page.locator(".kiosk-notice-hidden").wait_for()
        assert "Dit billede er skjult for: retssalen" in page.locator("[data-role=notices]").inner_text()
        look(page, "hidden")

        # Recording.
        on_server(live_server, lambda: bench.live.set_recording(True))
        page.locator(".kiosk-notice-recording").wait_for()
        look(page, "recording")

        # Paused and resumed.
        bench.move("pause")
        wait_for_state(page, "paused")
        look(page, "paused")
        bench.move("resume")
        wait_for_state(page, "in_session")

        # Private consultation with counsel.
        bench.move("begin_consultation")
        wait_for_state(page, "consultation")
        assert "Ingen andre hører eller ser dig" in page.locator("[data-role=detail]").inner_text()
        # Recording goes on for the court; the consultation itself is not recorded, and the screen says so.
        page.locator(".kiosk-notice-not-recorded").wait_for()
        assert page.locator(".kiosk-notice-recording").count() == 0
        look(page, "consultation")
        bench.move("end_consultation")
        wait_for_state(page, "in_session")

        # One state in English: chosen on the screen, saved, no reload (the link stays).
        page.evaluate("window.linkBefore = window.kiosk.link")
        page.get_by_role("button", name="English").click()
        wait_until(lambda: page.evaluate("document.documentElement.lang") == "en")
        assert page.get_by_role("heading", name="The hearing is in session").is_visible()
        assert page.evaluate("window.kiosk.link === window.linkBefore")
        look(page, "in_session-en")

        # A reload: the same seat, the state intact (the floor, the screening, the recording).
        seat_before = bench.live.presence["custody"].joined_at
        page.reload()
        # A reload is a dropped link to the court: the hearing paused by itself
        # (plan B), and the room is back in its seat; the judge resumes.
        wait_for_state(page, "paused")
        wait_until(lambda: bench.live.presence["custody"].joined_at != seat_before)
        assert Action.HEARING_LINK_RESTORED in [e.action for e in logged(services)]
        bench.move("resume")
        wait_for_state(page, "in_session")
        assert page.evaluate("document.documentElement.lang") == "en"
        page.locator(".kiosk-notice-hidden").wait_for()
        page.locator(".kiosk-notice-recording").wait_for()
        wait_until(lambda: page.evaluate("document.body.dataset.floor") == "holding")
        assert "custody" in bench.live.connected and bench.live.floor.holder == "custody:detainee"

        # The server drops the link: "trying to reconnect", then back by itself.
        page.evaluate("document.documentElement.lang = 'da'; window.kiosk.lang = 'da'; window.kiosk.draw()")
        seat_channel = bench.live._seats["custody"]
        on_server(live_server, lambda: seat_channel.dismiss("timeout"))
        wait_for_state(page, "reconnecting", timeout=5)
        look(page, "reconnecting")
        wait_for_state(page, "paused")
        bench.move("resume")
        wait_for_state(page, "in_session")
        wait_until(lambda: inbound(page)["frames"] > 10)

        # What plan B and the link's health tell a seat (hearing/live/, docs/protocol.md),
        # as the kiosk shows it: audio only, and a poor link. The room's own monitor
        # reports this seat's real link every 2 s and, on a loaded machine, may grade it
        # otherwise in between; so the test tells the seat again until the kiosk shows it.
        seat_channel = bench.live._seats["custody"]

        def told(message: dict[str, Any], notice: str, *, shown: bool) -> None:
            def check() -> bool:
                on_server(live_server, lambda: seat_channel.deliver(message))
                time.sleep(0.2)
                return (page.locator(f".kiosk-notice-{notice}").count() > 0) == shown

            wait_until(check, describe=lambda: f"{notice} notice shown is not {shown}")

        told({"type": "link", "seat": "custody", "audio_only": True}, "audio-only", shown=True)
        look(page, "audio_only")
        told({"type": "link", "seat": "custody", "audio_only": False}, "audio-only", shown=False)
        poor = {"type": "health", "seat": "custody", "grade": "poor"}
        told(poor, "poor", shown=True)
        # A poor link still carries the hearing: a notice, the state and the floor's button stay.
        assert kiosk_state(page) == "in_session"
        look(page, "poor")
        told({**poor, "grade": "good"}, "poor", shown=False)

        # The end.
        bench.move("close")
        wait_for_state(page, "ended")
        look(page, "ended")
    # Each state its own colour, besides its words.
    states = ["waiting", "lobby", "in_session", "paused", "consultation", "reconnecting", "ended"]
    assert len({COLOURS[s] for s in states}) == len(states), COLOURS


@pytest.mark.timeout(120)
def test_a_booth_kiosk_turned_away_waits_for_the_console_and_has_no_ask_to_speak(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    bench = Bench(live_server, services, court)
    open_hearing(services, court.hearing_a)
    page, endpoint = enrolled_kiosk(browser, live_server, services, EndpointKind.BOOTH, "Room A")
    wait_for_state(page, "lobby")
    assert page.locator("[data-role=ask]").is_hidden()

    # Turned away: the screen says so and does not knock again by itself.
    bench.command("deny", seat="booth")
    wait_for_state(page, "denied")
    look(page, "denied")
    time.sleep(2.5)  # longer than the first back-offs: still out
    assert kiosk_state(page) == "denied" and "booth" not in bench.live.connected

    # The officer's console asks it to connect: it joins again, and is admitted.
    presence = live_server.app.state.endpoint_presence
    assert on_server(live_server, lambda: presence.tell(endpoint, {"type": "connect", "hearing": court.hearing_a}))
    wait_for_state(page, "lobby")
    bench.command("admit", seat="booth")
    wait_for_state(page, "admitted")  # let in; the judge has not started yet
    bench.move("start")
    wait_for_state(page, "in_session")
    # A booth has nobody who asks to speak from it: no button.
    assert page.locator("[data-role=floor-area]").is_hidden()
    look(page, "booth")

    # The console's test call: never in the middle of a hearing; after it, the kiosk goes.
    assert on_server(live_server, lambda: presence.tell(endpoint, {"type": "test_call"}))
    time.sleep(0.5)
    assert where(page) == "/device" and kiosk_state(page) == "in_session"
    bench.move("close")
    wait_for_state(page, "ended")
    assert on_server(live_server, lambda: presence.tell(endpoint, {"type": "test_call"}))
    wait_until(lambda: where(page) == "/device/test-call?auto=1")


@pytest.mark.timeout(120)
def test_the_kiosk_pins_the_interpreter_when_the_hearing_has_one(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    def book_interpreter(db: Any) -> int:
        interpreter = Participant(
            hearing_id=court.hearing_a,
            role=ParticipantRole.INTERPRETER,
            display_name="Test Interpreter",
            connection=Connection.REMOTE,
        )
        db.add(interpreter)
        db.flush()
        return int(interpreter.id)

    seat = f"interpreter-{services.unit_of_work(book_interpreter)}"
    open_hearing(services, court.hearing_a)
    page, _ = enrolled_kiosk(browser, live_server, services)
    wait_for_state(page, "lobby")
    # Its offer pins the courtroom program and the interpreter's picture, each on a section of its own.
    assert page.evaluate("window.kiosk.link.views") == ["courtroom", seat]
    Bench(live_server, services, court).command("admit", seat="custody")
    wait_for_state(page, "admitted")
    tile = page.locator("[data-role=interpreter]")
    assert tile.is_visible()
    # No interpreter connected: the tile says so in words.
    wait_until(lambda: tile.locator("[data-role=overlay]").inner_text() == "Intet billede af tolken")
    look(page, "interpreter")
