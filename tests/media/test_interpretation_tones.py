"""Simultaneous interpretation at the media level, with tones (issue 12): the
detainee in custody, a remote prosecutor, remote defence counsel, a remote
interpreter, the judge and the courtroom, each sending a tone of its own,
and a recorder sink attached as RECORDER. Real aiortc peers, real Opus, the
room's mixer, driven by a LiveHearing that follows floors exactly as after
each commit: the routes come from the floor alone (hearing/live/hearing.py
compose()), so the direction turns when the floor does, with nobody
switching it. Receivers measure which tones they get, and how loud."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest

from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection as C
from hearing.docket.parties import ParticipantRole as R
from hearing.live.hearing import LiveHearing
from hearing.media.mixer import SAMPLE_RATE, Pcm
from hearing.media.switchboard import Receiver
from hearing.routing import seats
from hearing.routing.policy import DUCKED_GAIN, RECORDER, Direction, FloorMode, Interpretation
from hearing.speaker_order.floor import Floor
from tests.media.peers import Peer, tones_in
from tests.media.test_consultation_booth import RecorderSink
from tests.waiting import wait_until_async

DOCKET = [
    seats.Party(1, R.DETAINEE, C.CUSTODY, "Detainee"),
    seats.Party(2, R.PROSECUTOR, C.REMOTE, "Prosecutor"),
    seats.Party(3, R.DEFENCE_COUNSEL, C.REMOTE, "Counsel"),  # remote counsel: confers from their own seat
    seats.Party(4, R.INTERPRETER, C.REMOTE, "Interpreter"),
]
INTERPRETER = "interpreter-4"
# Whole cycles in a 20 ms frame, well apart, within Opus's band.
TONES = {
    "judge": 450.0,
    "courtroom": 1150.0,
    "custody": 1950.0,
    "prosecutor-2": 2750.0,
    "counsel-3": 3550.0,
    INTERPRETER: 4350.0,
}
AMPLITUDE = 0.12  # six tones summed stay below full scale: no clipping, no intermodulation
WINDOW = 25  # half a second of audio


class Feed:
    """A panel: keeps what the live hearing tells it."""

    def __init__(self) -> None:
        self.told: list[dict[str, Any]] = []

    def deliver(self, message: dict[str, Any]) -> None:
        self.told.append(message)

    def dismiss(self, reason: str) -> None:
        pass

    def heard_by(self) -> dict[str, list[str]]:
        return [m for m in self.told if m["type"] == "interpretation"][-1]["heard_by"]  # type: ignore[no-any-return]


def levels(frames: list[Pcm]) -> dict[str, float]:
    """Each tone's amplitude in these frames (the spectrum's peak at its bin)."""
    signal = np.concatenate(frames).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    bins = np.fft.rfftfreq(len(signal), 1 / SAMPLE_RATE)
    return {name: float(spectrum[np.argmin(np.abs(bins - f))]) for name, f in TONES.items()}


def _tones(frames: list[Pcm]) -> set[str]:
    # Silence has no loudest tone: tones_in would call the noise a tone.
    if max(float(np.abs(f).max()) for f in frames) < 200:
        return set()
    return tones_in(frames, TONES)


async def listen(peers: dict[str, Peer], recorder: RecorderSink) -> dict[str, list[Pcm]]:
    """Half a second of what each receiver hears from now on, once the change
    has reached every ear."""
    await asyncio.sleep(0.3)  # the routes apply at the mixer's next tick; Opus and the network add a little
    since = time.monotonic()
    await wait_until_async(
        lambda: (
            all(len(p.frames_since(since)) >= WINDOW for p in peers.values())
            and sum(1 for at, _ in recorder.heard if at >= since) >= WINDOW
        ),
        describe=lambda: {name: len(p.frames_since(since)) for name, p in peers.items()},
    )
    heard = {name: p.frames_since(since)[-WINDOW:] for name, p in peers.items()}
    heard[RECORDER] = [pcm for at, pcm in recorder.heard if at >= since][-WINDOW:]
    return heard


def hearing_floor() -> tuple[seats.Seating, Floor]:
    seating = seats.seating(DOCKET)
    floor = Floor.for_seating(seating)
    for seat in sorted(floor.lobby):
        floor = floor.admit(seat)
    # Controlled: only the court, the floor holder and the interpreter are heard.
    return seating, floor.set_mode(FloorMode.CONTROLLED).interpret(Interpretation.SIMULTANEOUS)


@pytest.mark.timeout(180)
def test_simultaneous_interpretation_follows_the_floor_at_every_ear() -> None:
    seating, floor = hearing_floor()
    assert floor.needs_interpretation == {"custody"}  # by default, the detainee
    assert seating.consultation == {"custody", "counsel-3"}
    parties = set(TONES)

    async def scenario() -> None:
        live = LiveHearing(1, floor, HearingState.IN_SESSION)
        panel = Feed()
        live.panel_opened(panel)
        await live.start()
        recorder = RecorderSink()
        live.set_recording(True)
        live.attach(Receiver(RECORDER, audio=recorder))
        peers = {seat: Peer(seat, tone=tone) for seat, tone in TONES.items()}
        for peer in peers.values():
            assert peer.tone is not None
            peer.tone.amplitude = AMPLITUDE
        try:
            for peer in peers.values():
                await peer.join(live.room)

            async def hear() -> tuple[dict[str, set[str]], dict[str, dict[str, float]]]:
                frames = await listen(peers, recorder)
                return {k: _tones(v) for k, v in frames.items()}, {k: levels(v) for k, v in frames.items()}

            def check_heard_by(heard: dict[str, set[str]]) -> None:
                # What every page is told of who hears the interpreter is what the ears say.
                hearing_it = {receiver for receiver, tones in heard.items() if INTERPRETER in tones}
                assert set(panel.heard_by()[INTERPRETER]) == hearing_it

            # --- The court holds the floor: the rendition goes to the detainee.
            assert live.floor.direction is Direction.TO_PARTY
            heard, level = await hear()
            assert heard["custody"] == {"judge", "courtroom", INTERPRETER}
            assert INTERPRETER not in heard["prosecutor-2"] and INTERPRETER not in heard["courtroom"]
            assert heard["prosecutor-2"] == {"judge", "courtroom"}
            # The court is ducked under the interpreter for the detainee, and only for them.
            assert level["custody"]["judge"] < 0.5 * level["custody"][INTERPRETER]
            assert level["prosecutor-2"]["judge"] > 0.5 * level["custody"][INTERPRETER]
            # The interpreter hears every party, live or not.
            assert heard[INTERPRETER] == parties - {INTERPRETER}
            assert heard[RECORDER] == {"judge", "courtroom", INTERPRETER}
            check_heard_by(heard)

            # --- The detainee is given the floor: the rendition turns to the court, by itself.
            live.follow(live.floor.grant("custody:detainee"))
            assert live.floor.direction is Direction.TO_COURT
            heard, level = await hear()
            assert INTERPRETER not in heard["custody"] and heard["custody"] == {"judge", "courtroom"}
            for court in ("judge", "courtroom", "prosecutor-2", "counsel-3"):
                assert {"custody", INTERPRETER} <= heard[court], court
                # The court hears the detainee ducked under the rendition.
                assert level[court]["custody"] < 0.5 * level[court][INTERPRETER], court
            assert heard[INTERPRETER] == parties - {INTERPRETER}
            # The record keeps both voices, neither ducked.
            assert {"custody", INTERPRETER} <= heard[RECORDER]
            ratio = level[RECORDER]["custody"] / level[RECORDER][INTERPRETER]
            assert 0.6 < ratio < 1.6, ratio
            assert ratio > 2 * DUCKED_GAIN
            check_heard_by(heard)

            # --- The floor taken back: to the detainee again.
            live.follow(live.floor.take_back())
            heard, _ = await hear()
            assert INTERPRETER in heard["custody"] and INTERPRETER not in heard["prosecutor-2"]
            check_heard_by(heard)

            # --- A private consultation with remote counsel, without the interpreter:
            # silent to the interpreter, and to the court; counsel and the detainee hear each other.
            live.follow(live.floor.begin_consultation(seating.consultation))
            heard, _ = await hear()
            assert heard["custody"] == {"counsel-3"} and heard["counsel-3"] == {"custody"}
            assert not {"custody", "counsel-3"} & heard[INTERPRETER]
            assert heard[INTERPRETER] == {"judge", "courtroom", "prosecutor-2"}
            for outsider in ("judge", "courtroom", "prosecutor-2", RECORDER):
                assert not {"custody", "counsel-3"} & heard[outsider], outsider
            check_heard_by(heard)
        finally:
            for peer in peers.values():
                await peer.close()
            await live.stop()

    asyncio.run(scenario())
