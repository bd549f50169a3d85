"""The audio mixer's arithmetic: N-1 mixes and level metering, in numpy.

Works on 20 ms frames of 48 kHz mono int16 PCM. Each receiver gets the sum
of exactly the feeds its route lists, scaled by their gains and clipped
(never wrapped) to int16; a source not in the route contributes nothing,
so a muted party is silent at the server. Pure: no I/O, no aiortc.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from hearing.routing.policy import AudioFeed, Route

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms
FULL_SCALE = 32768.0
SILENCE_DBFS = -120.0

Pcm = npt.NDArray[np.int16]


def silence() -> Pcm:
    return np.zeros(FRAME_SAMPLES, dtype=np.int16)


def mix(frames: Mapping[str, Pcm], feeds: Sequence[AudioFeed]) -> Pcm:
    """One receiver's mix of this 20 ms tick. Missing frames (a source that
    sent nothing this tick) count as silence."""
    acc = np.zeros(FRAME_SAMPLES, dtype=np.float32)
    for feed in feeds:
        frame = frames.get(feed.source)
        if frame is None:
            continue
        if frame.shape != (FRAME_SAMPLES,):
            raise ValueError(f"frame from {feed.source} has shape {frame.shape}, expected ({FRAME_SAMPLES},)")
        acc += frame.astype(np.float32) * np.float32(feed.gain)
    np.clip(acc, -FULL_SCALE, FULL_SCALE - 1, out=acc)
    return acc.astype(np.int16)


def mix_for_all(frames: Mapping[str, Pcm], routes: Mapping[str, Route]) -> dict[str, Pcm]:
    return {receiver: mix(frames, r.audio) for receiver, r in routes.items()}


def rms_dbfs(frame: Pcm) -> float:
    if frame.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float32)))))
    return SILENCE_DBFS if rms < 1e-6 else max(SILENCE_DBFS, 20 * math.log10(rms / FULL_SCALE))


@dataclasses.dataclass(frozen=True)
class Level:
    dbfs: float
    speaking: bool


class LevelMeter:
    """RMS level and voice activity for one source.

    Voice activity is a level gate with hangover: speech is on as soon as a
    frame is above the threshold, and stays on for `hangover_frames` after
    the last such frame, so the active-speaker indicator does not flicker
    between words. `report()` yields a level about every `every` frames
    (5 frames = 10 times a second), as the loudest frame since the last one.
    """

    def __init__(self, threshold_dbfs: float = -45.0, hangover_frames: int = 15, every: int = 5) -> None:
        if every < 1 or hangover_frames < 0:
            raise ValueError("meter intervals must be positive")
        self.threshold = threshold_dbfs
        self.hangover = hangover_frames
        self.every = every
        self._since_voice = hangover_frames + 1
        self._count = 0
        self._peak = SILENCE_DBFS

    def feed(self, frame: Pcm) -> Level | None:
        level = rms_dbfs(frame)
        self._since_voice = 0 if level >= self.threshold else self._since_voice + 1
        self._peak = max(self._peak, level)
        self._count += 1
        if self._count < self.every:
            return None
        report = Level(round(self._peak, 1), self._since_voice <= self.hangover)
        self._count, self._peak = 0, SILENCE_DBFS
        return report
