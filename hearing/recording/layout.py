"""The recording's arithmetic: segments, audio slots, the picture's layout and clock.

Pure: no I/O, no PyAV. The recorder (hearing/recording/recorder.py) places
everything on one clock, the server's arrival clock: a run (from a start or
a resume to a pause or a stop) has an origin, its video ticks fall every
1/fps from it and its audio in 20 ms slots from it, and its segments are
whole numbers of both, so every segment starts at a tick and a slot.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, tzinfo

from hearing.courtroom.compositor import GRID_CAMERAS, Layout
from hearing.errors import ConfigurationError, InvalidInput
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE

SLOT_SECONDS = FRAME_SAMPLES / SAMPLE_RATE  # one mix: 20 ms
SLOTS_PER_SECOND = SAMPLE_RATE // FRAME_SAMPLES
# Mixes that arrive bunched (the event loop was late, then caught up) go in
# the next free slots; one that would land more than 80 ms after its own
# arrival is dropped instead, so a burst never shifts the sound off the picture.
AHEAD_LIMIT_SLOTS = 4
MAX_FPS = 60
MAX_SEGMENT_SECONDS = 600.0


@dataclasses.dataclass(frozen=True, slots=True)
class SegmentPlan:
    """How long a segment is, in video ticks and in audio slots."""

    segment_seconds: float
    fps: int

    def __post_init__(self) -> None:
        if isinstance(self.fps, bool) or not isinstance(self.fps, int) or not 1 <= self.fps <= MAX_FPS:
            raise ConfigurationError(f"recording fps {self.fps!r}: an integer within 1-{MAX_FPS}")
        seconds = self.segment_seconds
        if not isinstance(seconds, int | float) or not 0 < seconds <= MAX_SEGMENT_SECONDS:
            raise ConfigurationError(f"recording segment_seconds {seconds!r}: within 0-{MAX_SEGMENT_SECONDS:g} s")
        for what, count in (("frames", seconds * self.fps), ("20 ms mixes", seconds * SLOTS_PER_SECOND)):
            if abs(count - round(count)) > 1e-6:
                raise ConfigurationError(
                    f"recording segment_seconds {seconds:g}: must hold a whole number of {what} at {self.fps} fps"
                )

    @property
    def video_ticks(self) -> int:
        return round(self.segment_seconds * self.fps)

    @property
    def audio_slots(self) -> int:
        return round(self.segment_seconds * SLOTS_PER_SECOND)

    def tick_time(self, tick: int) -> float:
        """Seconds from the run's origin to a video tick."""
        return tick / self.fps

    def ticks_until(self, seconds: float) -> int:
        """How many ticks are due at `seconds` from the origin (those at or before it)."""
        return max(0, math.floor(seconds * self.fps + 1e-9) + 1)

    def slot_of(self, seconds: float) -> int:
        """The audio slot a mix arriving `seconds` after the origin belongs in."""
        return max(0, round(seconds / SLOT_SECONDS))


def place(slot: int, next_free: int) -> int | None:
    """Where a mix that belongs in `slot` goes, given the first slot not yet
    written; None: drop it (it would land too far after its arrival)."""
    at = max(slot, next_free)
    return None if at - slot > AHEAD_LIMIT_SLOTS else at


def layout_for(count: int) -> Layout:
    """One source fills the picture; two to four share the grid."""
    if count < 0 or count > GRID_CAMERAS:
        raise InvalidInput(f"the recording shows 1-{GRID_CAMERAS} sources, not {count}", field="sources")
    return "single" if count <= 1 else "grid"


def clock_text(at: datetime, zone: tzinfo) -> str:
    """The clock drawn into the picture: the court's local date and time, with its zone."""
    if at.tzinfo is None:
        raise InvalidInput("the recording's clock needs a timezone-aware time", field="at")
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
