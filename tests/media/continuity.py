"""Whether a pure tone came through whole: gaps, repeats and skips in
decoded audio, found from the tone's phase and level. Pure numpy.

A sample counter does not survive Opus; a tone does, well enough. Its
frequency is not a whole number of cycles per 20 ms frame (1012.5 Hz is
20.25 cycles), so a frame taken out of the stream, or one put in (a repeat,
or silence inserted ahead of the rest), shifts every later sample by 960 and
the tone's phase by a quarter turn; a frame replaced by silence shows as a
drop in level. The detector demodulates the decoded signal at the tone's
frequency in 10 ms blocks (Hann window) and reports every block whose level
falls well under the median, and every lasting step of the phase. Four
frames put in or taken out at once shift the phase by a whole turn and are
found only if they change the level (silence does; a 4-frame repeat of a
pure tone is the tone itself).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm

TONE_HZ = 1012.5  # 20.25 cycles per 20 ms frame
BLOCK = 480  # 10 ms
LEVEL_DROP_DB = 6.0  # a block this far under the median level is a gap
PHASE_STEP_DEGREES = 30.0  # a lasting phase change this large is a frame in or out
SETTLE_BLOCKS = 3  # a phase step must hold this long (Opus smears an edit over a block or two)


def tone(start: int, count: int, frequency: float = TONE_HZ, amplitude: float = 0.3) -> Pcm:
    """Samples `start` to `start + count` of the continuous test tone."""
    t = (np.arange(count) + start) / SAMPLE_RATE
    return (np.sin(2 * math.pi * frequency * t) * amplitude * 32767).astype(np.int16)


@dataclasses.dataclass(frozen=True)
class Defect:
    kind: str  # "gap" (level drop), "skip" (phase ahead: samples missing), "insert" (phase behind: samples added)
    at: float  # seconds from the start of the analysed signal
    size: float  # dB under the median level, or degrees of phase step


@dataclasses.dataclass(frozen=True)
class Report:
    seconds: float  # analysed
    level_dbfs: float  # median block level of the tone
    phase_spread: float  # degrees: the largest distance of a block's phase from its neighbours' median, outside defects
    defects: tuple[Defect, ...]
    holes: int  # frames missing by their timestamps (lost before the decoder)

    @property
    def whole(self) -> bool:
        return not self.defects and not self.holes


def assemble(frames: Iterable[tuple[int, Pcm]]) -> tuple[npt.NDArray[np.float64], int]:
    """Decoded frames (RTP timestamp, samples) placed by their timestamps:
    the signal as the sender numbered it, holes left as silence, and how many
    frames were missing. Timestamps may wrap at 2**32."""
    ordered: list[tuple[int, Pcm]] = []
    first: int | None = None
    for timestamp, pcm in frames:
        if first is None:
            first = timestamp
        delta = (timestamp - first) % (1 << 32)
        ordered.append((delta - (1 << 32) if delta >= 1 << 31 else delta, pcm))
    if not ordered:
        return np.zeros(0), 0
    ordered.sort(key=lambda item: item[0])
    origin = ordered[0][0]
    end = ordered[-1][0] + len(ordered[-1][1])
    signal = np.zeros(end - origin)
    seen = set()
    for offset, pcm in ordered:
        signal[offset - origin : offset - origin + len(pcm)] = pcm
        seen.add(offset)
    holes = (end - origin) // FRAME_SAMPLES - len(seen)
    return signal, holes


def examine(signal: npt.NDArray[np.float64], frequency: float = TONE_HZ, holes: int = 0) -> Report:
    """Defects in `signal`, a continuous tone at `frequency` from its first
    to its last block (trim the start and end before calling)."""
    count = len(signal) // BLOCK
    if count < 4 * SETTLE_BLOCKS:
        raise ValueError(f"{len(signal)} samples are too few to judge a tone")
    window = np.hanning(BLOCK)
    within = window * np.exp(-2j * math.pi * frequency * np.arange(BLOCK) / SAMPLE_RATE)
    # The carrier counts absolute sample numbers: a steady tone keeps one phase.
    starts = np.exp(-2j * math.pi * frequency * np.arange(count) * BLOCK / SAMPLE_RATE)
    amplitudes = signal[: count * BLOCK].reshape(count, BLOCK) @ within * starts * 2 / window.sum()
    level = np.abs(amplitudes)
    phase = np.degrees(np.angle(amplitudes))
    median_level = float(np.median(level))
    if median_level <= 0:
        raise ValueError("no tone in the signal")
    defects: list[Defect] = []
    quiet = level < median_level * 10 ** (-LEVEL_DROP_DB / 20)
    for first in np.flatnonzero(quiet & ~np.concatenate(([False], quiet[:-1]))):
        depth = 20 * math.log10(median_level / max(float(level[first : first + 3].min()), 1e-9))
        defects.append(Defect("gap", float(first * BLOCK / SAMPLE_RATE), round(depth, 1)))
    # A lasting step: the median phase of the blocks after a point differs
    # from the median of those before. Judge on blocks with the tone present.
    spread = 0.0
    index = SETTLE_BLOCKS
    reference = _circular_median(phase[:SETTLE_BLOCKS])
    while index < count - SETTLE_BLOCKS:
        if quiet[index]:
            index += 1
            continue
        here = _wrap(phase[index] - reference)
        if abs(here) <= PHASE_STEP_DEGREES:
            spread = max(spread, abs(here))
            index += 1
            continue
        after = _circular_median(phase[index + 1 : index + 1 + SETTLE_BLOCKS])
        step = _wrap(after - reference)
        if abs(step) > PHASE_STEP_DEGREES:
            # Phase runs as -2*pi*f*delay: samples added lower it, missing ones raise it.
            kind = "skip" if step > 0 else "insert"
            defects.append(Defect(kind, float(index * BLOCK / SAMPLE_RATE), round(step, 1)))
            reference = after
            index += SETTLE_BLOCKS + 1
        else:
            index += 1  # a one-block glitch that did not last: its level tells if it matters
    return Report(
        seconds=count * BLOCK / SAMPLE_RATE,
        level_dbfs=round(20 * math.log10(median_level / 32768), 1),
        phase_spread=round(spread, 1),
        defects=tuple(sorted(defects, key=lambda d: d.at)),
        holes=holes,
    )


def _wrap(degrees: float) -> float:
    return (degrees + 180.0) % 360.0 - 180.0


def _circular_median(degrees: npt.NDArray[np.float64]) -> float:
    """The median of angles that cluster (relative to their circular mean)."""
    radians = np.radians(degrees)
    mean = math.degrees(math.atan2(float(np.sin(radians).mean()), float(np.cos(radians).mean())))
    return _wrap(mean + float(np.median([_wrap(d - mean) for d in degrees])))
