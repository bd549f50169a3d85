"""A participant in Python: the courtroom rig, test peers and benchmarks use it.

Connects to a hearing's media socket, takes its seat, publishes tracks and
receives what the server routes to it. Keeps the socket alive with pings.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

logger = logging.getLogger(__name__)

PING_SECONDS = 2.0


class MediaClientError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def expected(message: dict[str, Any], kind: str) -> dict[str, Any]:
    """The server's reply if it is the `kind` asked for; its refusal, or
    anything else, raised as a MediaClientError."""
    if message.get("type") == "error":
        raise MediaClientError(str(message.get("error")), str(message.get("message")))
    if message.get("type") != kind:
        raise MediaClientError("unexpected_message", f"expected {kind}, got {message.get('type')}")
    return message


class MediaClient:
    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        configuration: RTCConfiguration | None = None,
        on_track: Callable[[MediaStreamTrack], None] | None = None,
        on_floor: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        # Max-bundle: see hearing/media/room.py (aiortc's balanced policy
        # strands the third and later sections on a transport never started).
        self.connection = RTCPeerConnection(
            configuration or RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.on_track = on_track
        # Called with each newer floor this seat is told (the rig follows the
        # judge's camera pin and the floor by it, within a tick).
        self.on_floor = on_floor
        self.seat: str | None = None
        # What the server says of this seat's floor: admitted, muted, queued.
        self.floor: dict[str, Any] = {}
        self.tracks: list[MediaStreamTrack] = []
        self.views: list[str] = []
        # Reports the server pushes (the newest 500): health, levels, plan B's
        # link and interruption notices, the hearing's lifecycle, who hears
        # this seat and how the interpreter is heard (issue 12).
        self.events: deque[dict[str, Any]] = deque(maxlen=500)
        self._socket: ClientConnection | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._nonces = itertools.count()

        @self.connection.on("track")
        def track(track: MediaStreamTrack) -> None:
            self.tracks.append(track)
            if self.on_track is not None:
                self.on_track(track)

    def __repr__(self) -> str:
        return f"MediaClient({self.seat or self.url!r})"

    async def connect(self, publish: Sequence[MediaStreamTrack] = (), views: Sequence[str] = ()) -> None:
        """Join, sending `publish`; each of `views` is received on a video
        section of its own (see `video_for`)."""
        # proxy=None: never route through an environment proxy (closed network).
        self._socket = await connect(self.url, additional_headers=self.headers, proxy=None, max_size=256 * 1024)
        self._reader = asyncio.create_task(self._read(), name=f"{self!r} reader")
        welcome = await self._expect("welcome")
        self.seat = str(welcome["seat"])
        self.floor = welcome.get("floor", {})
        if self.on_floor is not None:
            self.on_floor(self.floor)
        for track in publish:
            self.connection.addTrack(track)
        if not publish:
            self.connection.addTransceiver("audio", direction="recvonly")
        for _ in views:
            self.connection.addTransceiver("video", direction="recvonly")
        await self.connection.setLocalDescription(await self.connection.createOffer())
        offer: dict[str, Any] = {"type": "offer", "sdp": self.connection.localDescription.sdp}
        if views:
            offer["views"] = list(views)
        await self.send(offer)
        self.views = list(views)
        answer = await self._expect("answer")
        await self.connection.setRemoteDescription(RTCSessionDescription(sdp=str(answer["sdp"]), type="answer"))
        self._pinger = asyncio.create_task(self._ping(), name=f"{self!r} pinger")

    async def wait_closed(self) -> None:
        """Until the server's socket is gone (closed, dropped or refused)."""
        if self._reader is not None:
            await asyncio.shield(self._reader)

    def video_for(self, view: str) -> MediaStreamTrack:
        """The track on which the server sends the pinned `view`."""
        videos = [t for t in self.connection.getTransceivers() if t.kind == "video"]
        return videos[len(videos) - len(self.views) + self.views.index(view)].receiver.track

    async def send(self, message: Mapping[str, Any]) -> None:
        if self._socket is None:
            raise MediaClientError("not_connected", "connect first")
        await self._socket.send(json.dumps(message))

    async def _read(self) -> None:
        assert self._socket is not None
        with contextlib.suppress(Exception):
            async for raw in self._socket:
                message = json.loads(raw)
                kind = message.get("type")
                if kind in ("health", "level", "link", "interruption", "hearing", "interpretation"):
                    self.events.append(message)
                elif kind == "floor":
                    if message["version"] >= self.floor.get("version", -1):
                        self.floor = message
                        if self.on_floor is not None:
                            self.on_floor(message)
                elif kind != "pong":
                    await self._replies.put(message)
        await self._replies.put({"type": "closed"})

    async def _expect(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        return expected(await asyncio.wait_for(self._replies.get(), timeout), kind)

    async def _ping(self) -> None:
        # Ends with the socket: close() must not raise for a link that dropped.
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(PING_SECONDS)
                await self.send({"type": "ping", "nonce": next(self._nonces)})

    async def close(self) -> None:
        for task in (self._pinger, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.send(json.dumps({"type": "leave"}))
            await self._socket.close()
        await self.connection.close()
