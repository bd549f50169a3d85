"""Media tracks the server and the Python client make: synthetic test
sources, and the server's per-receiver mixed audio."""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections import deque

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm

TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)


def to_frame(pcm: Pcm, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


def to_mono(frame: av.AudioFrame) -> Pcm:
    """A decoded frame as 48 kHz mono int16 (aiortc's Opus decoder gives
    packed stereo s16 at 48 kHz)."""
    if frame.sample_rate != SAMPLE_RATE or frame.format.name != "s16":
        raise ValueError(f"unexpected audio frame {frame.format.name} at {frame.sample_rate} Hz")
    samples = frame.to_ndarray().reshape(-1, len(frame.layout.channels))
    mono: Pcm = samples.mean(axis=1).astype(np.int16)
    return mono


class Pacer:
    """Real-time pacing for 20 ms frames, without drift."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.pts = 0

    async def next(self) -> int:
        if self.start is None:
            self.start = time.monotonic()
        else:
            self.pts += FRAME_SAMPLES
            delay = self.start + self.pts / SAMPLE_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        return self.pts


class ToneTrack(MediaStreamTrack):
    """A continuous sine tone: the test source whose frequency identifies its
    sender at every receiver."""

    kind = "audio"

    def __init__(self, frequency: float, amplitude: float = 0.3) -> None:
        super().__init__()
        self.frequency = frequency
        self.amplitude = amplitude
        self._pacer = Pacer()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = await self._pacer.next()
        t = (np.arange(FRAME_SAMPLES) + pts) / SAMPLE_RATE
        pcm = (np.sin(2 * math.pi * self.frequency * t) * self.amplitude * 32767).astype(np.int16)
        return to_frame(pcm, pts)


class MixedAudioTrack(MediaStreamTrack):
    """What one receiver hears: frames the room's mixer pushes every 20 ms.

    The queue holds at most a few frames and drops the oldest, so a receiver
    that falls behind loses audio instead of gaining delay or memory."""

    kind = "audio"

    def __init__(self, depth: int = 3) -> None:
        super().__init__()
        self._frames: deque[Pcm] = deque(maxlen=depth)
        self._ready = asyncio.Event()
        self._pts = 0
        self.dropped = 0

    def push(self, pcm: Pcm) -> None:
        if len(self._frames) == self._frames.maxlen:
            self.dropped += 1
        self._frames.append(pcm)
        self._ready.set()

    async def recv(self) -> av.AudioFrame:
        while not self._frames:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        pcm = self._frames.popleft()
        frame = to_frame(pcm, self._pts)
        self._pts += FRAME_SAMPLES
        return frame

    def stop(self) -> None:
        super().stop()
        self._ready.set()
