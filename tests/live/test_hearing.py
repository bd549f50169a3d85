"""The live hearing: one owner of a hearing in progress. Driven directly,
without sockets or peers: channels that keep what they are told, sinks
that keep what they are routed, a fake clock, and the switchboard ticked by
hand (the room's own mixer task is never started)."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import numpy as np
import pytest

from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection as C
from hearing.docket.parties import ParticipantRole as R
from hearing.errors import HearingNotOpen
from hearing.live.hearing import RECONNECT_SECONDS, LiveHearing
from hearing.live.registry import LiveHearings
from hearing.media.mixer import FRAME_SAMPLES, Level, Pcm
from hearing.media.switchboard import Receiver, Sender, View
from hearing.media.vp8 import EncodedFrame
from hearing.routing import seats
from hearing.routing.policy import RECORDER, FloorMode, Interpretation
from hearing.speaker_order.floor import Floor

DOCKET = [
    seats.Party(1, R.DETAINEE, C.CUSTODY, "Detainee"),
    seats.Party(2, R.PROSECUTOR, C.COURTROOM, "Prosecutor"),
    seats.Party(4, R.INTERPRETER, C.REMOTE, "Interpreter"),
]
VALUES = {"judge": 1, "courtroom": 10, "custody": 100, "interpreter-4": 1000}


class Channel:
    def __init__(self) -> None:
        self.told: list[dict[str, Any]] = []
        self.dismissed: str | None = None

    def deliver(self, message: dict[str, Any]) -> None:
        self.told.append(message)

    def dismiss(self, reason: str) -> None:
        self.dismissed = reason

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.told if m["type"] == kind]


class Sink:
    def __init__(self) -> None:
        self.pcm: list[Pcm] = []
        self.frames: list[EncodedFrame] = []

    def push(self, item: Pcm | EncodedFrame) -> None:
        (self.frames if isinstance(item, EncodedFrame) else self.pcm).append(item)  # type: ignore[arg-type]

    def switch(self) -> None:
        pass


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def first_floor() -> Floor:
    return Floor.for_seating(seats.seating(DOCKET))


def live_hearing(clock: Clock | None = None) -> LiveHearing:
    return LiveHearing(7, first_floor(), HearingState.OPEN, clock=clock or Clock())


_TICKS: weakref.WeakKeyDictionary[LiveHearing, int] = weakref.WeakKeyDictionary()


def speak_and_tick(live: LiveHearing) -> None:
    """Every seat says its value for one 20 ms frame, and the mixer ticks."""
    ticks = _TICKS.get(live, 0)
    _TICKS[live] = ticks + 1
    for seat, value in VALUES.items():
        live.room.board.hear(seat, ticks * FRAME_SAMPLES, np.full(FRAME_SAMPLES, value, dtype=np.int16))
    live.room.board.tick()


def connect_senders(live: LiveHearing) -> None:
    for seat in VALUES:
        live.room.board.connect(Sender(seat))


def test_a_floor_command_does_not_undo_the_recording_and_the_interpretation_is_the_floors() -> None:
    live = live_hearing()
    live.set_recording(True)
    live.follow(live.floor.admit("custody"))
    live.follow(live.floor.admit("interpreter-4"))
    live.follow(live.floor.interpret(Interpretation.SIMULTANEOUS))
    state = live.media_state()
    assert state.recording and state.interpretation is Interpretation.SIMULTANEOUS
    assert state.needs_interpretation == {"custody"}
    assert RECORDER in live.room.routes
    # The court hears the original; the detainee hears the interpreter over the ducked court.
    assert not live.room.routes["judge"].hears("interpreter-4")
    assert live.room.routes["custody"].hears("interpreter-4")
    live.follow(live.floor.request("courtroom:prosecutor"))
    live.set_recording(False)
    assert RECORDER not in live.room.routes and live.media_state().interpretation is Interpretation.SIMULTANEOUS


def test_every_seat_and_panel_is_told_the_interpretation_when_it_changes_and_only_then() -> None:
    async def scenario() -> None:
        live = live_hearing()
        custody, interpreter, panel = Channel(), Channel(), Channel()
        for seat in ("custody", "interpreter-4"):
            live.follow(live.floor.admit(seat))
        await live.seat_connected("custody", custody)
        await live.seat_connected("interpreter-4", interpreter)
        live.panel_opened(panel)
        welcome = live.welcome("custody")["interpretation"]
        assert welcome == {
            "mode": "none",
            "direction": "none",
            "needs": [],
            "heard_by": {"custody": welcome["heard_by"]["custody"]},
        }
        assert welcome["heard_by"]["custody"] == ["courtroom", "interpreter-4", "judge"]

        live.follow(live.floor.set_mode(FloorMode.CONTROLLED))  # custody falls silent to the court
        told = custody.of("interpretation")
        assert told[-1]["heard_by"] == {"custody": ["interpreter-4"]}  # the interpreter hears every party
        live.follow(live.floor.interpret(Interpretation.SIMULTANEOUS))
        told = custody.of("interpretation")[-1]
        assert (told["mode"], told["direction"], told["needs"]) == ("simultaneous", "to_party", ["custody"])
        assert interpreter.of("interpretation")[-1]["heard_by"] == {"interpreter-4": ["custody"]}
        whole = panel.of("interpretation")[-1]
        assert whole["heard_by"]["interpreter-4"] == ["custody"] and whole["heard_by"]["custody"] == ["interpreter-4"]

        # The detainee is given the floor: the direction turns, without anyone switching it.
        count = len(custody.of("interpretation")), len(panel.of("interpretation"))
        live.follow(live.floor.grant("custody:detainee"))
        told = custody.of("interpretation")[-1]
        assert told["direction"] == "to_court" and told["heard_by"] == {
            "custody": ["courtroom", "interpreter-4", "judge"]
        }
        assert interpreter.of("interpretation")[-1]["heard_by"] == {"interpreter-4": ["courtroom", "judge"]}
        assert panel.of("interpretation")[-1]["direction"] == "to_court"
        assert (len(custody.of("interpretation")), len(panel.of("interpretation"))) == (count[0] + 1, count[1] + 1)
        # A floor change that changes nothing of it tells nobody again.
        live.follow(live.floor.request("courtroom:prosecutor"))
        assert (len(custody.of("interpretation")), len(panel.of("interpretation"))) == (count[0] + 1, count[1] + 1)
        # The recorder starting changes who hears each seat: told.
        live.set_recording(True)
        assert custody.of("interpretation")[-1]["heard_by"]["custody"][-1] == RECORDER
        snapshot = live.snapshot()["interpretation"]
        assert snapshot["direction"] == "to_court" and set(snapshot["heard_by"]) == set(live.floor.seat_roles)

    asyncio.run(scenario())


def test_an_older_floor_is_never_followed_and_news_reaches_seats_and_panels() -> None:
    async def scenario() -> None:
        live = live_hearing()
        custody, panel = Channel(), Channel()
        await live.seat_connected("custody", custody)
        live.panel_opened(panel)
        admitted = live.floor.admit("custody")
        newer = admitted.request("custody:detainee")
        assert live.follow(newer) is True
        assert live.follow(admitted) is False  # arrived late: the newer stands
        assert live.follow(newer) is False  # the same version again is no news
        assert live.floor is newer and not live.room.routes["judge"].audio == ()
        assert [m["version"] for m in custody.of("floor")] == [newer.version]
        assert custody.of("floor")[0]["queued"] == ["custody:detainee"]  # its own view only
        assert [m["version"] for m in panel.of("floor")] == [newer.version]
        assert panel.of("floor")[0]["floor"] == newer.to_json()

    asyncio.run(scenario())


def test_a_seat_has_one_connection_and_a_newer_one_replaces_it() -> None:
    async def scenario() -> None:
        live = live_hearing()
        panel, first, second = Channel(), Channel(), Channel()
        live.panel_opened(panel)
        await live.seat_connected("custody", first)
        await live.seat_connected("custody", second)
        assert first.dismissed == "replaced" and second.dismissed is None
        assert live.connected == {"custody"}
        # The replaced connection's end leaves its successor in its seat.
        assert await live.seat_disconnected("custody", first) is False
        assert live.seat_presence()["custody"]["present"] is True
        live.turn_away("custody")
        assert second.dismissed == "denied"
        assert await live.seat_disconnected("custody", second) is True
        assert live.connected == frozenset() and panel.of("presence")[-1]["seats"]["custody"]["present"] is False

    asyncio.run(scenario())


def test_a_seat_back_within_a_minute_is_a_reconnect() -> None:
    async def scenario() -> None:
        clock = Clock()
        live = live_hearing(clock)
        channel = Channel()
        assert not live.returning("custody")
        await live.seat_connected("custody", channel)
        await live.seat_disconnected("custody", channel)
        clock.now += RECONNECT_SECONDS - 1
        assert live.returning("custody")
        clock.now += 2
        assert not live.returning("custody")

    asyncio.run(scenario())


def test_a_sink_that_is_not_a_peer_is_routed_like_a_seat_and_gets_nothing_of_a_consultation() -> None:
    live = live_hearing()
    connect_senders(live)
    live.follow(live.floor.admit("custody").admit("interpreter-4"))
    recorder, preview = Sink(), Sink()
    live.attach(Receiver(RECORDER, audio=recorder))
    live.attach(Receiver("courtroom", audio=preview))  # a preview of what the courtroom is sent
    live.set_recording(True)
    speak_and_tick(live)
    assert int(recorder.pcm[-1][0]) == sum(VALUES.values())
    assert int(preview.pcm[-1][0]) == sum(VALUES.values()) - VALUES["courtroom"]
    live.follow(live.floor.begin_consultation(seats.seating(DOCKET).consultation))
    speak_and_tick(live)
    assert int(recorder.pcm[-1][0]) == sum(VALUES.values()) - VALUES["custody"]
    assert int(preview.pcm[-1][0]) == VALUES["judge"] + VALUES["interpreter-4"]
    live.detach(RECORDER)
    speak_and_tick(live)
    assert len(recorder.pcm) == 2


def test_a_seat_is_told_whose_picture_it_gets_and_why_not() -> None:
    async def scenario() -> None:
        live = live_hearing()
        judge = Channel()
        await live.seat_connected("judge", judge)
        for seat in ("courtroom", "custody"):
            live.room.board.connect(Sender(seat))
            live.room.board.sends_video(seat)
        views = [View("custody", Sink()), View("courtroom", Sink()), View("interpreter-4", Sink())]
        live.attach(Receiver("judge", picture=Sink(), views=views))
        live._tell_pictures("judge")  # noqa: SLF001 (what negotiate() does once a peer has joined)
        told = judge.of("pictures")[-1]
        # Custody waits in the lobby: never the main picture, but the bench,
        # which decides whom to admit, sees it in its own view.
        assert told["main"] == {"source": "courtroom", "shown": True}
        assert told["views"] == {
            "custody": {"source": "custody", "shown": True},
            "courtroom": {"source": "courtroom", "shown": True},
            "interpreter-4": {"source": "interpreter-4", "shown": False, "reason": "no_picture"},
        }
        live.follow(live.floor.admit("custody").admit("interpreter-4"))
        told = judge.of("pictures")[-1]
        assert told["main"] == {"source": "custody", "shown": True}
        assert told["views"]["interpreter-4"] == {"source": "interpreter-4", "shown": False, "reason": "no_picture"}
        live.follow(live.floor.begin_consultation(frozenset({"custody"})))
        assert judge.of("pictures")[-1]["views"]["custody"] == {
            "source": "custody",
            "shown": False,
            "reason": "consultation",
        }
        count = len(judge.of("pictures"))
        live.follow(live.floor.set_mode(live.floor.mode.__class__("controlled")))
        assert len(judge.of("pictures")) == count  # nothing changed for the judge's screen: not told again

    asyncio.run(scenario())


def test_levels_go_to_the_bench_and_health_to_the_seat_itself_too() -> None:
    async def scenario() -> None:
        live = live_hearing()
        judge, custody, panel = Channel(), Channel(), Channel()
        await live.seat_connected("judge", judge)
        await live.seat_connected("custody", custody)
        live.panel_opened(panel)
        live._level("custody", Level(-20.0, True))  # noqa: SLF001 (what the room reports)
        assert judge.of("level") and panel.of("level") and not custody.of("level")

    asyncio.run(scenario())


def test_the_end_dismisses_everyone_and_the_registry_forgets_the_hearing() -> None:
    async def scenario() -> None:
        hearings = LiveHearings()
        live = await hearings.open(7, first_floor(), HearingState.OPEN)
        assert await hearings.open(7, first_floor(), HearingState.OPEN) is live
        custody, panel = Channel(), Channel()
        await live.seat_connected("custody", custody)
        live.panel_opened(panel)
        live.lifecycle_moved(HearingState.IN_SESSION)
        assert panel.of("hearing")[-1] == {
            "type": "hearing",
            "hearing_state": "in_session",
            "transitions": ["pause", "begin_consultation", "adjourn", "close", "convert_to_physical"],
        }
        await hearings.end(7, HearingState.CLOSED)
        assert custody.dismissed == panel.dismissed == "ended"
        assert panel.of("hearing")[-1]["transitions"] == []
        assert hearings.get(7) is None
        await hearings.end(7, HearingState.CLOSED)  # twice is harmless
        with pytest.raises(HearingNotOpen):  # a connection admitted just before the end
            await hearings.open(7, first_floor(), HearingState.IN_SESSION)

    asyncio.run(scenario())


# --- plan B: audio only, interruptions ------------------------------------------


def _health(fps: float, kbps: float) -> Any:
    from hearing.media.health import Grade, Health

    return Health(
        rtt_ms=20.0,
        loss_percent=0.0,
        jitter_ms=2.0,
        bitrate_kbps=kbps,
        fps=fps,
        width=640,
        height=360,
        grade=Grade.GOOD,
    )


def test_the_health_samples_decide_audio_only_and_everyone_is_told() -> None:
    async def scenario() -> None:
        live = live_hearing()
        live.follow(live.floor.admit("custody"))
        custody, judge, panel = Channel(), Channel(), Channel()
        await live.seat_connected("custody", custody)
        await live.seat_connected("judge", judge)
        live.panel_opened(panel)
        for fps, kbps in ((25, 900), (0, 40), (0, 40)):
            live._health("custody", _health(fps, kbps))
        told = {"type": "link", "seat": "custody", "audio_only": True}
        assert custody.of("link") == judge.of("link") == panel.of("link") == [told]
        assert "custody" not in live.room.routes["judge"].video and live.room.routes["custody"].video == ()
        assert live.room.routes["judge"].hears("custody")
        assert live.snapshot()["audio_only"] == ["custody"]
        for _ in range(3):
            live._health("custody", _health(25, 900))
        assert panel.of("link")[-1] == {**told, "audio_only": False}
        assert "custody" in live.room.routes["judge"].video

    asyncio.run(scenario())


def test_a_seat_that_leaves_on_audio_only_is_judged_afresh_when_back() -> None:
    async def scenario() -> None:
        live = live_hearing()
        live.follow(live.floor.admit("custody"))
        first, panel = Channel(), Channel()
        await live.seat_connected("custody", first)
        live.panel_opened(panel)
        for fps, kbps in ((25, 900), (0, 40), (0, 40)):
            live._health("custody", _health(fps, kbps))
        await live.seat_disconnected("custody", first)
        assert live.audio_only == frozenset()
        assert panel.of("link")[-1]["audio_only"] is False

    asyncio.run(scenario())


def test_an_interruption_is_told_with_its_time_and_ends_with_its_duration() -> None:
    async def scenario() -> None:
        clock = Clock()
        live = LiveHearing(7, first_floor(), HearingState.IN_SESSION, clock=clock, wall=lambda: 1_800_000_000.0)
        judge, panel = Channel(), Channel()
        await live.seat_connected("judge", judge)
        live.panel_opened(panel)
        live.interrupted("custody", paused=True)
        told = {"type": "interruption", "seat": "custody", "since": 1_800_000_000.0, "paused": True}
        assert panel.of("interruption") == judge.of("interruption") == [told]
        assert live.snapshot()["interruptions"] == {"custody": {"since": 1_800_000_000.0, "paused": True}}
        clock.now += 21.0
        ended = live.restored("custody")
        assert ended is not None and ended[1:] == (21.0, True)
        assert panel.of("interruption")[-1] == {**told, "since": None, "duration_seconds": 21.0, "in_time": True}
        assert live.restored("custody") is None and live.snapshot()["interruptions"] == {}
        live.interrupted("custody", paused=False)
        clock.now += RECONNECT_SECONDS
        ended = live.restored("custody")
        assert ended is not None and ended[2] is False

    asyncio.run(scenario())
