"""Encoded forwarding with real aiortc peers: never decoded at the server."""

from __future__ import annotations

import asyncio
import time

import pytest

from hearing.docket.parties import ParticipantRole as R
from hearing.media.aiortc_hooks import RECEIVER_JITTER_BUFFER, MarkerFrameAssembler
from hearing.media.room import Room
from hearing.media.tracks import ForwardVideoTrack
from hearing.routing.policy import Hidden, MediaState, Medium
from tests.media.peers import Peer
from tests.waiting import wait_until_async

ROLES = {"judge": R.JUDGE, "courtroom": R.JUDGE, "custody": R.DETAINEE}
# A second of pictures at 25 fps: long enough for a forwarded stream to show.
SECOND = 25


async def meanwhile(reference: Peer, frames: int, slot: int = 0) -> None:
    """Wait until `reference` has received `frames` more pictures: a window
    measured in what the source sent, however slowly the machine runs."""
    target = len(reference.pictures(slot)) + frames
    await wait_until_async(lambda: len(reference.pictures(slot)) >= target)


@pytest.mark.timeout(60)
def test_a_picture_is_forwarded_without_decoding_and_a_late_joiner_asks_for_a_keyframe() -> None:
    async def scenario() -> None:
        room = Room("video", MediaState(ROLES))
        await room.start()
        custody = Peer("custody", camera=(320, 180))
        judge = Peer("judge", watch=True)
        late = Peer("courtroom", watch=True)
        try:
            await custody.join(room)
            await judge.join(room)
            await wait_until_async(lambda: len(judge.pictures()) >= SECOND)
            # The counter the camera drew arrives intact and in order.
            counters = [p.counter for p in judge.pictures()[-20:]]
            assert counters == sorted(counters) and counters[-1] - counters[0] >= 15
            assert custody.camera is not None and counters[-1] <= custody.camera.count
            # The server never decoded: its receiver hands frames to our tap.
            receiver = room.peers["custody"].video_in
            assert isinstance(getattr(receiver, RECEIVER_JITTER_BUFFER), MarkerFrameAssembler)
            assert room.peers["judge"].receiver.picture.forwarded >= SECOND  # type: ignore[union-attr]
            # A seat that offered no video is sent none and asks for no keyframes.
            listener = Peer("courtroom", listen=True)
            await listener.join(room)
            assert room.peers["courtroom"].receiver.showing is None
            await room.leave("courtroom")
            await listener.close()
            # A late joiner, a second into the stream (aiortc's encoder sends a
            # keyframe only every 3000 frames): its keyframe request travels
            # upstream and it sees a picture. How soon is a figure for bench/.
            await meanwhile(judge, SECOND)
            source = room.board.senders["custody"]
            asked_before = source.last_keyframe_request
            await late.join(room)
            await wait_until_async(lambda: bool(late.pictures()))
            assert source.last_keyframe_request > asked_before
            assert late.pictures()[0].counter > counters[-1]
        finally:
            for peer in (custody, judge, late):
                await peer.close()
            await room.stop()

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_screening_stops_the_picture_and_a_slow_receiver_stays_bounded() -> None:
    async def scenario() -> None:
        room = Room("video", MediaState(ROLES))
        await room.start()
        custody = Peer("custody", camera=(320, 180))
        judge = Peer("judge", watch=True)
        courtroom = Peer("courtroom", watch=True)
        try:
            await custody.join(room)
            await judge.join(room)
            await courtroom.join(room)
            await wait_until_async(lambda: len(judge.pictures()) >= 10 and len(courtroom.pictures()) >= 10)
            # The courtroom may not see the detainee: its picture stops at the
            # server, and nothing more arrives while the judge, who may, sees
            # another second of pictures (after what was already on its way).
            room.reroute(MediaState(ROLES, hidden=frozenset({Hidden("custody", "courtroom", Medium.VIDEO)})))
            assert room.peers["courtroom"].receiver.showing is None
            await meanwhile(judge, 10)
            seen = len(courtroom.pictures())
            await meanwhile(judge, SECOND)
            assert len(courtroom.pictures()) == seen
            # A receiver whose sender stops taking frames: its queue stays
            # bounded (frames are dropped for it) and the others go on.
            stalled = room.peers["judge"].receiver.picture
            assert isinstance(stalled, ForwardVideoTrack)
            stalled_recv = stalled.recv

            async def never() -> object:
                await asyncio.sleep(3600)
                return await stalled_recv()

            stalled.recv = never  # type: ignore[method-assign]
            dropped = stalled.dropped
            room.reroute(MediaState(ROLES))
            # Two seconds of pictures at the courtroom, against a queue of 8.
            await meanwhile(courtroom, 2 * SECOND)
            assert stalled.queued <= 8
            assert stalled.dropped > dropped
        finally:
            for peer in (custody, judge, courtroom):
                await peer.close()
            await room.stop()

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_views_pin_sources_and_follow_the_route() -> None:
    async def scenario() -> None:
        room = Room("views", MediaState(ROLES))
        await room.start()
        custody, courtroom = Peer("custody", camera=(320, 180)), Peer("courtroom", camera=(160, 96))
        # The judge's panel: a main picture and views pinned to named sources.
        bench = Peer("judge", listen=True, watch=True, views=["custody", "courtroom"])
        try:
            await custody.join(room)
            await courtroom.join(room)
            await bench.join(room)
            # Main picture: the custody facility (the preference); views: each its own source.
            await wait_until_async(lambda: all(len(bench.pictures(slot)) >= 10 for slot in (0, 1, 2)))
            assert (bench.sizes(0), bench.sizes(1), bench.sizes(2)) == ({(320, 180)}, {(320, 180)}, {(160, 96)})
            # Screening the courtroom from the bench stops its view at the
            # server: nothing more arrives on it while the custody view, still
            # allowed, shows another second (after what was on its way).
            room.reroute(MediaState(ROLES, hidden=frozenset({Hidden("courtroom", "judge", Medium.VIDEO)})))
            await meanwhile(bench, 10, slot=1)
            cut = time.monotonic()
            await meanwhile(bench, SECOND, slot=1)
            assert bench.sizes(2, since=cut) == set() and bench.sizes(1, since=cut) == {(320, 180)}
            room.reroute(MediaState(ROLES))
            back = time.monotonic()
            await wait_until_async(lambda: bench.sizes(2, since=back) == {(160, 96)})
        finally:
            for peer in (custody, courtroom, bench):
                await peer.close()
            await room.stop()

    asyncio.run(scenario())
