"""Participants for the tests: real aiortc peers on loopback.

A `Peer` takes a seat, publishes a tone (its sound names it at every
receiver) and/or a camera pattern (each picture carries its frame number),
and records everything it receives with arrival times. It joins a `Room`
directly (`join`) or a hearing through its media socket (`connect`, with
hearing/media/client.py, as the courtroom rig and the custody endpoint do).
`PeerThread` runs one in an event loop of its own, for a test whose thread
drives Chromium: Playwright's sync API holds that thread's event loop.

The helpers below read what was heard: which tones are present, and from
which frame on a tone fell silent. They count frames, not seconds, so a
loaded machine that delivers late still delivers the same frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, NamedTuple

import av
import numpy as np
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.media import aiortc_hooks
from hearing.media.client import MediaClient
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from hearing.media.room import Room
from hearing.media.tracks import PatternTrack, ToneTrack, read_counter, to_mono

FPS = 25
# A tone is silent when its level is 30 dB below where it was.
SILENT = 10 ** (-30 / 20)


class Heard(NamedTuple):
    at: float  # time.monotonic() on arrival
    pts: int  # the RTP timestamp: where the frame belongs in the stream, however late it came
    pcm: Pcm


@dataclasses.dataclass(frozen=True)
class Picture:
    at: float  # time.monotonic() on arrival
    width: int
    height: int
    counter: int  # the frame number a PatternTrack drew (noise for any other source)

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


class Peer:
    """A seat's participant. Its offer has an audio section if it sends a
    tone or `listen`s, a main video section if it sends a camera or
    `watch`es, and one receive-only video section per pinned view."""

    def __init__(
        self,
        seat: str,
        *,
        tone: float | None = None,
        camera: tuple[int, int] | None = None,
        listen: bool = False,
        watch: bool = False,
        views: Sequence[str] = (),
    ) -> None:
        self.seat = seat
        self.tone = ToneTrack(tone) if tone is not None else None
        self.camera = PatternTrack(*camera, FPS) if camera is not None else None
        self.listen, self.watch, self.views = listen, watch, list(views)
        self.heard: list[Heard] = []
        # Per video section, in the offer's order: 0 is the main picture, then the views.
        self.seen: dict[int, list[Picture]] = {}
        self.client: MediaClient | None = None
        self._connection: RTCPeerConnection | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"Peer({self.seat!r})"

    @property
    def connection(self) -> RTCPeerConnection:
        assert self._connection is not None, f"{self!r} has not joined"
        return self._connection

    # --- taking the seat ---------------------------------------------------------

    async def join(self, room: Room) -> float:
        """Offer straight to the room; returns when the answer is applied
        (time.monotonic())."""
        # Max-bundle, as the room's answer expects (see hearing/media/room.py).
        connection = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
        self._listen_to(connection)
        # Sound first, as a browser offers it.
        if self.tone is not None:
            connection.addTrack(self.tone)
        elif self.listen:
            connection.addTransceiver("audio", direction="recvonly")
        if self.camera is not None:
            connection.addTrack(self.camera)
        elif self.watch:
            connection.addTransceiver("video", direction="recvonly")
        for _ in self.views:
            connection.addTransceiver("video", direction="recvonly")
        await connection.setLocalDescription(await connection.createOffer())
        answer = await room.join(self.seat, connection.localDescription.sdp, self.views)
        await connection.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        return time.monotonic()

    async def connect(self, url: str, headers: Mapping[str, str]) -> None:
        """Take the seat the server gives these credentials, through the
        media socket. The client offers what the peer publishes (receive-only
        audio if nothing), then its views."""
        if (self.watch and self.camera is None) or (self.listen and self.tone is None and self.camera is not None):
            raise ValueError("through the socket, a peer receives on the sections it publishes on")
        self.client = MediaClient(url, headers=headers)
        self._connection = self.client.connection
        self._listen_to(self._connection)
        await self.client.connect([t for t in (self.tone, self.camera) if t is not None], self.views)
        assert self.client.seat == self.seat, f"the server seated {self.client.seat}, not {self.seat}"

    async def send(self, message: Mapping[str, Any]) -> None:
        """A signaling message, e.g. a request to speak (socket only)."""
        assert self.client is not None, f"{self!r} is not connected through the socket"
        await self.client.send(message)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.client is not None:
            await self.client.close()
        elif self._connection is not None:
            await self._connection.close()

    # --- recording ---------------------------------------------------------------

    def _listen_to(self, connection: RTCPeerConnection) -> None:
        self._connection = connection

        @connection.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            transceivers = connection.getTransceivers()
            receiver = next(t.receiver for t in transceivers if t.receiver.track is track)
            if track.kind == "audio":
                # As the server does: each packet to the decoder as it arrives,
                # so what is heard follows what was sent without a jitter delay.
                aiortc_hooks.quicken_audio(receiver)
                self._tasks.append(asyncio.create_task(self._hear(track)))
            else:
                videos = [t for t in transceivers if t.kind == "video"]
                slot = next(i for i, t in enumerate(videos) if t.receiver.track is track)
                self.seen[slot] = []
                self._tasks.append(asyncio.create_task(self._see(slot, track)))

    async def _hear(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, av.AudioFrame) and frame.pts is not None
                self.heard.append(Heard(time.monotonic(), frame.pts, to_mono(frame)))

    async def _see(self, slot: int, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, av.VideoFrame)
                self.seen[slot].append(Picture(time.monotonic(), frame.width, frame.height, _counter(frame)))

    # --- what was received -------------------------------------------------------

    def frames_since(self, since: float) -> list[Pcm]:
        return [heard.pcm for heard in self.heard if heard.at >= since]

    def pictures(self, slot: int = 0, since: float = 0.0) -> list[Picture]:
        return [p for p in self.seen.get(slot, []) if p.at >= since]

    def sizes(self, slot: int = 0, since: float = 0.0) -> set[tuple[int, int]]:
        return {p.size for p in self.pictures(slot, since)}

    def falls_silent(self, frequency: float, since: float) -> int | None:
        """How many frames that arrived after `since` it took for the tone to
        fall 30 dB below its level before `since` and stay there to the last
        frame heard; None if it never did."""
        before = [tone_level(heard.pcm, frequency) for heard in self.heard if heard.at < since]
        assert len(before) >= 25, f"{self!r} heard only {len(before)} frames before the change"
        reference = float(np.median(before[-25:]))
        after = [tone_level(pcm, frequency) for pcm in self.frames_since(since)]
        silent_from = len(after)
        while silent_from > 0 and after[silent_from - 1] < reference * SILENT:
            silent_from -= 1
        return silent_from if silent_from < len(after) else None


def _counter(frame: av.VideoFrame) -> int:
    """The drawn frame number, from the luma plane (no colour conversion)."""
    plane = frame.planes[0]
    luma = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[: plane.height, : plane.width]
    return read_counter(luma)


def tone_level(pcm: Pcm, frequency: float) -> float:
    """The tone's level in one 20 ms frame (a single-bin DFT: each test tone
    has whole cycles per frame)."""
    t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
    return float(abs(np.dot(pcm.astype(np.float64), np.exp(-2j * np.pi * frequency * t))))


def tones_in(frames: Sequence[Pcm], tones: Mapping[str, float]) -> set[str]:
    """Whose tones carry energy in these frames: within 20 dB of the loudest
    and well above the noise."""
    assert len(frames) >= 10, f"only {len(frames)} frames to listen to"
    signal = np.concatenate(frames).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    bins = np.fft.rfftfreq(len(signal), 1 / SAMPLE_RATE)
    energy = {name: spectrum[np.argmin(np.abs(bins - f))] for name, f in tones.items()}
    loudest, noise = max(energy.values()), float(np.median(spectrum))
    return {name for name, e in energy.items() if e > loudest / 10 and e > noise * 100}


class PeerThread(threading.Thread):
    """A peer connected through the media socket, in a thread and event loop
    of its own. Use it as a context manager: it is connected inside the
    block (or the block is not entered) and closed after it."""

    def __init__(self, peer: Peer, url: str, headers: Mapping[str, str], timeout: float = 30.0) -> None:
        super().__init__(daemon=True, name=f"{peer!r}")
        self.peer, self.url, self.headers, self.timeout = peer, url, dict(headers), timeout
        self.error: BaseException | None = None
        self._connected = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # raised in the test's thread by __enter__
            self.error = exc
        finally:
            self._connected.set()

    async def _run(self) -> None:
        self._loop, self._done = asyncio.get_running_loop(), asyncio.Event()
        try:
            await self.peer.connect(self.url, self.headers)
            self._connected.set()
            await self._done.wait()
        finally:
            await self.peer.close()

    def __enter__(self) -> PeerThread:
        self.start()
        if not self._connected.wait(self.timeout):
            raise AssertionError(f"{self.peer!r} did not connect within {self.timeout:g} s")
        if self.error is not None:
            raise self.error
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._loop is not None and self._done is not None and self.is_alive():
            self._loop.call_soon_threadsafe(self._done.set)
        self.join(self.timeout)
        assert not self.is_alive(), f"{self.peer!r} did not close"

    def send(self, message: Mapping[str, Any]) -> None:
        """A signaling message from the peer, e.g. a request to speak."""
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self.peer.send(message), self._loop).result(self.timeout)
