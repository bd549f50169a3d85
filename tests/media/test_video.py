"""Encoded forwarding with real aiortc peers: never decoded at the server."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.docket.parties import ParticipantRole as R
from hearing.media.aiortc_hooks import RECEIVER_JITTER_BUFFER, MarkerFrameAssembler
from hearing.media.room import Room
from hearing.media.tracks import ForwardVideoTrack, PatternTrack, read_counter
from hearing.routing.policy import Hidden, MediaState, Medium

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
            assert room.peers["judge"].receiver.picture.forwarded >= 25  # type: ignore[union-attr]
            # A seat that offered no video is sent none and asks for no keyframes.
            listener = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            listener.addTransceiver("audio", direction="recvonly")
            await listener.setLocalDescription(await listener.createOffer())
            await room.join("courtroom", listener.localDescription.sdp)
            assert room.peers["courtroom"].receiver.showing is None
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
            room.reroute(MediaState(ROLES, hidden=frozenset({Hidden("custody", "courtroom", Medium.VIDEO)})))
            assert room.peers["courtroom"].receiver.showing is None
            await asyncio.sleep(0.3)
            seen = len(courtroom.pictures)
            await asyncio.sleep(1.0)
            assert len(courtroom.pictures) == seen
            # A receiver whose sender stops taking frames: its queue stays
            # bounded and the others keep their pace.
            stalled = room.peers["judge"].receiver.picture
            assert isinstance(stalled, ForwardVideoTrack)
            stalled_recv = stalled.recv

            async def never() -> object:
                await asyncio.sleep(3600)
                return await stalled_recv()

            stalled.recv = never  # type: ignore[method-assign]
            room.reroute(MediaState(ROLES))
            before = len(courtroom.pictures)
            await asyncio.sleep(2.0)
            assert stalled.queued <= 8
            assert len(courtroom.pictures) - before >= 30  # about 25 fps for 2 s
        finally:
            for viewer in (custody, judge, courtroom):
                await viewer.close()
            await room.stop()

    asyncio.run(scenario())


class Bench:
    """The judge's panel: a main picture and views pinned to named sources,
    each recorded by size (the sources send different sizes)."""

    def __init__(self, views: list[str]) -> None:
        # Max-bundle on this side too: aiortc's balanced policy has the same
        # orphaned-transport flaw when it processes the answer.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.views = views
        # Sound first, as a browser offers it: the sections after it must all
        # share the first one's transport (see Room's bundle policy).
        self.pc.addTransceiver("audio", direction="recvonly")
        for _ in range(1 + len(views)):
            self.pc.addTransceiver("video", direction="recvonly")
        self.sizes: dict[int, list[tuple[float, tuple[int, int]]]] = {}
        self.tasks: list[asyncio.Task[None]] = []

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind != "video":
                return
            videos = [t for t in self.pc.getTransceivers() if t.kind == "video"]
            slot = next(i for i, t in enumerate(videos) if t.receiver.track is track)
            self.sizes[slot] = []
            self.tasks.append(asyncio.create_task(self._watch(slot, track)))

    async def _watch(self, slot: int, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                self.sizes[slot].append((time.monotonic(), (frame.width, frame.height)))  # type: ignore[union-attr]

    def seen(self, slot: int, since: float = 0.0) -> set[tuple[int, int]]:
        return {size for at, size in self.sizes.get(slot, []) if at > since}

    async def join(self, room: Room) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await room.join("judge", self.pc.localDescription.sdp, self.views)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.pc.close()


@pytest.mark.timeout(60)
def test_views_pin_sources_and_follow_the_route() -> None:
    async def scenario() -> None:
        room = Room("views", MediaState(ROLES))
        await room.start()
        custody, courtroom = Viewer("custody", publish=True), Viewer("courtroom", publish=True)
        assert courtroom.source is not None
        courtroom.pc.getSenders()[0].replaceTrack(PatternTrack(160, 96, 25))
        bench = Bench(["custody", "courtroom"])
        try:
            await custody.join(room)
            await courtroom.join(room)
            await bench.join(room)
            # Main picture: the custody facility (the preference); views: each its own source.
            await wait_for(lambda: all(len(bench.sizes.get(slot, [])) >= 10 for slot in (0, 1, 2)), timeout=15)
            assert (bench.seen(0), bench.seen(1), bench.seen(2)) == ({(320, 180)}, {(320, 180)}, {(160, 96)})
            # Screening the courtroom from the bench stops its view at the server.
            room.reroute(MediaState(ROLES, hidden=frozenset({Hidden("courtroom", "judge", Medium.VIDEO)})))
            await asyncio.sleep(0.3)  # frames already on their way
            cut = time.monotonic()
            await asyncio.sleep(1.0)
            assert bench.seen(2, since=cut) == set() and bench.seen(1, since=cut) == {(320, 180)}
            room.reroute(MediaState(ROLES))
            back = time.monotonic()
            await wait_for(lambda: bench.seen(2, since=back) == {(160, 96)}, timeout=5)
        finally:
            for peer in (custody, courtroom, bench):
                await peer.close()
            await room.stop()

    asyncio.run(scenario())
