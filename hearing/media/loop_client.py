"""A test call in Python: what a custody endpoint's page does, for the
tests and the bench (docs/protocol.md, the test-call socket).

Sends a camera and a microphone track to `/ws/device/test-call`, measures
what comes back (picture size, frame rate over the last three seconds, the
loudest 250 ms of sound in dBFS) and reports it when the server asks. The
answer's SDP can be rewritten on its way in (`answer_filter`), e.g. to send
the media through an impairment relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import av
import numpy as np
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from websockets.asyncio.client import ClientConnection, connect

from hearing.media.client import MediaClientError, expected
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm, rms_dbfs
from hearing.media.tracks import to_mono

PING_SECONDS = 2.0
FPS_WINDOW = 3.0
LEVEL_WINDOW = 0.25


# The server's refusals, as the hearing's own Python client reports them.
LoopClientError = MediaClientError


class LoopClient:
    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        answer_filter: Callable[[str], str] | None = None,
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        self.answer_filter = answer_filter
        self.connection = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self.frames: deque[tuple[float, int, int]] = deque(maxlen=2000)  # (arrival, width, height)
        self.levels: list[float] = []  # dBFS of each 250 ms heard back
        self.first_frame_at: float | None = None
        self.answered_at: float | None = None
        self.messages: list[dict[str, Any]] = []
        self._socket: ClientConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._nonces = itertools.count()

        @self.connection.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            reader = self._see(track) if track.kind == "video" else self._hear(track)
            self._tasks.append(asyncio.create_task(reader))

    async def run(
        self,
        camera: MediaStreamTrack,
        microphone: MediaStreamTrack,
        timeout: float = 60.0,
        before_report: Callable[[], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """The whole call; returns the server's result message.
        `before_report` runs when the server has asked for the report."""
        self._socket = await connect(self.url, additional_headers=self.headers, proxy=None, max_size=256 * 1024)
        await self._expect("welcome", timeout)
        self.connection.addTrack(microphone)
        self.connection.addTrack(camera)
        await self.connection.setLocalDescription(await self.connection.createOffer())
        await self.send({"type": "offer", "sdp": self.connection.localDescription.sdp})
        answer = str((await self._expect("answer", timeout))["sdp"])
        if self.answer_filter is not None:
            answer = self.answer_filter(answer)
        await self.connection.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        self.answered_at = time.monotonic()
        self._tasks.append(asyncio.create_task(self._ping()))
        await self._expect("progress", timeout)
        await self._expect("report_due", timeout)
        if before_report is not None:
            await before_report()
        await self.send({"type": "report", **self.report()})
        return await self._expect("result", timeout)

    def report(self) -> dict[str, Any]:
        now = time.monotonic()
        recent = [f for f in self.frames if f[0] >= now - FPS_WINDOW]
        width = height = None
        fps = None
        if recent:
            _, width, height = recent[-1]
            # Frames per second of the window (or of the time since the first
            # frame, if shorter), not of the span between the frames in it: a
            # lossy link releases frames in bursts, and three frames within 5 ms
            # are not 400 fps.
            window = min(FPS_WINDOW, now - (self.first_frame_at or recent[0][0]))
            fps = round(len(recent) / window, 1) if window > 0.5 else None
        loudest = round(max(self.levels), 1) if self.levels else None
        return {"width": width, "height": height, "fps": fps, "audio_dbfs": loudest}

    async def send(self, message: Mapping[str, Any]) -> None:
        if self._socket is None:
            raise LoopClientError("not_connected", "run first")
        await self._socket.send(json.dumps(message))

    async def next_message(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message but pongs, whatever it is."""
        assert self._socket is not None
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self._socket.recv(), timeout))
            self.messages.append(message)
            if message.get("type") != "pong":
                return message

    async def _expect(self, kind: str, timeout: float) -> dict[str, Any]:
        return expected(await self.next_message(timeout), kind)

    async def _ping(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(PING_SECONDS)
                await self.send({"type": "ping", "nonce": next(self._nonces)})

    async def _see(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    now = time.monotonic()
                    if self.first_frame_at is None:
                        self.first_frame_at = now
                    self.frames.append((now, frame.width, frame.height))

    async def _hear(self, track: MediaStreamTrack) -> None:
        window: list[Pcm] = []
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                window.append(to_mono(frame))
                if len(window) * FRAME_SAMPLES >= LEVEL_WINDOW * SAMPLE_RATE:
                    self.levels.append(rms_dbfs(np.concatenate(window)))
                    window = []

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.send(json.dumps({"type": "leave"}))
            await self._socket.close()
        await self.connection.close()
