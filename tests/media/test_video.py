"""Encoded forwarding with real aiortc peers: never decoded at the server."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.docket.parties import ParticipantRole as R
from hearing.media.aiortc_hooks import RECEIVER_JITTER_BUFFER, MarkerFrameAssembler
from hearing.media.policy import Hidden, MediaState, Medium
from hearing.media.room import Room
from hearing.media.tracks import PatternTrack, read_counter

ROLES = {"judge": R.JUDGE, "courtroom": R.JUDGE, "custody": R.DETAINEE}


class Viewer:
    """A client peer that may publish a pattern and records decoded pictures."""

    def __init__(self, seat: str, publish: bool) -> None:
        self.seat = seat
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.source = PatternTrack(320, 180, 25) if publish else None
        if self.source is not None:
            self.pc.addTrack(self.source)
        else:
            self.pc.addTransceiver("video", direction="recvonly")
        self.pictures: list[tuple[float, int]] = []
        self.task: asyncio.Task[None] | None = None

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self.task = asyncio.create_task(self._watch(track))

    async def _watch(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                self.pictures.append((time.monotonic(), read_counter(frame.to_ndarray(format="bgr24"))))  # type: ignore[union-attr]
        except MediaStreamError:
            return

    async def join(self, room: Room) -> float:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await room.join(self.seat, self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return time.monotonic()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        await self.pc.close()


async def wait_for(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.mark.timeout(60)
def test_a_picture_is_forwarded_without_decoding_and_a_late_joiner_sees_it_within_a_second() -> None:
    async def scenario() -> None:
        room = Room("video", MediaState(ROLES))
        await room.start()
        custody = Viewer("custody", publish=True)
        judge = Viewer("judge", publish=False)
        late = Viewer("courtroom", publish=False)
        try:
            await custody.join(room)
            await judge.join(room)
            await wait_for(lambda: len(judge.pictures) >= 25, timeout=15)
            # The counter the camera drew arrives intact and in order.
            counters = [c for _, c in judge.pictures[-20:]]
            assert counters == sorted(counters) and counters[-1] - counters[0] >= 15
            assert counters[-1] <= custody.source.count  # type: ignore[union-attr]
            # The server never decoded: its receiver hands frames to our tap.
            receiver = room.peers["custody"].video_in
            assert isinstance(getattr(receiver, RECEIVER_JITTER_BUFFER), MarkerFrameAssembler)
            assert room.peers["judge"].video_out.forwarded >= 25
            # A seat that offered no video is sent none and asks for no keyframes.
            listener = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            listener.addTransceiver("audio", direction="recvonly")
            await listener.setLocalDescription(await listener.createOffer())
            await room.join("courtroom", listener.localDescription.sdp)
            assert room.peers["courtroom"].video_source is None
            await room.leave("courtroom")
            await listener.close()
            # A late joiner gets a decodable picture within a second.
            await asyncio.sleep(1.0)
            joined = await late.join(room)
            await wait_for(lambda: bool(late.pictures), timeout=5)
            assert late.pictures[0][0] - joined < 1.0
        finally:
            for viewer in (custody, judge, late):
                await viewer.close()
            await room.stop()

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_screening_stops_the_picture_and_a_slow_receiver_stays_bounded() -> None:
    async def scenario() -> None:
        room = Room("video", MediaState(ROLES))
        await room.start()
        custody = Viewer("custody", publish=True)
        judge = Viewer("judge", publish=False)
        courtroom = Viewer("courtroom", publish=False)
        try:
            await custody.join(room)
            await judge.join(room)
            await courtroom.join(room)
            await wait_for(lambda: len(judge.pictures) >= 10 and len(courtroom.pictures) >= 10, timeout=15)
            # The courtroom may not see the detainee: its picture stops.
            room.apply(MediaState(ROLES, hidden=frozenset({Hidden("custody", "courtroom", Medium.VIDEO)})))
            assert room.peers["courtroom"].video_source is None
            await asyncio.sleep(0.3)
            seen = len(courtroom.pictures)
            await asyncio.sleep(1.0)
            assert len(courtroom.pictures) == seen
            # A receiver whose sender stops taking frames: its queue stays
            # bounded and the others keep their pace.
            stalled = room.peers["judge"].video_out
            stalled_recv = stalled.recv

            async def never() -> object:
                await asyncio.sleep(3600)
                return await stalled_recv()

            stalled.recv = never  # type: ignore[method-assign]
            room.apply(MediaState(ROLES))
            before = len(courtroom.pictures)
            await asyncio.sleep(2.0)
            assert stalled.queued <= 8
            assert len(courtroom.pictures) - before >= 30  # about 25 fps for 2 s
        finally:
            for viewer in (custody, judge, courtroom):
                await viewer.close()
            await room.stop()

    asyncio.run(scenario())
