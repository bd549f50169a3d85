"""A hearing's media room: one server-side peer connection per participant,
the audio mixer, and the routing policy applied to both.

Every 20 ms the mixer takes one frame from each participant's inbox (a small
bounded buffer that keeps the newest frames), computes each receiver's mix
from the current routes, and hands it to that receiver's outgoing track. A
policy change replaces the routes; the next tick, at most 20 ms later, uses
them. Media flows only through here: a participant hears exactly what its
route lists, whatever its client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from collections.abc import Callable

from aiortc import RTCConfiguration, RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.media.mixer import Level, LevelMeter, Pcm, mix
from hearing.media.policy import MediaState, Route, route
from hearing.media.tracks import MixedAudioTrack, Pacer, to_mono

logger = logging.getLogger(__name__)

INBOX_FRAMES = 3  # 60 ms: enough to absorb arrival jitter, never more delay


@dataclasses.dataclass(eq=False)
class Peer:
    participant: str
    connection: RTCPeerConnection
    outbound: MixedAudioTrack
    inbox: deque[Pcm] = dataclasses.field(default_factory=lambda: deque(maxlen=INBOX_FRAMES))
    meter: LevelMeter = dataclasses.field(default_factory=LevelMeter)
    reader: asyncio.Task[None] | None = None


class Room:
    def __init__(
        self,
        name: str,
        state: MediaState,
        *,
        configuration: RTCConfiguration | None = None,
        on_levels: Callable[[str, Level], None] | None = None,
    ) -> None:
        self.name = name
        # A closed network: no STUN or TURN unless the caller configures one.
        self.configuration = configuration or RTCConfiguration(iceServers=[])
        self.on_levels = on_levels
        self.peers: dict[str, Peer] = {}
        self._state = state
        self._routes = route(state)
        self._mixer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Room({self.name!r})"

    @property
    def routes(self) -> dict[str, Route]:
        return self._routes

    def apply(self, state: MediaState) -> None:
        """A new hearing state: the next mixer tick routes by it."""
        self._state = state
        self._routes = route(state)

    async def start(self) -> None:
        if self._mixer is None:
            self._mixer = asyncio.create_task(self._mix_forever(), name=f"{self!r} mixer")

    async def stop(self) -> None:
        if self._mixer is not None:
            self._mixer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._mixer
            self._mixer = None
        for participant in list(self.peers):
            await self.leave(participant)

    async def join(self, participant: str, offer_sdp: str) -> str:
        """Accept a participant's offer; returns the server's answer."""
        if participant not in self._state.roles:
            raise ValueError(f"{participant!r} is not a participant of {self.name}")
        if participant in self.peers:
            await self.leave(participant)
        connection = RTCPeerConnection(self.configuration)
        peer = Peer(participant, connection, MixedAudioTrack())
        self.peers[participant] = peer

        @connection.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio" and peer.reader is None:
                peer.reader = asyncio.create_task(self._read(peer, track), name=f"{self!r} {participant} audio")

        try:
            await connection.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            connection.addTrack(peer.outbound)
            await connection.setLocalDescription(await connection.createAnswer())
        except Exception as exc:
            # The offer is the client's input: aiortc answers a malformed one
            # with assertion, key and value errors alike. Refuse it cleanly.
            await self.leave(participant)
            raise ValueError(f"unusable offer ({type(exc).__name__})") from exc
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
        if peer.reader is not None:
            peer.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await peer.reader
        peer.outbound.stop()
        await peer.connection.close()
        logger.info("%r: %s left", self, participant)

    async def _read(self, peer: Peer, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                peer.inbox.append(to_mono(frame))  # type: ignore[arg-type]
        except MediaStreamError:
            return

    async def _mix_forever(self) -> None:
        pacer = Pacer()
        while True:
            await pacer.next()
            self.tick()

    def tick(self) -> None:
        """One 20 ms step: one frame from every inbox, one mix per receiver."""
        frames: dict[str, Pcm] = {}
        for participant, peer in self.peers.items():
            if peer.inbox:
                frame = peer.inbox.popleft()
                frames[participant] = frame
                level = peer.meter.feed(frame)
                if level is not None and self.on_levels is not None:
                    self.on_levels(participant, level)
        routes = self._routes
        for participant, peer in self.peers.items():
            receiver_route = routes.get(participant)
            if receiver_route is not None:
                peer.outbound.push(mix(frames, receiver_route.audio))
