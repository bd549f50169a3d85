"""Media tracks the server and the Python client make: synthetic test
sources, and the server's per-receiver mixed audio."""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections import deque
from collections.abc import Callable

import av
import av.stream
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from hearing.media.playout import FRAME_SECONDS, PATIENCE
from hearing.media.vp8 import EncodedFrame

TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
# After a wait for a late frame the mixer catches up with that many ticks at once.
MIXED_QUEUE_FRAMES = math.ceil(PATIENCE / FRAME_SECONDS) + 3


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
    """Real-time pacing at a fixed rate, without drift: `next()` waits for the
    next tick and returns its number (0, 1, 2, ...)."""

    def __init__(self, rate: float = SAMPLE_RATE / FRAME_SAMPLES) -> None:
        self.rate = rate
        self.count = 0
        self._start: float | None = None

    async def next(self) -> int:
        if self._start is None:
            self._start = time.monotonic()
        else:
            delay = self._start + self.count / self.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        count = self.count
        self.count += 1
        return count


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
        pts = await self._pacer.next() * FRAME_SAMPLES
        t = (np.arange(FRAME_SAMPLES) + pts) / SAMPLE_RATE
        pcm = (np.sin(2 * math.pi * self.frequency * t) * self.amplitude * 32767).astype(np.int16)
        return to_frame(pcm, pts)


class MixedAudioTrack(MediaStreamTrack):
    """What one receiver hears: frames the room's mixer pushes every 20 ms.

    The queue is bounded and drops the oldest, so an encoder that falls
    behind loses audio instead of gaining delay or memory without end. It
    is deep enough for the bursts a healthy mixer makes: after it waited for
    a late frame (up to the playout buffer's patience) or this process
    stalled, it catches up with several ticks at once (three frames, the old
    depth, lost some of them on a loaded machine)."""

    kind = "audio"

    def __init__(self, depth: int = MIXED_QUEUE_FRAMES) -> None:
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


VIDEO_TIME_BASE = fractions.Fraction(1, 90_000)
FRAME_GAP = 3000  # one frame at 30 fps, in 90 kHz ticks: the seam when the source changes


class ForwardVideoTrack(MediaStreamTrack):
    """Encoded video forwarded to one receiver, never decoded or re-encoded.

    Frames arrive from whichever source the room routes to this receiver.
    Nothing is sent until a keyframe arrives (so a late joiner or a change of
    source starts with a picture the decoder can use); an incomplete frame,
    a frame after lost packets, or a full queue drops everything queued and
    waits for the next keyframe. The queue is bounded: a receiver that does
    not keep up loses frames, never gains delay or memory."""

    kind = "video"

    def __init__(self, on_keyframe_needed: Callable[[], None], depth: int = 8) -> None:
        super().__init__()
        self._queue: deque[av.Packet[av.stream.Stream]] = deque()
        self._depth = depth
        self._ready = asyncio.Event()
        self._on_keyframe_needed = on_keyframe_needed
        self._offset: int | None = None
        self._last_pts = -FRAME_GAP
        self.waiting_for_keyframe = True
        self.dropped = 0
        self.forwarded = 0

    def switch(self) -> None:
        """The source changes: start again from its next keyframe."""
        self._queue.clear()
        self._offset = None
        self.waiting_for_keyframe = True
        self._on_keyframe_needed()

    def push(self, frame: EncodedFrame) -> None:
        if not frame.complete or (frame.after_gap and not frame.keyframe):
            self._resync()
            return
        if self.waiting_for_keyframe:
            if not frame.keyframe:
                self.dropped += 1
                return
            self.waiting_for_keyframe = False
        if len(self._queue) >= self._depth:
            self.dropped += len(self._queue)
            self._queue.clear()
            self._resync()
            return
        if self._offset is None:
            # Output timestamps keep rising across sources, as decoders expect.
            self._offset = self._last_pts + FRAME_GAP - frame.timestamp
        packet = av.Packet(frame.data)
        packet.pts = (frame.timestamp + self._offset) & 0xFFFFFFFF
        packet.time_base = VIDEO_TIME_BASE
        self._last_pts = packet.pts
        self._queue.append(packet)
        self._ready.set()

    def _resync(self) -> None:
        self.dropped += 1
        self.waiting_for_keyframe = True
        self._on_keyframe_needed()

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def recv(self) -> av.Packet[av.stream.Stream]:
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        self.forwarded += 1
        return self._queue.popleft()

    def stop(self) -> None:
        super().stop()
        self._ready.set()


COUNTER_BITS = 24
VIDEO_CLOCK = 90_000


def draw_counter(image: np.ndarray, value: int) -> None:
    """Write `value` into the top rows of a BGR image as black and white
    blocks, one per bit: readable after lossy coding, cheap to draw."""
    width = image.shape[1]
    block = width // COUNTER_BITS
    for bit in range(COUNTER_BITS):
        image[: block // 2, bit * block : (bit + 1) * block] = 255 if value >> bit & 1 else 0


def read_counter(image: np.ndarray) -> int:
    """The value `draw_counter` wrote, from a decoded (lossy) picture."""
    width = image.shape[1]
    block = width // COUNTER_BITS
    value = 0
    for bit in range(COUNTER_BITS):
        patch = image[block // 8 : block * 3 // 8, bit * block + block // 4 : (bit + 1) * block - block // 4]
        if float(patch.mean()) > 127:
            value |= 1 << bit
    return value


class PatternTrack(MediaStreamTrack):
    """A synthetic camera: moving colour bars with a frame counter on top."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 360, fps: int = 25) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._pacer = Pacer(fps)
        bars = np.zeros((height, width, 3), dtype=np.uint8)
        colours = [(255, 255, 255), (0, 255, 255), (255, 255, 0), (0, 255, 0), (255, 0, 255), (0, 0, 255), (255, 0, 0)]
        for i, colour in enumerate(colours):
            bars[:, i * width // len(colours) : (i + 1) * width // len(colours)] = colour
        self._bars = bars

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        count = await self._pacer.next()
        image = np.roll(self._bars, count * 4, axis=1)
        draw_counter(image, count)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = count * VIDEO_CLOCK // self.fps
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame

    @property
    def count(self) -> int:
        """Frames made so far."""
        return self._pacer.count
