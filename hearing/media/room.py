"""A hearing's media room: one server-side peer connection per seat, joined
to the switchboard (hearing/media/switchboard.py), which routes everything.

The room does the WebRTC: it answers a seat's offer, takes its ICE
candidates, decodes its audio into the switchboard, taps its encoded video
before aiortc's decoder, and sends back what the switchboard routes to it.
It samples each connection's health every 2 s. Receivers that are not peers
(the recorder, a preview) are attached to the switchboard directly and
routed by the same policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceCandidate,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.media import aiortc_hooks, health, stats
from hearing.media.health import Counters, Health
from hearing.media.mixer import Level
from hearing.media.switchboard import Receiver, Sender, Switchboard, View
from hearing.media.tracks import ForwardVideoTrack, MixedAudioTrack, Pacer, to_mono
from hearing.routing.policy import MediaState, Route

logger = logging.getLogger(__name__)

# aiortc's close waits on each transport's goodbye; one that never comes
# (a peer gone mid-handshake, a wedged sender) would hold a hearing's end,
# or a seat's reconnect, forever. Past this it is let go, and said so.
CLOSE_SECONDS = 5.0

# Browsers start at this rate instead of 300 kbps (640x360 for about 30 s).
# With it, and the page's contentHint "detail", Chromium 156 sends 1280x720
# from the first frame; without the hint it starts at 960x540 for 4-7 s.
START_BITRATE_KBPS = 2000

HealthReport = Callable[[str, Health], None]


@dataclasses.dataclass(eq=False)
class Peer:
    seat: str
    connection: RTCPeerConnection
    sender: Sender
    receiver: Receiver
    tasks: list[asyncio.Task[None]] = dataclasses.field(default_factory=list)
    requests: set[asyncio.Task[None]] = dataclasses.field(default_factory=set)  # keyframe requests on their way
    video_in: RTCRtpReceiver | None = None
    counters: Counters = dataclasses.field(default_factory=Counters)


class Room:
    def __init__(
        self,
        name: str,
        state: MediaState,
        *,
        configuration: RTCConfiguration | None = None,
        on_level: Callable[[str, Level], None] | None = None,
        on_health: HealthReport | None = None,
        on_pictures: Callable[[Receiver], None] | None = None,
        on_first_mix: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        # A closed network: no STUN or TURN unless the caller configures one.
        # Max-bundle: every section rides the offer's first transport. With
        # aiortc's default (balanced), a remote offer with several video
        # sections after an audio one leaves the third and later sections on
        # an orphaned transport that never starts (aiortc 1.16.0; the views
        # test in tests/media/test_video.py covers it).
        self.configuration = configuration or RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self.board = Switchboard(state, on_level=on_level, on_pictures=on_pictures, on_first_mix=on_first_mix)
        self.peers: dict[str, Peer] = {}
        self._on_health = on_health
        self._mixer: asyncio.Task[None] | None = None
        self._health: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()  # audio reached the switchboard: a waiting tick looks again

    def __repr__(self) -> str:
        return f"Room({self.name!r})"

    @property
    def routes(self) -> dict[str, Route]:
        return self.board.routes

    def reroute(self, state: MediaState) -> None:
        self.board.reroute(state)

    async def start(self) -> None:
        if self._mixer is None:
            self._mixer = asyncio.create_task(self._mix_forever(), name=f"{self!r} mixer")
            self._health = asyncio.create_task(self._watch_health(), name=f"{self!r} health")

    async def stop(self) -> None:
        for task in (self._mixer, self._health):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._mixer = self._health = None
        # Side by side: each close waits on its own transports, and the
        # hearing's end waits for the slowest, not for the sum.
        await asyncio.gather(*(self.leave(seat) for seat in list(self.peers)))

    # --- joining and leaving -------------------------------------------------

    async def join(self, seat: str, offer_sdp: str, views: Sequence[str] = ()) -> str:
        """Accept a seat's offer; returns the server's answer. `views` names
        the sources pinned to the offer's further video sections. A seat that
        joins again replaces its earlier connection."""
        if seat not in self.board.state.roles:
            raise ValueError(f"{seat!r} is not a seat of {self.name}")
        if seat in self.peers:
            await self.leave(seat)
        board = self.board
        connection = RTCPeerConnection(self.configuration)
        sender = Sender(seat)
        peer = Peer(seat, connection, sender, Receiver(seat))
        self.peers[seat] = peer
        board.connect(sender)  # before the offer: its tracks may start at once

        @connection.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in connection.getTransceivers() if t.receiver.track is track)
            if track.kind == "audio":
                aiortc_hooks.quicken_audio(receiver)
                peer.tasks.append(asyncio.create_task(self._read_audio(seat, track), name=f"{self!r} {seat} audio"))
            else:
                aiortc_hooks.tap_video(receiver, functools.partial(board.forward, seat))
                peer.video_in = receiver
                sender.request_keyframe = functools.partial(self._request_keyframe, peer, receiver)
                board.sends_video(seat)
                # Nothing arrives here (the decoder is bypassed), but reading
                # tells us when the track ends.
                peer.tasks.append(asyncio.create_task(self._drain(track), name=f"{self!r} {seat} video end"))

        try:
            await connection.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            kinds = [t.kind for t in connection.getTransceivers()]
            if not kinds:
                raise ValueError("the offer has no audio or video section")
            if "audio" in kinds:
                audio = MixedAudioTrack()
                connection.addTrack(audio)
                peer.receiver.audio = audio
            if "video" in kinds:
                wants_keyframe = functools.partial(board.keyframe_for, seat)
                picture = ForwardVideoTrack(on_keyframe_needed=wants_keyframe)
                aiortc_hooks.on_keyframe_request(connection.addTrack(picture), wants_keyframe)
                aiortc_hooks.set_start_bitrate(connection, START_BITRATE_KBPS)
                peer.receiver.picture = picture
            # Each further video section carries one view, in the offer's order.
            for source in views[: kinds.count("video") - 1]:
                needs_keyframe = functools.partial(board.keyframe_from, source)
                track = ForwardVideoTrack(on_keyframe_needed=needs_keyframe)
                aiortc_hooks.on_keyframe_request(connection.addTrack(track), needs_keyframe)
                peer.receiver.views.append(View(source, track))
            await connection.setLocalDescription(await connection.createAnswer())
        except Exception as exc:
            # The offer is the client's input: aiortc answers a malformed one
            # with assertion, key and value errors alike. Refuse it cleanly.
            await self.leave(seat)
            raise ValueError(f"unusable offer ({exc if isinstance(exc, ValueError) else type(exc).__name__})") from exc
        board.attach(peer.receiver)
        logger.info("%r: %s joined", self, seat)
        return connection.localDescription.sdp

    async def add_candidate(self, seat: str, candidate: RTCIceCandidate) -> None:
        peer = self.peers.get(seat)
        if peer is None:
            raise KeyError(seat)
        await peer.connection.addIceCandidate(candidate)

    async def leave(self, seat: str) -> None:
        peer = self.peers.pop(seat, None)
        if peer is None:
            return
        self.board.disconnect(seat)
        for task in [*peer.tasks, *peer.requests]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for track in (peer.receiver.audio, peer.receiver.picture, *(v.sink for v in peer.receiver.views)):
            if isinstance(track, MediaStreamTrack):
                track.stop()
        try:
            await asyncio.wait_for(peer.connection.close(), CLOSE_SECONDS)
        except TimeoutError:
            logger.warning("%r: %s's connection did not close within %.0f s; let go", self, seat, CLOSE_SECONDS)
        logger.info("%r: %s left", self, seat)

    def _request_keyframe(self, peer: Peer, receiver: RTCRtpReceiver, ssrc: int) -> None:
        """Ask a seat's encoder for a keyframe; the request is the peer's task."""
        task = asyncio.create_task(aiortc_hooks.request_keyframe(receiver, ssrc), name=f"{self!r} {peer.seat} PLI")
        peer.requests.add(task)
        task.add_done_callback(peer.requests.discard)

    # --- audio ---------------------------------------------------------------

    async def _read_audio(self, seat: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame) and frame.pts is not None:
                    self.board.hear(seat, frame.pts, to_mono(frame))  # pts: the unwrapped RTP timestamp
                    self._arrived.set()
        except MediaStreamError:
            return

    async def _mix_forever(self) -> None:
        pacer = Pacer()
        while True:
            await pacer.next()
            await self._await_due_frames()
            self.board.tick()

    async def _await_due_frames(self) -> None:
        """A frame due now that is on its way (a sender's hiccup, or this
        process's own) is worth a wait: it delays this tick's mixes by as
        much, where giving up would put a gap in the speech."""
        while (wait := self.board.due_wait()) > 0:
            self._arrived.clear()
            # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a
            # cancellation that lands as the event is set, and the mixer would
            # then outlive the room's stop() (a hearing that never finishes closing).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._arrived.wait()

    # --- health --------------------------------------------------------------

    async def _watch_health(self) -> None:
        while True:
            await asyncio.sleep(health.INTERVAL_SECONDS)
            for seat, peer in list(self.peers.items()):
                try:
                    reading = stats.read(await peer.connection.getStats(), frames=peer.sender.frames_in)
                except Exception:  # a closing connection has no stats; the next round will tell
                    logger.debug("%r: no stats for %s", self, seat, exc_info=True)
                    continue
                graded = health.sample(
                    peer.counters,
                    reading.counters,
                    seconds=health.INTERVAL_SECONDS,
                    rtt_ms=reading.rtt_ms,
                    jitter_ms=reading.jitter_ms,
                    size=peer.sender.video_size,
                )
                peer.counters = reading.counters
                if self._on_health is not None:
                    self._on_health(seat, graded)

    @staticmethod
    async def _drain(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
