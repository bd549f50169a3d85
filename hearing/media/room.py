"""A hearing's media room: one server-side peer connection per participant,
the audio mixer, the video forwarder, and the routing policy applied to all.

Audio: every 20 ms the mixer takes each participant's frame for that slot
from its playout buffer (`hearing/media/playout.py`: frames placed by RTP
timestamp; a frame on its way is waited for briefly), computes each
receiver's mix from the current routes, and hands it to that receiver's
outgoing track.

Video: never decoded. Each complete encoded frame is handed, as it arrives,
to the receivers whose chosen source it comes from. A receiver gets one main
picture, the first of its route's video sources in order of preference, and
may ask for *views*: further pictures pinned to named sources (the judge's
panel shows the detainee and the courtroom program beside the floor), each
sent only while its route allows it. Keyframe requests travel upstream to
the source.

A policy change replaces the routes; audio follows at the next tick (at most
20 ms), video at the source's next keyframe (requested at once). Media flows
only through here: a participant gets exactly what its route lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
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

from hearing.media import aiortc_hooks, health, vp8
from hearing.media.aiortc_hooks import EncodedFrame
from hearing.media.health import Counters, Health
from hearing.media.mixer import LevelMeter, Pcm, mix
from hearing.media.playout import Playout
from hearing.media.tracks import ForwardVideoTrack, MixedAudioTrack, Pacer, to_mono
from hearing.routing.policy import MediaState, Route, route

logger = logging.getLogger(__name__)

KEYFRAME_REQUEST_INTERVAL = 0.3  # seconds between upstream keyframe requests per source
# Browsers start at this rate instead of 300 kbps (640x360 for about 30 s).
# With it, and the page's contentHint "detail", Chromium 156 sends 1280x720
# from the first frame; without the hint it starts at 960x540 for 4-7 s.
START_BITRATE_KBPS = 2000
# Whose picture a receiver sees when several are routed to it: the floor
# holder first, then the custody facility, the courtroom, the judge's panel.
VIDEO_PREFERENCE: Sequence[str] = ("custody", "courtroom", "judge")
# Seats that see everyone's health and audio levels: the bench.
OVERSEERS: Sequence[str] = ("judge",)
RECONNECT_SECONDS = 60.0


@dataclasses.dataclass(eq=False)
class View:
    """A picture pinned to one source, on a video section of its own."""

    source: str
    track: ForwardVideoTrack
    live: bool = False  # the receiver's route allows it and the source is sending


@dataclasses.dataclass(eq=False)
class Peer:
    participant: str
    connection: RTCPeerConnection
    outbound: MixedAudioTrack
    video_out: ForwardVideoTrack
    inbox: Playout = dataclasses.field(default_factory=Playout)
    meter: LevelMeter = dataclasses.field(default_factory=LevelMeter)
    tasks: list[asyncio.Task[None]] = dataclasses.field(default_factory=list)
    video_in: RTCRtpReceiver | None = None
    video_ssrc: int | None = None
    video_source: str | None = None  # whose picture this peer is being sent
    video_size: tuple[int, int] | None = None  # of the picture this peer sends, from its keyframes
    frames_in: int = 0
    counters: Counters = dataclasses.field(default_factory=Counters)
    wants_video: bool = False  # its offer has a video section the server may send on
    views: list[View] = dataclasses.field(default_factory=list)
    health: Health | None = None
    last_keyframe_request: float = 0.0


class Room:
    def __init__(
        self,
        name: str,
        state: MediaState,
        *,
        configuration: RTCConfiguration | None = None,
    ) -> None:
        self.name = name
        # A closed network: no STUN or TURN unless the caller configures one.
        # Max-bundle: every section rides the offer's first transport. With
        # aiortc's default (balanced), a remote offer with several video
        # sections after an audio one leaves the third and later sections on
        # an orphaned transport that never starts (aiortc 1.16.0; the views
        # test in tests/media/test_video.py covers it).
        self.configuration = configuration or RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        self.peers: dict[str, Peer] = {}
        # Where each seat's socket takes messages (health, levels), and when
        # each seat last left: a return within RECONNECT_SECONDS is a reconnect.
        self.listeners: dict[str, Callable[[dict[str, object]], None]] = {}
        self.left_at: dict[str, float] = {}
        # Who else follows the room's reports (the judges' and clerks' panels).
        self.observers: set[Callable[[dict[str, object]], None]] = set()
        self._state = state
        self._routes = route(state)
        self._mixer: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()  # a frame reached an inbox: a waiting tick looks again
        self._health: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Room({self.name!r})"

    @property
    def routes(self) -> dict[str, Route]:
        return self._routes

    def apply(self, state: MediaState) -> None:
        """A new hearing state: the next mixer tick routes audio by it, and
        every receiver's picture is chosen again."""
        self._state = state
        self._routes = route(state)
        self._choose_pictures()

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
        for participant in list(self.peers):
            await self.leave(participant)

    def returning(self, participant: str) -> bool:
        """Whether this seat left less than RECONNECT_SECONDS ago: it takes its
        place again, with the same identity and the same routing."""
        left = self.left_at.get(participant)
        return left is not None and time.monotonic() - left < RECONNECT_SECONDS

    def _publish(self, message: dict[str, object], to: Sequence[str]) -> None:
        for seat in to:
            listener = self.listeners.get(seat)
            if listener is not None:
                listener(message)
        for observer in list(self.observers):
            observer(message)

    # --- joining and leaving -------------------------------------------------

    async def join(self, participant: str, offer_sdp: str, views: Sequence[str] = ()) -> str:
        """Accept a participant's offer; returns the server's answer. `views`
        names the sources pinned to the offer's further video sections."""
        if participant not in self._state.roles:
            raise ValueError(f"{participant!r} is not a participant of {self.name}")
        if participant in self.peers:
            await self.leave(participant)
        connection = RTCPeerConnection(self.configuration)
        peer = Peer(
            participant,
            connection,
            MixedAudioTrack(),
            ForwardVideoTrack(on_keyframe_needed=lambda: self._want_keyframe(peer)),
        )
        self.peers[participant] = peer

        @connection.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in connection.getTransceivers() if t.receiver.track is track)
            if track.kind == "audio":
                aiortc_hooks.quicken_audio(receiver)
                peer.tasks.append(asyncio.create_task(self._read_audio(peer, track), name=f"{participant} audio"))
            else:
                aiortc_hooks.tap_video(receiver, lambda frame: self._forward(peer, frame))
                peer.video_in = receiver
                # Nothing arrives here (the decoder is bypassed), but reading
                # tells us when the track ends.
                peer.tasks.append(asyncio.create_task(self._drain(track), name=f"{participant} video end"))

        try:
            await connection.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            kinds = [t.kind for t in connection.getTransceivers()]
            if "audio" in kinds:
                connection.addTrack(peer.outbound)
            if "video" in kinds:
                peer.wants_video = True
                sender = connection.addTrack(peer.video_out)
                aiortc_hooks.on_keyframe_request(sender, lambda: self._want_keyframe(peer))
                aiortc_hooks.set_start_bitrate(connection, START_BITRATE_KBPS)
            # Each further video section carries one view, in the offer's order.
            for source in views[: kinds.count("video") - 1]:
                needs_keyframe = functools.partial(self._keyframe_from, source)
                view = View(source, ForwardVideoTrack(on_keyframe_needed=needs_keyframe))
                aiortc_hooks.on_keyframe_request(connection.addTrack(view.track), needs_keyframe)
                peer.views.append(view)
            await connection.setLocalDescription(await connection.createAnswer())
        except Exception as exc:
            # The offer is the client's input: aiortc answers a malformed one
            # with assertion, key and value errors alike. Refuse it cleanly.
            await self.leave(participant)
            raise ValueError(f"unusable offer ({type(exc).__name__})") from exc
        self._choose_pictures()
        logger.info("%r: %s joined", self, participant)
        return connection.localDescription.sdp

    async def add_candidate(self, participant: str, candidate: RTCIceCandidate) -> None:
        peer = self.peers.get(participant)
        if peer is None:
            raise KeyError(participant)
        await peer.connection.addIceCandidate(candidate)

    async def leave(self, participant: str) -> None:
        peer = self.peers.pop(participant, None)
        if peer is None:
            return
        for task in peer.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        peer.outbound.stop()
        peer.video_out.stop()
        for view in peer.views:
            view.track.stop()
        await peer.connection.close()
        self.left_at[participant] = time.monotonic()
        self._choose_pictures()
        logger.info("%r: %s left", self, participant)

    # --- audio ---------------------------------------------------------------

    async def _read_audio(self, peer: Peer, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame) and frame.pts is not None:
                    peer.inbox.push(frame.pts, to_mono(frame), time.monotonic())  # pts: the RTP timestamp
                    self._arrived.set()
        except MediaStreamError:
            return

    async def _mix_forever(self) -> None:
        pacer = Pacer()
        while True:
            await pacer.next()
            await self._await_due_frames()
            self.tick()

    async def _await_due_frames(self) -> None:
        """A frame due now that is on its way (a sender's hiccup, or this
        process's own) is worth a wait: it delays this tick's mixes by as
        much, where giving up would put a gap in the speech."""
        heard = {feed.source for receiver_route in self._routes.values() for feed in receiver_route.audio}
        while True:
            now = time.monotonic()
            wait = max((p.inbox.wait(now) for name, p in self.peers.items() if name in heard), default=0.0)
            if wait <= 0:
                return
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), wait)

    def tick(self) -> None:
        """One 20 ms step: every source's frame for this slot, one mix per receiver."""
        now = time.monotonic()
        frames: dict[str, Pcm] = {}
        for participant, peer in self.peers.items():
            frame = peer.inbox.take(now)
            if frame is None:
                continue
            frames[participant] = frame
            level = peer.meter.feed(frame)
            if level is not None:
                # The judge's panel shows who is speaking.
                self._publish(
                    {"type": "level", "seat": participant, "dbfs": level.dbfs, "speaking": level.speaking},
                    OVERSEERS,
                )
        routes = self._routes
        for participant, peer in self.peers.items():
            receiver_route = routes.get(participant)
            if receiver_route is not None:
                peer.outbound.push(mix(frames, receiver_route.audio))

    # --- health --------------------------------------------------------------

    async def _watch_health(self) -> None:
        while True:
            await asyncio.sleep(health.INTERVAL_SECONDS)
            for participant, peer in list(self.peers.items()):
                try:
                    peer.health = await self._sample(peer)
                except Exception:  # a closing connection has no stats; the next round will tell
                    logger.debug("%r: no stats for %s", self, participant, exc_info=True)
                    continue
                message = {"type": "health", "seat": participant, **peer.health.to_json()}
                self._publish(message, sorted({participant, *OVERSEERS}))

    async def _sample(self, peer: Peer) -> Health:
        report = await peer.connection.getStats()
        current = Counters(frames=peer.frames_in)
        jitter_ms, rtts = 0.0, []
        for stats in report.values():
            if stats.type == "inbound-rtp":
                current.packets_received += stats.packetsReceived
                current.packets_lost += stats.packetsLost
                clock = 48.0 if stats.kind == "audio" else 90.0
                jitter_ms = max(jitter_ms, stats.jitter / clock)
            elif stats.type == "remote-inbound-rtp":
                rtts.append(stats.roundTripTime * 1000)
            elif stats.type == "transport":
                current.bytes_received += stats.bytesReceived
        sampled = health.sample(
            peer.counters,
            current,
            seconds=health.INTERVAL_SECONDS,
            rtt_ms=max(rtts) if rtts else None,
            jitter_ms=jitter_ms,
            size=peer.video_size,
        )
        peer.counters = current
        return sampled

    # --- video ---------------------------------------------------------------

    @staticmethod
    async def _drain(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    def _forward(self, source: Peer, frame: EncodedFrame) -> None:
        """Called on the event loop for every complete frame a source sends."""
        source.video_ssrc = frame.ssrc
        source.frames_in += 1
        if frame.keyframe:
            source.video_size = vp8.keyframe_size(frame.data)
        for peer in self.peers.values():
            if peer.video_source == source.participant:
                peer.video_out.push(frame)
            for view in peer.views:
                if view.live and view.source == source.participant:
                    view.track.push(frame)

    def _choose_pictures(self) -> None:
        for peer in self.peers.values():
            choice = self._picture_for(peer.participant)
            if choice != peer.video_source:
                peer.video_source = choice
                peer.video_out.switch()
            allowed = set(self._sending(peer.participant))
            for view in peer.views:
                live = view.source in allowed
                if live and not view.live:
                    view.track.switch()  # from the source's next keyframe
                view.live = live

    def _sending(self, receiver: str) -> list[str]:
        """The sources this receiver may see that are sending a picture."""
        receiver_route = self._routes.get(receiver)
        if receiver_route is None or not self.peers[receiver].wants_video:
            return []
        return [s for s in receiver_route.video if s in self.peers and self.peers[s].video_in is not None]

    def _picture_for(self, receiver: str) -> str | None:
        sending = self._sending(receiver)
        if not sending:
            return None
        floor = self._state.floor

        def rank(source: str) -> tuple[int, int, str]:
            preference = VIDEO_PREFERENCE.index(source) if source in VIDEO_PREFERENCE else len(VIDEO_PREFERENCE)
            return (0 if source == floor else 1, preference, source)

        return min(sending, key=rank)

    def _want_keyframe(self, receiver: Peer) -> None:
        """A receiver needs a keyframe of its main picture."""
        self._keyframe_from(receiver.video_source)

    def _keyframe_from(self, name: str | None) -> None:
        """Ask a source for a keyframe, at most every 300 ms."""
        source = self.peers.get(name or "")
        if source is None or source.video_in is None or source.video_ssrc is None:
            return
        now = time.monotonic()
        if now - source.last_keyframe_request >= KEYFRAME_REQUEST_INTERVAL:
            source.last_keyframe_request = now
            aiortc_hooks.request_keyframe(source.video_in, source.video_ssrc)
