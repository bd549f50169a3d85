"""The switchboard, deterministically: no peers, no clock but a fake one, no
sleeps. Each sender's audio is a constant frame whose value names it, so a
mix is the sum of exactly the values its route lets through."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

from hearing.docket.parties import ParticipantRole as R
from hearing.media.mixer import FRAME_SAMPLES, Pcm
from hearing.media.playout import PATIENCE
from hearing.media.switchboard import KEYFRAME_REQUEST_INTERVAL, Receiver, Sender, Switchboard, View
from hearing.media.vp8 import EncodedFrame
from hearing.routing.policy import RECORDER, FloorMode, Hidden, MediaState, Medium

ROLES = {"judge": R.JUDGE, "courtroom": R.JUDGE, "custody": R.DETAINEE, "interpreter-4": R.INTERPRETER}
VALUES = {"judge": 1, "courtroom": 10, "custody": 100, "interpreter-4": 1000}


class Sink:
    """A receiver that is not a peer: it keeps what it is given."""

    def __init__(self) -> None:
        self.pcm: list[Pcm] = []
        self.frames: list[EncodedFrame] = []
        self.switches = 0

    def push(self, item: Pcm | EncodedFrame) -> None:
        if isinstance(item, EncodedFrame):
            self.frames.append(item)
        else:
            self.pcm.append(item)

    def switch(self) -> None:
        self.switches += 1

    @property
    def heard(self) -> int:
        """The value of the last mix: the sum of the senders it was given."""
        assert self.pcm, "nothing mixed for this receiver"
        value = int(self.pcm[-1][0])
        assert (self.pcm[-1] == value).all()
        return value


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frame(seat: str, *, keyframe: bool = False, ssrc: int = 1) -> EncodedFrame:
    return EncodedFrame(seat.encode(), timestamp=0, keyframe=keyframe, ssrc=ssrc, complete=True, after_gap=False)


def board_with_everyone(state: MediaState, clock: Clock | None = None) -> tuple[Switchboard, dict[str, Sink]]:
    board = Switchboard(state, clock=clock or Clock())
    sinks = {}
    for seat in ROLES:
        board.connect(Sender(seat))
        sinks[seat] = Sink()
        board.attach(Receiver(seat, audio=sinks[seat], picture=sinks[seat]))
    return board, sinks


_SPOKEN: weakref.WeakKeyDictionary[Switchboard, dict[str, int]] = weakref.WeakKeyDictionary()


def say(board: Switchboard, seat: str, value: int) -> None:
    """One 20 ms frame from a seat, the next in its RTP timeline."""
    spoken = _SPOKEN.setdefault(board, {})
    timestamp = spoken.get(seat, 0)
    spoken[seat] = timestamp + FRAME_SAMPLES
    board.hear(seat, timestamp, np.full(FRAME_SAMPLES, value, dtype=np.int16))


def speak(board: Switchboard, seats: list[str] | None = None) -> None:
    for seat in seats or list(ROLES):
        say(board, seat, VALUES[seat])


def test_each_receiver_hears_exactly_its_route_and_never_itself() -> None:
    board, sinks = board_with_everyone(MediaState(ROLES))
    speak(board)
    board.tick()
    everyone = sum(VALUES.values())
    assert {seat: sink.heard for seat, sink in sinks.items()} == {seat: everyone - VALUES[seat] for seat in ROLES}
    board.reroute(MediaState(ROLES, mode=FloorMode.CONTROLLED, muted=frozenset({"custody"})))
    speak(board)
    board.tick()
    assert sinks["judge"].heard == VALUES["courtroom"] + VALUES["interpreter-4"]
    # The interpreter hears every party the judge has not muted, whatever the mode.
    assert sinks["interpreter-4"].heard == VALUES["judge"] + VALUES["courtroom"]


def test_one_frame_per_sender_per_tick_and_silence_for_one_that_sent_nothing() -> None:
    board, sinks = board_with_everyone(MediaState(ROLES))
    speak(board, ["custody"])
    speak(board, ["custody"])
    board.tick()
    assert sinks["judge"].heard == VALUES["custody"]
    board.tick()
    assert sinks["judge"].heard == VALUES["custody"]  # the second frame, one tick later
    board.tick()
    assert sinks["judge"].heard == 0


def test_a_sink_that_is_not_a_peer_gets_exactly_the_recorders_route_and_nothing_of_a_consultation() -> None:
    board, _ = board_with_everyone(MediaState(ROLES, recording=True))
    recorder = Sink()
    board.attach(Receiver(RECORDER, audio=recorder, picture=recorder))
    board.sends_video("custody")
    speak(board)
    board.tick()
    assert recorder.heard == sum(VALUES.values())  # the record keeps everyone, the interpreter included
    board.forward("custody", frame("custody", keyframe=True))
    assert [f.data for f in recorder.frames] == [b"custody"]
    board.reroute(MediaState(ROLES, recording=True, consultation=frozenset({"custody"})))
    speak(board)
    board.tick()
    assert recorder.heard == sum(VALUES.values()) - VALUES["custody"]
    board.forward("custody", frame("custody", keyframe=True))
    assert len(recorder.frames) == 1  # not one more frame of the consultation
    board.reroute(MediaState(ROLES, recording=False))
    speak(board)
    board.tick()
    assert recorder.heard == sum(VALUES.values()) - VALUES["custody"]  # unchanged: no route, no mix


def test_the_main_picture_is_the_floor_holders_else_by_preference_and_views_follow_the_route() -> None:
    board = Switchboard(MediaState(ROLES))
    for seat in ("courtroom", "custody", "interpreter-4"):
        board.connect(Sender(seat))
        board.sends_video(seat)
    judge_main, custody_view = Sink(), Sink()
    told: list[tuple[str | None, list[bool]]] = []
    board._on_pictures = lambda r: told.append((r.showing, [v.live for v in r.views]))  # noqa: SLF001
    board.attach(Receiver("judge", picture=judge_main, views=[View("custody", custody_view)]))
    assert board.receivers["judge"].showing == "custody" and told[-1] == ("custody", [True])
    board.reroute(MediaState(ROLES, floor="interpreter-4"))
    assert board.receivers["judge"].showing == "interpreter-4"
    board.forward("interpreter-4", frame("interpreter-4"))
    board.forward("custody", frame("custody"))
    assert [f.data for f in judge_main.frames] == [b"interpreter-4"]
    assert [f.data for f in custody_view.frames] == [b"custody"]
    hidden = frozenset({Hidden("custody", "judge", Medium.VIDEO)})
    board.reroute(MediaState(ROLES, floor="interpreter-4", hidden=hidden))
    assert told[-1] == ("interpreter-4", [False])
    board.forward("custody", frame("custody"))
    assert len(custody_view.frames) == 1  # screened: the view is cut at the server
    switches = custody_view.switches
    board.reroute(MediaState(ROLES, floor="interpreter-4"))
    assert custody_view.switches == switches + 1  # back from the source's next keyframe


def test_keyframe_requests_go_upstream_at_most_every_300_ms() -> None:
    clock = Clock()
    asked: list[int] = []
    board = Switchboard(MediaState(ROLES), clock=clock)
    board.connect(Sender("custody", request_keyframe=asked.append))
    board.keyframe_from("custody")
    assert asked == []  # nothing has arrived yet: no SSRC to ask
    board.sends_video("custody")
    board.forward("custody", frame("custody", ssrc=77))
    board.attach(Receiver("judge", picture=Sink()))
    board.keyframe_for("judge")
    board.keyframe_for("judge")
    clock.now += KEYFRAME_REQUEST_INTERVAL - 0.01
    board.keyframe_from("custody")
    assert asked == [77]
    clock.now += 0.02
    board.keyframe_for("judge")
    assert asked == [77, 77]


def test_levels_are_reported_ten_times_a_second_and_the_first_mix_by_new_routes_once() -> None:
    levels: list[tuple[str, bool]] = []
    first_mixes: list[int] = []
    board = Switchboard(
        MediaState(ROLES),
        on_level=lambda seat, level: levels.append((seat, level.speaking)),
        on_first_mix=lambda: first_mixes.append(1),
    )
    board.connect(Sender("custody"))
    for loud in [True] * 5 + [False] * 30:
        say(board, "custody", 8000 if loud else 0)
        board.tick()
    # One report per 100 ms; speech holds for 300 ms after the last loud frame.
    assert levels == [("custody", True)] * 4 + [("custody", False)] * 3
    assert first_mixes == []
    board.reroute(MediaState(ROLES, muted=frozenset({"custody"})))
    board.tick()
    board.tick()
    assert first_mixes == [1]


def test_a_seat_that_leaves_is_neither_heard_nor_shown() -> None:
    board, sinks = board_with_everyone(MediaState(ROLES))
    board.sends_video("custody")
    assert board.receivers["judge"].showing == "custody"
    board.disconnect("custody")
    speak(board, ["courtroom"])
    say(board, "custody", 5)  # late audio from a seat that left
    board.tick()
    assert sinks["judge"].heard == VALUES["courtroom"]
    assert board.receivers["judge"].showing is None


@pytest.mark.parametrize("seat", ["custody", "nobody"])
def test_frames_from_unknown_or_unsent_seats_change_nothing(seat: str) -> None:
    board, sinks = board_with_everyone(MediaState(ROLES))
    board.forward(seat, frame(seat))  # custody has not said it sends video: it is shown to no one
    assert all(not sink.frames for sink in sinks.values())


def test_a_tick_waits_only_for_a_frame_on_its_way_from_someone_heard() -> None:
    clock = Clock()
    board, sinks = board_with_everyone(MediaState(ROLES), clock)
    assert board.due_wait() == 0.0  # no one has sent anything yet: no one to wait for
    speak(board)
    board.tick()
    speak(board, ["courtroom", "interpreter-4", "judge"])  # custody's next frame is late
    wait = board.due_wait()
    assert 0 < wait <= PATIENCE + 1e-9
    clock.now += 0.005
    say(board, "custody", VALUES["custody"])  # here it is, 5 ms into the tick
    assert board.due_wait() == 0.0
    board.tick()
    assert sinks["judge"].heard == sum(VALUES.values()) - VALUES["judge"]  # no gap: it made this tick
    # A seat no one hears is not waited for.
    board.reroute(MediaState(ROLES, muted=frozenset({"custody"})))
    speak(board, ["courtroom", "interpreter-4", "judge"])
    assert board.due_wait() == 0.0
    board.tick()
    # Nor one that has stopped sending (nothing came for its last slot, nor after).
    board.reroute(MediaState(ROLES))
    speak(board, ["courtroom", "interpreter-4", "judge"])
    assert board.due_wait() == 0.0
    board.tick()
    speak(board)  # custody speaks again: its frames are waited for again
    board.tick()
    speak(board, ["courtroom", "interpreter-4", "judge"])
    assert board.due_wait() > 0
