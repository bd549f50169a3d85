"""The consultation with counsel in the booth, at the media level, with tones:
the detainee in custody, counsel in the consultation booth, the judge, the
courtroom (where the prosecutor sits), a remote interpreter, and a recorder
sink attached as RECORDER. Real aiortc peers, real Opus, the room's mixer;
the consultation's members and routes come from the docket's seating and
the floor, as in a hearing (hearing/live/hearing.py compose())."""

from __future__ import annotations

import asyncio
import time

import pytest

from hearing.docket.parties import Connection as C
from hearing.docket.parties import ParticipantRole as R
from hearing.live.hearing import compose
from hearing.media.mixer import Pcm
from hearing.media.room import Room
from hearing.media.switchboard import Receiver
from hearing.routing import seats
from hearing.routing.policy import RECORDER, route
from hearing.speaker_order.floor import Floor
from tests.media.peers import Peer, tones_in
from tests.waiting import wait_until_async

DOCKET = [
    seats.Party(1, R.DETAINEE, C.CUSTODY, "Detainee"),
    seats.Party(2, R.PROSECUTOR, C.COURTROOM, "Prosecutor"),
    seats.Party(3, R.DEFENCE_COUNSEL, C.COURTROOM, "Counsel"),  # confers from the booth
    seats.Party(4, R.INTERPRETER, C.REMOTE, "Interpreter"),
]
TONES = {"judge": 450.0, "courtroom": 1150.0, "custody": 1950.0, "booth": 2750.0, "interpreter-4": 3550.0}
WINDOW = 25  # half a second of audio


class RecorderSink:
    def __init__(self) -> None:
        self.heard: list[tuple[float, Pcm]] = []

    def push(self, pcm: Pcm) -> None:
        self.heard.append((time.monotonic(), pcm))


def floor_of_the_hearing() -> tuple[seats.Seating, Floor]:
    seating = seats.seating(DOCKET)
    floor = Floor.for_seating(seating)
    for seat in floor.lobby:
        floor = floor.admit(seat)
    return seating, floor


async def hear(peers: dict[str, Peer], recorder: RecorderSink) -> dict[str, set[str]]:
    """Who hears whom from now on: after the change has reached every ear."""
    await asyncio.sleep(0.3)  # the routes apply at the mixer's next tick; Opus and the network add a little
    since = time.monotonic()
    await wait_until_async(
        lambda: (
            all(len(p.frames_since(since)) >= WINDOW for p in peers.values())
            and sum(1 for at, _ in recorder.heard if at >= since) >= WINDOW
        ),
        describe=lambda: {name: len(p.frames_since(since)) for name, p in peers.items()},
    )
    heard = {name: _tones(p.frames_since(since)[-WINDOW:]) for name, p in peers.items()}
    heard[RECORDER] = _tones([pcm for at, pcm in recorder.heard if at >= since][-WINDOW:])
    return heard


def _tones(frames: list[Pcm]) -> set[str]:
    # Silence has no loudest tone: tones_in would call the noise a tone.
    import numpy as np

    if max(float(np.abs(f).max()) for f in frames) < 200:
        return set()
    return tones_in(frames, TONES)


@pytest.mark.timeout(120)
def test_the_booth_consultation_is_a_closed_room_and_ending_it_restores_every_route() -> None:
    seating, floor = floor_of_the_hearing()
    assert seating.consultation == {"custody", "booth"}
    everyone = set(TONES)

    async def scenario() -> None:
        state = compose(floor, recording=True)
        room = Room("consultation-test", state)
        await room.start()
        recorder = RecorderSink()
        room.board.attach(Receiver(RECORDER, audio=recorder))
        peers = {seat: Peer(seat, tone=tone) for seat, tone in TONES.items()}
        try:
            for peer in peers.values():
                await peer.join(room)
            before_routes = route(state)
            before = await hear(peers, recorder)
            assert before == {**{s: everyone - {s} for s in TONES}, RECORDER: everyone}

            # Counsel in the booth and the detainee in custody confer.
            members = seating.consultation
            room.reroute(compose(floor.begin_consultation(members), recording=True))
            during = await hear(peers, recorder)
            assert during["custody"] == {"booth"} and during["booth"] == {"custody"}
            for outsider in ("judge", "courtroom", "interpreter-4", RECORDER):
                assert during[outsider] == everyone - members - {outsider}, outsider

            # The judge includes the interpreter: a detainee who needs it needs it with counsel too.
            with_interpreter = members | {"interpreter-4"}
            room.reroute(compose(floor.begin_consultation(with_interpreter), recording=True))
            during = await hear(peers, recorder)
            for member in with_interpreter:
                assert during[member] == with_interpreter - {member}, member
            for outsider in ("judge", "courtroom", RECORDER):
                assert during[outsider] == {"judge", "courtroom"} - {outsider}, outsider

            # Ended: exactly as before, routes and ears.
            ended = compose(floor.begin_consultation(members).end_consultation(), recording=True)
            room.reroute(ended)
            assert route(ended) == before_routes
            assert await hear(peers, recorder) == before
        finally:
            for peer in peers.values():
                await peer.close()
            await room.stop()

    asyncio.run(scenario())
