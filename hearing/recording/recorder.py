"""The recorder: the hearing as the court hears and sees it, into segments.

It joins the switchboard as a receiver like any seat (the routing policy's
RECORDER: a consultation never reaches it). Its sinks' `push()` runs on the
server's event loop and only stamps the item with the arrival clock and
puts it in a bounded inbox; one worker thread does the rest, in arrival
order: decodes each source's VP8 (PyAV, one decoder per source), keeps its
newest picture, composes at `fps` ticks of the arrival clock (the grid,
role labels, a clock top-right), places each 20 ms mix in the slot of its
arrival (a gap in arrivals is silence, not a shift) and encodes H.264 and
AAC into segments of `segment_seconds`. Both streams' timestamps come from
that one clock, so picture and sound stay together whatever each sender's
own timestamps say.

Segments are fragmented MP4, written through the sink's writer (which
encrypts: it cannot seek): Matroska written without seeking carries no
duration, fragmented MP4 does, fragment by fragment. Each segment is its own
container and its own encoders, so it starts on a keyframe and plays alone.

A failure in the worker (an encoder, the sink) or a worker more than 2 s
behind is reported through `on_failure` (from the worker thread), the
segment in progress is abandoned and a new one starts after RETRY_AFTER.
"""

from __future__ import annotations

import dataclasses
import fractions
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import av
import av.audio.stream
import av.container
import av.video.codeccontext
import av.video.reformatter
import av.video.stream
import cv2
import numpy as np
import numpy.typing as npt

from hearing.courtroom.compositor import FONT, Compositor, Frame, Tile, tiles
from hearing.errors import InvalidInput, InvalidTransition
from hearing.media.arrival import SteadyArrival
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from hearing.media.switchboard import Receiver, View
from hearing.media.vp8 import EncodedFrame
from hearing.recording.layout import SLOT_SECONDS, SegmentPlan, clock_text, layout_for, place
from hearing.routing.policy import RECORDER

logger = logging.getLogger(__name__)

CONTAINER = "mp4"
# A view waiting for its source's keyframe asks again after this long.
KEYFRAME_ASK_SECONDS = 0.5
# A fragment every half second (not only at keyframes): a fault in the sink
# shows at its next write, and the muxer holds little.
CONTAINER_OPTIONS = {"movflags": "empty_moov+default_base_moof", "frag_duration": "500000", "flush_packets": "1"}
VIDEO_CODEC = "libx264"
VIDEO_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "crf": "25"}
# Opus, not AAC: fragmented MP4 written without seeking has no edit list to
# hide AAC's 1024 priming samples, so every player started the sound 21 ms
# late (measured on the file); Opus carries its pre-skip in the stream
# header, which decoders always honour. It also takes the mixer's 20 ms
# frames as they are (0.1 ms each here; FFmpeg's AAC 0.12-0.54 ms).
AUDIO_CODEC = "libopus"
AUDIO_BIT_RATE = 64_000
AUDIO_OPTIONS = {"application": "audio", "frame_duration": "20"}
KEYFRAME_SECONDS = 2  # a player seeks to within this
INBOX_ITEMS = 256  # about 2 s of one hearing (50 mixes and 3 x 25 frames a second)
# Seconds an item waits in the inbox for those stamped before it: a mix is
# stamped with its sound's arrival, which the playout buffer held up to
# 300 ms, and the mixer's tick may be late on a loaded machine.
HOLD_SECONDS = 0.5
RTP_VIDEO_RATE = 90_000
STEADY_WINDOW_FRAMES = 50  # two seconds at 25 fps
FLUSHING = ("stop", "settle")  # controls that hand out at once what came before them
LAG_LIMIT = 2.0  # seconds behind the arrival clock (beyond the hold): a failure
RETRY_AFTER = 0.5  # seconds between a failure and the next segment (a broken sink fails once a retry)
# Audio placed this far behind the newest video tick is written as silence
# when no mix has come for it (leaves room for a mix racing the tick).
AUDIO_SLACK_SLOTS = 2
CLOCK_ZONE = ZoneInfo("Europe/Copenhagen")


class SegmentWriter(Protocol):
    """Where a segment's bytes go (PyAV writes through it; it need not seek)."""

    def write(self, data: bytes) -> int | None: ...

    def flush(self) -> None: ...


Writer = TypeVar("Writer", bound=SegmentWriter)


class SegmentSink(Protocol[Writer]):
    """Where segments go: the encrypting writer, a plain file in tests."""

    def open(self, number: int) -> Writer:
        """A writer for segment `number` (1, 2, ...)."""

    def closed(self, number: int, start_seconds: float, duration_seconds: float, writer: Writer) -> None:
        """The segment's container is finished (the writer is not yet closed:
        this closes it). `start_seconds` is on the recording's timeline (the
        arrival clock since `start()`, pauses included as gaps)."""

    def abandoned(self, number: int, writer: Writer) -> None:
        """The segment failed part-way: its bytes are not a recording."""


@dataclasses.dataclass(frozen=True, slots=True)
class RecorderStats:
    segments: int
    failures: int
    compositions: int
    mixes: int
    frames_decoded: int
    dropped_video: int
    dropped_audio: int
    lag_max: float  # seconds: the worst age of an item when the worker took it, beyond the hold


@dataclasses.dataclass(frozen=True, slots=True)
class _Audio:
    at: float
    pcm: Pcm


@dataclasses.dataclass(frozen=True, slots=True)
class _Video:
    at: float
    source: int
    frame: EncodedFrame


@dataclasses.dataclass(frozen=True, slots=True)
class _Control:
    at: float
    what: str  # start | pause | resume | stop | settle
    done: threading.Event | None = None


_Item = _Audio | _Video | _Control


class _Inbox:
    """The bounded hand-over from the event loop, in arrival order.

    A mix is stamped with its sound's arrival, up to a few hundred
    milliseconds before it is handed over (the playout buffer held it), a
    picture as it comes: the inbox hands items out by their stamps, each once
    it is `hold` seconds old, so that a picture is never composed before the
    sound that arrived with it. A stop or a settle hands out at once
    everything stamped before it. When full, the oldest video frame goes
    first (its source then waits for a keyframe), then the oldest mix; a
    control item is never dropped."""

    def __init__(self, capacity: int, clock: Callable[[], float], hold: float) -> None:
        self.capacity = capacity
        self.clock = clock
        self.hold = hold
        self._items: list[tuple[float, int, _Item]] = []  # a heap by stamp, then by hand-over
        self._handed = itertools.count()
        self._flush_until = float("-inf")
        self._ready = threading.Condition()
        self.dropped_video = 0
        self.dropped_audio = 0
        self.gaps: set[int] = set()  # sources that lost a frame here

    def put(self, item: _Item) -> None:
        with self._ready:
            if len(self._items) >= self.capacity and not isinstance(item, _Control):
                self._drop_one()
            heapq.heappush(self._items, (item.at, next(self._handed), item))
            if isinstance(item, _Control) and item.what in FLUSHING:
                self._flush_until = max(self._flush_until, item.at)
            self._ready.notify()

    def _drop_one(self) -> None:
        for kind in (_Video, _Audio):
            queued = [entry for entry in self._items if isinstance(entry[2], kind)]
            if queued:
                oldest = min(queued)
                self._items.remove(oldest)
                heapq.heapify(self._items)
                if isinstance(oldest[2], _Video):
                    self.dropped_video += 1
                    self.gaps.add(oldest[2].source)
                else:
                    self.dropped_audio += 1
                return

    def _due_in(self) -> float:
        if not self._items:
            return float("inf")
        at = self._items[0][0]
        return 0.0 if at <= self._flush_until else at + self.hold - self.clock()

    def get(self, timeout: float) -> _Item | None:
        """The next item due, waiting at most `timeout`; None if none is due by then."""
        with self._ready:
            wait = self._due_in()
            if wait > 0:
                self._ready.wait(min(timeout, wait))
                wait = self._due_in()
            return heapq.heappop(self._items)[2] if wait <= 0 else None

    def oldest(self) -> float | None:
        with self._ready:
            return self._items[0][0] if self._items else None

    def take_gaps(self) -> set[int]:
        with self._ready:
            gaps, self.gaps = self.gaps, set()
            return gaps

    def drain(self) -> list[_Item]:
        with self._ready:
            items = [item for _, _, item in sorted(self._items)]
            self._items.clear()
            return items


class _AudioIn:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._last = float("-inf")

    def push(self, pcm: Pcm) -> None:
        self.push_at(pcm, 0.0)

    def push_at(self, pcm: Pcm, behind: float) -> None:
        """A mix whose sound arrived `behind` seconds ago: the playout buffer
        held it that long (hearing/media/switchboard.py says how long). Placed
        at its arrival, as the pictures are, so picture and sound stay together
        however the buffer's margin grows."""
        recorder = self._recorder
        if recorder._recording:  # noqa: SLF001 (the recorder's own sink)
            # Never before the mix before it: the sound stays in its order.
            self._last = max(self._last, recorder.clock() - behind)
            recorder._inbox.put(_Audio(self._last, pcm))  # noqa: SLF001


class _SteadyArrival:
    """A source's pictures stamped as its sound is (hearing/media/arrival.py,
    by their RTP timestamps unwrapped here): a picture that came late (a
    keyframe's many packets, the event loop behind on a loaded machine) is
    placed where it would have come, as the sound it goes with is."""

    def __init__(self) -> None:
        self._arrival = SteadyArrival(STEADY_WINDOW_FRAMES)
        self._timestamp: int | None = None
        self._media = 0.0  # seconds, unwrapped
        self._last = float("-inf")

    def restart(self) -> None:
        """Another sender's timeline (a view switched): nothing of the last one counts."""
        self._arrival.restart()
        self._timestamp = None

    def of(self, timestamp: int, at: float) -> float:
        if self._timestamp is not None:
            step = (timestamp - self._timestamp + (1 << 31)) % (1 << 32) - (1 << 31)
            if not -RTP_VIDEO_RATE < step < RTP_VIDEO_RATE * 10:  # the sender started again
                self._arrival.restart()
            self._media += step / RTP_VIDEO_RATE
        self._timestamp = timestamp
        self._arrival.note(self._media, at)
        steady = self._arrival.of(self._media)
        assert steady is not None  # noted just now
        # Never before the frame before it: a source's frames are decoded in their order.
        self._last = max(self._last, steady)
        return self._last


class _VideoIn:
    def __init__(self, recorder: Recorder, source: int) -> None:
        self._recorder = recorder
        self._source = source
        self._steady = _SteadyArrival()

    def push(self, frame: EncodedFrame) -> None:
        recorder = self._recorder
        if recorder._started:  # noqa: SLF001
            at = self._steady.of(frame.timestamp, recorder.clock())
            recorder._inbox.put(_Video(at, self._source, frame))  # noqa: SLF001

    def switch(self) -> None:
        recorder = self._recorder
        self._steady.restart()
        if recorder._started:  # noqa: SLF001
            # A switch is a marker in the frame order: the frames after it
            # start from a keyframe (an empty frame carries it), asked for at once.
            recorder._inbox.put(_Video(recorder.clock(), self._source, _SWITCH))  # noqa: SLF001
            recorder._want_keyframe(self._source)  # noqa: SLF001


_SWITCH = EncodedFrame(b"", 0, keyframe=False, ssrc=0, complete=False, after_gap=True)


class _Picture:
    """One source's decoder and its newest decoded picture."""

    def __init__(self) -> None:
        self.decoder = self._decoder()
        self.waiting = True  # for a keyframe
        self.newest: av.VideoFrame | None = None
        self.reformatter = av.video.reformatter.VideoReformatter()
        self.fresh = False  # newer than the last one handed to the compositor

    @staticmethod
    def _decoder() -> av.video.codeccontext.VideoCodecContext:
        decoder = av.CodecContext.create("vp8", "r")
        assert isinstance(decoder, av.video.codeccontext.VideoCodecContext)
        decoder.thread_count = 1  # the worker is one thread: no decoder threads to wake per frame
        return decoder

    def restart(self) -> None:
        self.decoder = self._decoder()
        self.waiting = True

    def decode(self, frame: EncodedFrame) -> int:
        if self.waiting and not frame.keyframe:
            return 0
        self.waiting = False
        decoded = 0
        for picture in self.decoder.decode(av.Packet(frame.data)):
            assert isinstance(picture, av.VideoFrame)
            self.newest, self.fresh = picture, True
            decoded += 1
        return decoded

    def bgr(self, tile: Tile) -> Frame | None:
        """The newest picture if it is new, converted and scaled by swscale in
        one pass straight to the size it has in its tile (the compositor then
        copies it; its own resize into a 3/4 tile cost 1.5 ms a picture here).
        One reformatter per source keeps its scaler: a frame's own
        to_ndarray() builds a new one each time (2 ms more a picture)."""
        if not self.fresh or self.newest is None:
            return None
        self.fresh = False
        picture = self.newest
        fitted = tile.fit(picture.width, picture.height)
        scaled = self.reformatter.reformat(picture, fitted.width, fitted.height, "bgr24", interpolation="AREA")
        return np.asarray(scaled.to_ndarray(), np.uint8)


class _Segment:
    def __init__(self, number: int, index: int, writer: SegmentWriter, container: av.container.OutputContainer) -> None:
        self.number = number
        self.index = index  # within its run
        self.writer = writer
        self.container = container
        self.video: av.video.stream.VideoStream | None = None
        self.audio: av.audio.stream.AudioStream | None = None
        self.ticks = 0
        self.slots = 0


class Recorder:
    def __init__(
        self,
        sink: SegmentSink[Any],
        *,
        labels: Mapping[str, str],
        segment_seconds: float = 10.0,
        width: int = 960,
        height: int = 540,
        fps: int = 25,
        clock: Callable[[], float] = time.monotonic,
        on_failure: Callable[[str], None] | None = None,
        on_keyframe_needed: Callable[[str], None] | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        zone: tzinfo = CLOCK_ZONE,
    ) -> None:
        self.plan = SegmentPlan(segment_seconds, fps)
        self.compositor = Compositor(width, height)  # validates the size
        self.sink = sink
        self.labels = dict(labels)
        self.clock = clock
        self.on_failure = on_failure
        # A view that waits for a keyframe asks its source for one (thread-safe: the caller's).
        self.on_keyframe_needed = on_keyframe_needed
        self._keyframe_asked: dict[int, float] = {}
        self.wall = wall
        self.zone = zone
        self.width, self.height, self.fps = width, height, fps
        self._inbox = _Inbox(INBOX_ITEMS, clock, HOLD_SECONDS)
        self._sources: list[str] = []
        self._pictures: list[_Picture] = []
        self._started = False
        self._recording = False  # started and not paused, as the event loop sees it
        self._thread: threading.Thread | None = None
        self._exited = threading.Event()
        # The worker's state (only the worker touches these once started).
        self._origin_clock = 0.0
        self._origin_wall = datetime.now(UTC)
        self._run_origin: float | None = None  # None: paused (or stopped)
        self._next_tick = 0
        self._next_slot = 0
        self._segment: _Segment | None = None
        self._number = 0
        self._retry_at = float("-inf")
        self._stopping = False
        self._half_frame = 0.5 / fps
        self._at = 0.0  # the arrival time of the item in hand
        self._late_mixes = 0
        self._clock_masks: dict[str, npt.NDArray[np.bool_]] = {}
        self._segments = self._failures = self._compositions = self._mixes = self._decoded = 0
        self._lag_max = 0.0

    def __repr__(self) -> str:
        return f"Recorder({self.width}x{self.height}@{self.fps}, {len(self._sources)} sources)"

    def _log(self, level: int, message: str, *args: object) -> None:
        logger.log(level, "%r " + message, self, *args)

    # --- the event loop's side ---------------------------------------------------

    def _want_keyframe(self, source: int) -> None:
        """Ask the source for a keyframe (from the loop or the worker; at most
        every KEYFRAME_ASK_SECONDS here, and the switchboard paces its own requests)."""
        now = time.monotonic()
        if self.on_keyframe_needed is None or now - self._keyframe_asked.get(source, -1e9) < KEYFRAME_ASK_SECONDS:
            return
        self._keyframe_asked[source] = now
        self.on_keyframe_needed(self._sources[source])

    def receiver(self, sources: Sequence[str]) -> Receiver:
        """The switchboard's receiver: the mix, and a view of each source."""
        if self._sources:
            raise InvalidTransition(f"{self!r} has its receiver already")
        layout_for(len(sources))
        if not sources or len(set(sources)) != len(sources):
            raise InvalidInput(f"the recording's sources must be distinct and at least one: {list(sources)}")
        self._sources = list(sources)
        self._pictures = [_Picture() for _ in sources]
        views = [View(source, _VideoIn(self, index)) for index, source in enumerate(sources)]
        return Receiver(seat=RECORDER, audio=_AudioIn(self), picture=None, views=views)

    def start(self) -> None:
        if self._started:
            raise InvalidTransition(f"{self!r} is started already")
        if not self._sources:
            raise InvalidTransition(f"{self!r}: take its receiver() before starting it")
        self._started = self._recording = True
        now = self.clock()
        self._origin_clock, self._origin_wall = now, self.wall()
        self._inbox.put(_Control(now, "start"))
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        self._require_started()
        if self._recording:
            self._recording = False
            self._inbox.put(_Control(self.clock(), "pause"))

    def resume(self) -> None:
        self._require_started()
        if not self._recording:
            self._recording = True
            self._inbox.put(_Control(self.clock(), "resume"))

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the segment in progress and end the worker. Blocks (the last
        segment is encoded and closed): call it off the event loop."""
        if not self._started or self._thread is None:
            return
        if self._thread.is_alive():
            self._recording = False
            self._inbox.put(_Control(self.clock(), "stop"))
            self._thread.join(timeout)
        self._started = False

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the worker has done everything due by now (tests, bench)."""
        self._require_started()
        done = threading.Event()
        self._inbox.put(_Control(self.clock(), "settle", done))
        return done.wait(timeout)

    @property
    def writing(self) -> bool:
        """True only while a segment is open and the worker keeps up with it."""
        return self._segment is not None and self.lag() <= LAG_LIMIT

    def lag(self) -> float:
        oldest = self._inbox.oldest()
        return 0.0 if oldest is None else max(0.0, self._now() - oldest)

    def stats(self) -> RecorderStats:
        return RecorderStats(
            segments=self._segments,
            failures=self._failures,
            compositions=self._compositions,
            mixes=self._mixes,
            frames_decoded=self._decoded,
            dropped_video=self._inbox.dropped_video,
            dropped_audio=self._inbox.dropped_audio + self._late_mixes,
            lag_max=self._lag_max,
        )

    def _require_started(self) -> None:
        if not self._started:
            raise InvalidTransition(f"{self!r} is not started")

    # --- the worker --------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                item = self._inbox.get(self._wait())
                try:
                    if item is None:
                        self._at = self._now()
                        self._tick_until(self._at - self._half_frame)
                    elif self._handle(item):
                        return
                except Exception as exc:  # noqa: BLE001 (any failure of the pipeline is reported, then retried)
                    self._fail(f"{type(exc).__name__}: {exc}")
                    if self._stopping:
                        return
        finally:
            self._segment = None
            self._exited.set()

    def _now(self) -> float:
        """The worker's present on the arrival clock: the inbox's hold ago."""
        return self.clock() - HOLD_SECONDS

    def _wait(self) -> float:
        if self._run_origin is None:
            return 0.05
        due = self._run_origin + self.plan.tick_time(self._next_tick) + self._half_frame
        return min(0.02, max(0.001, due - self._now()))

    def _handle(self, item: _Item) -> bool:
        """One item in arrival order; True: the worker is done."""
        self._at = item.at
        lag = self._now() - item.at
        self._lag_max = max(self._lag_max, lag)
        if lag > LAG_LIMIT and not isinstance(item, _Control):
            self._fall_behind(lag)
            return False
        if isinstance(item, _Control):
            return self._control(item)
        # A frame belongs to the tick nearest its arrival: ticks more than
        # half a frame before it are composed first. So a picture is placed
        # within half a frame of its arrival (20 ms at 25 fps) and a mix within
        # half a slot (10 ms): the two never drift more than 30 ms apart.
        self._tick_until(item.at - self._half_frame, strictly=True)
        if isinstance(item, _Audio):
            self._audio(item)
        else:
            self._video(item)
        return False

    def _control(self, item: _Control) -> bool:
        if item.what in ("start", "resume"):
            self._begin_run(item.at)
        elif item.what in ("pause", "stop"):
            self._stopping = item.what == "stop"
            try:
                # A tick at the pause's instant would show what comes after it.
                self._tick_until(item.at, strictly=True)
                if self._segment is not None:
                    self._finish_segment(end=item.at)
            finally:
                self._run_origin = None  # paused even if the last segment failed
            return self._stopping
        elif item.what == "settle":
            self._tick_until(item.at - self._half_frame)
            assert item.done is not None
            item.done.set()
        return False

    def _begin_run(self, at: float) -> None:
        self._run_origin = at
        self._next_tick = self._next_slot = 0

    def _fall_behind(self, lag: float) -> None:
        """More than LAG_LIMIT behind: the backlog is given up (its controls
        still apply), and the recording goes on from now in a new segment."""
        self._at = self._now()
        self._fail(f"the recorder fell {lag:.1f} s behind")
        for item in self._inbox.drain():
            if isinstance(item, _Control):
                self._control(item)
        for picture in self._pictures:
            picture.restart()
        if self._run_origin is not None:
            self._begin_run(self._retry_at)

    def _fail(self, reason: str) -> None:
        self._failures += 1
        self._log(logging.WARNING, "failed: %s", reason)
        segment, self._segment = self._segment, None
        if segment is not None:
            try:
                segment.container.close()
            except Exception:  # noqa: BLE001, S110 (abandoned anyway: its writer may be what failed)
                pass
            try:
                self.sink.abandoned(segment.number, segment.writer)
            except Exception as exc:  # noqa: BLE001
                self._log(logging.WARNING, "segment %d: the sink refused its abandonment: %s", segment.number, exc)
        # On the arrival clock: from the item that failed, however late the worker took it.
        self._retry_at = self._at + RETRY_AFTER
        if self._run_origin is not None:
            self._begin_run(self._retry_at)
        if self.on_failure is not None:
            try:
                self.on_failure(reason)
            except Exception:
                logger.exception("%r on_failure raised", self)

    # --- pictures ----------------------------------------------------------------

    def _video(self, item: _Video) -> None:
        for source in self._inbox.take_gaps():
            self._pictures[source].restart()
        picture = self._pictures[item.source]
        if item.frame is _SWITCH:
            picture.restart()
            return
        if picture.waiting and not item.frame.keyframe:
            self._want_keyframe(item.source)  # a view (re)started: its source's next keyframe, soon
        try:
            self._decoded += picture.decode(item.frame)
        except av.error.FFmpegError as exc:
            # A broken frame from a sender is not the recorder's failure: wait for its next keyframe.
            self._log(logging.INFO, "source %s: undecodable frame (%s)", self._sources[item.source], exc)
            picture.restart()

    def _tick_until(self, at: float, *, strictly: bool = False) -> None:
        if self._run_origin is None or at < self._retry_at:
            return
        seconds = at - self._run_origin
        due = self.plan.ticks_until(seconds)
        if strictly and due > 0 and self.plan.tick_time(due - 1) >= seconds - 1e-9:
            due -= 1
        while self._next_tick < due:
            self._tick()

    def _tick(self) -> None:
        assert self._run_origin is not None
        tick = self._next_tick
        segment = self._segment_for(tick // self.plan.video_ticks)
        # Sound not come by now is silence (the mixer sent nothing: nobody routed spoke).
        self._pad_audio(min(self.plan.slot_of(self.plan.tick_time(tick)) - AUDIO_SLACK_SLOTS, self._end_slot(segment)))
        self._compose_into(segment, tick)
        self._next_tick = tick + 1

    def _compose_into(self, segment: _Segment, tick: int) -> None:
        assert segment.video is not None and self._run_origin is not None
        chosen = layout_for(len(self._sources))
        places = tiles(chosen, self.width, self.height, len(self._sources))
        frames = {
            source: picture.bgr(tile)
            for source, picture, tile in zip(self._sources, self._pictures, places, strict=True)
        }
        i420 = self.compositor.compose(chosen, frames, labels=self.labels)
        self._draw_clock(i420, self._run_origin + self.plan.tick_time(tick))
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame.pts = tick - segment.index * self.plan.video_ticks
        frame.time_base = fractions.Fraction(1, self.fps)
        for packet in segment.video.encode(frame):
            segment.container.mux(packet)
        segment.ticks += 1
        self._compositions += 1

    def _draw_clock(self, i420: Frame, at: float) -> None:
        """The date and time, white on black, top right, drawn into the I420
        picture itself (luma for the text, neutral chroma for its box)."""
        text = clock_text(self._origin_wall + timedelta(seconds=at - self._origin_clock), self.zone)
        mask = self._clock_mask(text)
        height, width = mask.shape
        x = self.width - width - 2 * (self.height // 90)
        y = 2 * (self.height // 90)
        luma = i420[y : y + height, x : x + width]
        luma[...] = 16
        luma[mask] = 235
        chroma_rows = self.height // 2
        for plane in range(2):
            start = self.height + plane * self.height // 4
            chroma = i420[start : start + self.height // 4].reshape(chroma_rows, self.width // 2)
            chroma[y // 2 : (y + height) // 2, x // 2 : (x + width) // 2] = 128

    def _clock_mask(self, text: str) -> npt.NDArray[np.bool_]:
        if (mask := self._clock_masks.get(text)) is None:
            size = max(10, self.height // 30)
            width = cv2.getTextSize((self.width, self.height), text, (0, 0), FONT, size)[2]
            height = size * 3 // 2 // 2 * 2
            image = np.zeros((height, (width + size) // 2 * 2), np.uint8)
            cv2.putText(image, text, (size // 2, (height + size * 2 // 3) // 2), 255, FONT, size)
            mask = image > 127
            if len(self._clock_masks) > 4:  # one text a second: keep only the latest few
                self._clock_masks.clear()
            self._clock_masks[text] = mask
        return mask

    # --- sound -------------------------------------------------------------------

    def _audio(self, item: _Audio) -> None:
        if self._run_origin is None or item.at < self._retry_at:
            return
        if item.pcm.shape != (FRAME_SAMPLES,) or item.pcm.dtype != np.int16:
            raise InvalidInput(f"a mix is {FRAME_SAMPLES} int16 samples, not {item.pcm.dtype} {item.pcm.shape}")
        at = place(self.plan.slot_of(item.at - self._run_origin), self._next_slot)
        if at is None:
            self._late_mixes += 1  # a burst's excess: the sound goes on from the next
            return
        self._pad_audio(at)
        self._write_slot(at, item.pcm)
        self._mixes += 1

    def _pad_audio(self, until: int) -> None:
        while self._next_slot < until:
            self._write_slot(self._next_slot, None)

    def _write_slot(self, slot: int, pcm: Pcm | None) -> None:
        segment = self._segment_for(slot // self.plan.audio_slots)
        assert segment.audio is not None
        samples = np.zeros(FRAME_SAMPLES, np.int16) if pcm is None else pcm
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, FRAME_SAMPLES), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = (slot - segment.index * self.plan.audio_slots) * FRAME_SAMPLES
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        for packet in segment.audio.encode(frame):
            segment.container.mux(packet)
        segment.slots += 1
        self._next_slot = slot + 1

    # --- segments ----------------------------------------------------------------

    def _end_slot(self, segment: _Segment) -> int:
        return (segment.index + 1) * self.plan.audio_slots

    def _segment_for(self, index: int) -> _Segment:
        """The open segment of this index in the run (finishing the one before)."""
        segment = self._segment
        if segment is not None and segment.index == index:
            return segment
        if segment is not None:
            self._finish_segment(end=None)
        return self._open_segment(index)

    def _open_segment(self, index: int) -> _Segment:
        number = self._number + 1
        writer = self.sink.open(number)
        self._number = number
        container = av.open(writer, "w", format=CONTAINER, options=CONTAINER_OPTIONS)
        segment = _Segment(number, index, writer, container)
        self._segment = segment  # from here a failure abandons it
        video = container.add_stream(VIDEO_CODEC, rate=self.fps, options=VIDEO_OPTIONS)
        assert isinstance(video, av.video.stream.VideoStream)
        video.width, video.height = self.width, self.height
        video.pix_fmt = "yuv420p"
        video.codec_context.gop_size = KEYFRAME_SECONDS * self.fps
        video.codec_context.thread_count = 1
        audio = container.add_stream(AUDIO_CODEC, rate=SAMPLE_RATE, options=AUDIO_OPTIONS)
        assert isinstance(audio, av.audio.stream.AudioStream)
        audio.layout = "mono"
        audio.bit_rate = AUDIO_BIT_RATE
        segment.video, segment.audio = video, audio
        first_tick, first_slot = index * self.plan.video_ticks, index * self.plan.audio_slots
        self._next_tick = max(self._next_tick, first_tick)
        self._next_slot = max(self._next_slot, first_slot)
        return segment

    def _finish_segment(self, end: float | None) -> None:
        """Close the open segment: at its full length (end None: the next one
        begins), or at `end` on the arrival clock (a pause, a stop)."""
        segment = self._segment
        assert segment is not None and self._run_origin is not None
        if end is None:
            # Ticks of this segment not yet composed (a burst of sound ran
            # ahead into the next one) are composed now, with the newest pictures.
            while self._next_tick < (segment.index + 1) * self.plan.video_ticks:
                self._compose_into(segment, self._next_tick)
                self._next_tick += 1
            self._pad_audio(self._end_slot(segment))
        else:
            self._pad_audio(min(self._end_slot(segment), self.plan.slot_of(end - self._run_origin)))
        assert segment.video is not None and segment.audio is not None
        for stream in (segment.video, segment.audio):
            for packet in stream.encode(None):
                segment.container.mux(packet)
        segment.container.close()
        self._segment = None
        start = self._run_origin - self._origin_clock + segment.index * self.plan.segment_seconds
        duration = max(segment.ticks / self.fps, segment.slots * SLOT_SECONDS)
        self.sink.closed(segment.number, round(start, 6), round(duration, 6), segment.writer)
        self._segments += 1
        self._log(logging.DEBUG, "segment %d closed: %.2f s at %.2f s", segment.number, duration, start)
