"""One source's playout buffer in the mixer: decoded 20 ms frames placed by
their RTP timestamps, one taken at every tick of the mixer's clock.

The sender and the mixer run at the same nominal rate on independent clocks
and phases, so what matters is which *slot* a frame belongs to, not when it
came. The buffer keeps a cursor (the timestamp due at the next tick):

- a frame lost on the network is one tick of silence in its own slot; a
  duplicate, or a frame whose slot is behind one already played, is
  dropped; a reordered frame takes its place;
- a frame not there when its tick comes is waited for, up to `patience`
  after the tick began (`wait`), unless a later frame has already come
  (then it was lost) or the source has stopped (the last wait ran out and
  nothing came since). The mixer waits, so a late frame costs that tick's
  output a few milliseconds instead of a gap now and a dropped frame later;
- a frame later than that is still played, after the silence already sent
  for it, as long as nothing after it has been played: the timeline moves
  back and the source's delay grows by that much;
- the margin adapts at quiet moments only: when ticks keep having to wait
  for this source, one frame of delay is added before a quiet frame; when
  every frame of the last two seconds waited more than a whole frame, one
  quiet frame is dropped. A frame of speech is never dropped to save time;
- at most `capacity` frames are held, nor is the delay let grow past that:
  beyond it the oldest frames go (the hard bound on memory and latency).

Each frame played comes with its steady arrival (`taken_arrival`): its
media time mapped onto the arrival clock by the least-delayed frame of the
last two seconds, so that a receiver placing sound in time (the recorder)
sees neither the network's jitter nor this process's own queues.

Speech is not time-stretched (as WebRTC's NetEq does): a sender whose clock
runs slower than the mixer's and who never pauses makes the ticks wait ever
longer, until the patience runs out and one tick is silence. Real speech
pauses every few seconds; a clock 100 ppm slow drifts a frame in 200 s.

Pure: no asyncio, no aiortc; time comes in as arguments (seconds on any
monotonic clock).
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from hearing.media.arrival import SteadyArrival
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm, rms_dbfs

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
CAPACITY_FRAMES = 15  # 300 ms: the most held, and the most delay the buffer may add (more than the patience)
PATIENCE = 0.2  # seconds a tick may wait for a frame on its way (a stall of the sender or of this process)
REORDER_GRACE = 0.004  # a missing frame is waited for this long after a later one came
WINDOW_FRAMES = 100  # two seconds of history for the margin
GROW_AFTER_WAIT = FRAME_SECONDS / 2  # a tick that waited longer than this for the frame counts as late ...
GROW_LATE_TICKS = 5  # ... and this many late ticks in the window add a frame of delay
# Every frame of the window waited this long: a whole frame of delay to spare.
# The guard is small because a frame that comes a little late is waited for.
SHRINK_SLACK = FRAME_SECONDS + 0.001
QUIET_DBFS = -50.0  # a frame under this level is silence, which may be dropped or stretched
STRAY_LIMIT = 10  # this many frames in a row that fit nowhere: the sender started a new timeline
TIMESTAMP_MODULUS = 1 << 32


@dataclasses.dataclass
class PlayoutCounts:
    """What happened to a source's frames. Every frame pushed ends up played,
    shrunk, late_dropped, a duplicate, overflowed or still held (late_kept
    ones are among the played); every tick since the first frame is played,
    concealed or inserted."""

    played: int = 0  # frames played in their slot
    concealed: int = 0  # ticks of silence: the slot's frame was lost or not there in time
    waited: int = 0  # ticks that waited for this source's frame
    late_kept: int = 0  # frames that came after their slot was sent as silence, still played (delay grew)
    late_dropped: int = 0  # frames behind one already played, or beyond the delay bound
    duplicates: int = 0
    inserted: int = 0  # ticks of silence added before a quiet frame (delay grew by a frame)
    shrunk: int = 0  # quiet frames dropped (delay shrank by a frame)
    overflowed: int = 0  # frames dropped because the buffer was full
    unusable: int = 0  # frames that are not whole 20 ms frames of mono PCM
    resyncs: int = 0  # the sender's timeline jumped: started again


class Playout:
    def __init__(
        self,
        *,
        capacity: int = CAPACITY_FRAMES,
        patience: float = PATIENCE,
        window: int = WINDOW_FRAMES,
    ) -> None:
        if capacity < 2 or patience < 0 or window < GROW_LATE_TICKS:
            raise ValueError("playout needs a capacity of two frames, a patience >= 0 and a window of some ticks")
        self.capacity = capacity
        self.patience = patience
        self.counts = PlayoutCounts()
        self._frames: dict[int, tuple[Pcm, float]] = {}  # slot (unwrapped timestamp) -> (samples, arrival)
        self._cursor: int | None = None  # the slot due at the next tick
        self._last_played: int | None = None  # the last slot played from a real frame
        self._recently_played: deque[int] = deque(maxlen=capacity)
        self._last_pcm: Pcm | None = None  # what the last tick played of this source (None: silence)
        self._gave_up = False  # the last wait ran out and nothing came since: do not wait again
        self._tick_started: float | None = None
        self._slack: deque[float] = deque(maxlen=window)  # per tick: tick start minus arrival (< 0: waited)
        self._arrival = SteadyArrival(window)  # the frames placed, for their steady arrival
        self.taken_arrival: float | None = None  # the steady arrival of the frame the last tick played
        self._strays = 0

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        return f"Playout(cursor={self._cursor}, held={len(self._frames)}, {self.counts})"

    @property
    def delay_frames(self) -> int:
        """Slots from the one due to the newest held: the delay the buffer adds now, in frames."""
        if self._cursor is None or not self._frames:
            return 0
        return (max(self._frames) - self._cursor) // FRAME_SAMPLES + 1

    # --- frames in ------------------------------------------------------------

    def push(self, timestamp: int, pcm: Pcm, at: float) -> None:
        """A decoded frame (or several, back to back) with its RTP timestamp."""
        if pcm.ndim != 1 or pcm.dtype != np.int16 or not pcm.size or pcm.size % FRAME_SAMPLES:
            self.counts.unusable += 1
            return
        for start in range(0, pcm.size, FRAME_SAMPLES):
            self._place(timestamp + start, pcm[start : start + FRAME_SAMPLES], at)
        self._gave_up = False

    def _place(self, timestamp: int, pcm: Pcm, at: float) -> None:
        if self._cursor is None:
            self._cursor = timestamp
        # Serial arithmetic: raw 32-bit RTP timestamps and unwrapped ones alike.
        offset = (timestamp - self._cursor + TIMESTAMP_MODULUS // 2) % TIMESTAMP_MODULUS - TIMESTAMP_MODULUS // 2
        slot = self._cursor + offset
        bound = self.capacity * FRAME_SAMPLES
        if offset % FRAME_SAMPLES or not -bound <= offset < 2 * bound:
            self._stray(timestamp, pcm, at, ahead=offset > 0)
            return
        if slot in self._frames or slot in self._recently_played:
            self.counts.duplicates += 1
            return
        self._strays = 0
        if offset < 0:
            self._late(slot, pcm, at)
            return
        if offset >= bound:
            # Full: the oldest go, so that the delay stays within the bound.
            first = slot - bound + FRAME_SAMPLES
            for old in [s for s in self._frames if s < first]:
                del self._frames[old]
                self.counts.overflowed += 1
            self._cursor = first
        self._keep(slot, pcm, at)

    def _late(self, slot: int, pcm: Pcm, at: float) -> None:
        """A frame whose slot has been sent as silence."""
        assert self._cursor is not None
        played_after = self._last_played is not None and slot <= self._last_played
        newest = max([*self._frames, self._cursor - FRAME_SAMPLES])
        if played_after or newest - slot >= self.capacity * FRAME_SAMPLES:
            self.counts.late_dropped += 1
            return
        moved = (self._cursor - slot) // FRAME_SAMPLES
        self._cursor = slot
        self._shift(moved)
        self._keep(slot, pcm, at)
        self.counts.late_kept += 1

    def _stray(self, timestamp: int, pcm: Pcm, at: float, *, ahead: bool) -> None:
        """A frame that fits no slot near the cursor: dropped, unless frames
        keep coming like that (a new timeline), which then starts again. A
        source that had stopped starts again at once with a frame far ahead
        (one far behind may be a stale frame of the old timeline)."""
        self._strays += 1
        restart = ahead and self._gave_up and not self._frames
        if self._strays < STRAY_LIMIT and not restart:
            self.counts.late_dropped += 1
            return
        self.counts.overflowed += len(self._frames)
        self.counts.resyncs += 1
        self._frames.clear()
        self._recently_played.clear()
        self._cursor = timestamp
        self._last_played = None
        self._strays = 0
        self._arrival.restart()  # a new timeline: its media times start anew
        self._keep(timestamp, pcm, at)

    def _keep(self, slot: int, pcm: Pcm, at: float) -> None:
        self._frames[slot] = (pcm, at)
        self._arrival.note(slot / SAMPLE_RATE, at)

    # --- ticks ----------------------------------------------------------------

    def wait(self, now: float) -> float:
        """Seconds the tick that began with the first call should still wait
        for this source's due frame; 0 to take now."""
        if self._tick_started is None:
            self._tick_started = now
        if self._cursor is None or self._cursor in self._frames or self._gave_up:
            return 0.0
        deadline = self._tick_started + self.patience
        if self._frames:  # a later frame came first: this one was lost, or is reordered
            deadline = min(deadline, min(at for _, at in self._frames.values()) + REORDER_GRACE)
        return max(0.0, deadline - now)

    def take(self, now: float) -> Pcm | None:
        """This tick's frame of the source, or None for silence."""
        started = self._tick_started if self._tick_started is not None else now
        self._tick_started = None
        self.taken_arrival = None
        if self._cursor is None:
            return None
        cursor = self._cursor
        entry = self._frames.get(cursor)
        if entry is not None and self._quiet(entry[0]) and self._quiet(self._last_pcm):
            pending = self._pending()
            if pending > 0:
                # Between two quiet frames: a tick of silence costs nothing.
                self.counts.inserted += 1
                self._shift(1)
                self._last_pcm = None
                return None
            if pending < 0 and cursor + FRAME_SAMPLES in self._frames:
                del self._frames[cursor]
                self.counts.shrunk += 1
                self._shift(-1)
                cursor = self._cursor = cursor + FRAME_SAMPLES
                entry = self._frames[cursor]
        self._cursor = cursor + FRAME_SAMPLES
        if entry is None:
            self.counts.concealed += 1
            if now > started:
                self.counts.waited += 1
            if not self._frames and not self._gave_up:
                # Nothing after it either: late past the wait, or the source stopped.
                self._slack.append(started - now)
                self._gave_up = True
            self._last_pcm = None
            return None
        del self._frames[cursor]
        pcm, at = entry
        if at > started:
            self.counts.waited += 1
        self._slack.append(started - at)
        self.counts.played += 1
        self.taken_arrival = self._arrival.of(cursor / SAMPLE_RATE)
        self._last_played = cursor
        self._recently_played.append(cursor)
        self._last_pcm = pcm
        return pcm

    # --- the margin -----------------------------------------------------------

    def _pending(self) -> int:
        """+1: add a frame of delay at the next quiet moment; -1: drop one; 0: as is."""
        if sum(1 for s in self._slack if s < -GROW_AFTER_WAIT) >= GROW_LATE_TICKS:
            return 1 if self.delay_frames < self.capacity - 1 else 0
        if len(self._slack) == self._slack.maxlen and min(self._slack) > SHRINK_SLACK:
            return -1
        return 0

    def _shift(self, frames: int) -> None:
        """The timeline moved by `frames` (later > 0): so did every frame's slack."""
        seconds = frames * FRAME_SECONDS
        self._slack = deque((s + seconds for s in self._slack), maxlen=self._slack.maxlen)

    @staticmethod
    def _quiet(pcm: Pcm | None) -> bool:
        return pcm is None or rms_dbfs(pcm) < QUIET_DBFS
