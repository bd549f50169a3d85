"""The rig's feeds, and what the camera and microphone readers share.

The rig agent's composition tick asks each `CameraFeed` for its newest
frame and each `MicrophoneFeed` for the audio that came since the last tick;
neither call blocks on a device. Behind them a daemon thread per feed opens
its source through the `open_source` it was given (a reader from
hearing/courtroom/cameras.py or microphones.py, or a test's), reads it at its
own pace, and on any failure (cannot open, a read raises, nothing new for
FROZEN_SECONDS) reports the feed unavailable once, closes the source and
tries again after the back-off.

Here too is what the readers share with the feeds and each other: the
`FrameSource` and `AudioSource` contracts the feeds read through, `Pacer`
and the timeouts. The readers import this module, never the reverse
(tests/test_code_quality.py holds it to that), so the feeds know nothing of
PyAV or of the synthetic sources.

Camera URLs may carry a password (rtsp://user:pass@host/...): every URL and
every message that may hold one goes through `redact` before it reaches a
log line, a repr or a feed's `reason`.
"""

from __future__ import annotations

import abc
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from hearing.courtroom import config
from hearing.courtroom.backoff import Backoff
from hearing.errors import InvalidInput
from hearing.media.mixer import SAMPLE_RATE, Pcm

logger = logging.getLogger(__name__)

SourceState = Literal["starting", "live", "unavailable"]
CameraState = SourceState
StateCallback = Callable[[str, SourceState, str | None], None]

Image = npt.NDArray[np.uint8]
# Interleaved int16 samples at SAMPLE_RATE, shape (samples, channels).
Block = npt.NDArray[np.int16]

MAX_FRAME_WIDTH, MAX_FRAME_HEIGHT = config.MAX_WIDTH, config.MAX_HEIGHT
# A source that gives nothing new for this long counts as failed: the
# switcher must not keep cutting to a picture that stopped.
FROZEN_SECONDS = 2.0
# The first picture after opening may take longer: an IP camera's decoder
# waits for the next keyframe, and many send one every 2-4 s.
FIRST_READ_SECONDS = 10.0
# A network camera that stops sending raises within this (PyAV's read
# timeout and the protocol's socket timeout); opening may take longer (an
# RTSP DESCRIBE/SETUP over a slow link).
NETWORK_READ_TIMEOUT = 5.0
NETWORK_OPEN_TIMEOUT = 10.0
# A paced source never sleeps longer than this in one read, so stop()
# returns within about a second whatever the frame rate of the file.
MAX_SLEEP = 1.0
# How far a paced source may fall behind its schedule before it gives up
# catching up (a burst of frames would only be dropped by the feed).
MAX_LAG = 0.5
STOP_SECONDS = 2.0
# Per seat, the audio kept for a taker that does not come: 1 s, oldest dropped.
MAX_BUFFERED_SAMPLES = SAMPLE_RATE

# -- secrets ---------------------------------------------------------------------

_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^/\s]*@")
_SECRET_QUERY = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pass|pwd|token|key|secret|auth|signature|sig)=)[^&;#\s'\"]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` (a URL, or a message that may contain URLs) with every
    password in a URL's user part and in secret-looking query parameters
    replaced by ***. The user name and the host stay: an operator needs them."""
    text = _USERINFO.sub(r"\g<head>:***@", text)
    return _SECRET_QUERY.sub(r"\g<head>***", text)


def describe(exc: BaseException) -> str:
    """An exception for a log line: its type and its redacted message."""
    message = redact(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# -- the pure parts --------------------------------------------------------------


def split_channels(block: Block, channels: tuple[tuple[int, str], ...]) -> dict[str, Pcm]:
    """One mono int16 signal per seat from a (samples, channels) block, by
    the microphone's channel -> seat map."""
    if block.ndim != 2 or block.dtype != np.int16:
        raise InvalidInput(f"an audio block is int16 (samples, channels), got {block.dtype} {block.shape}")
    width = block.shape[1]
    result: dict[str, Pcm] = {}
    for channel, seat in channels:
        if channel >= width:
            raise InvalidInput(f"channel {channel} is mapped to {seat} but the source has {width} channel(s)")
        result[seat] = np.ascontiguousarray(block[:, channel])
    return result


class PcmBuffer:
    """One seat's samples between two takes, at most `limit` of them (the
    oldest are dropped: a late taker wants what is being said now)."""

    def __init__(self, limit: int = MAX_BUFFERED_SAMPLES) -> None:
        if limit < 1:
            raise InvalidInput(f"a buffer holds at least one sample, got {limit}")
        self.limit = limit
        self._parts: list[Pcm] = []
        self._size = 0
        self.dropped = 0

    def __len__(self) -> int:
        return self._size

    def push(self, samples: Pcm) -> None:
        if samples.size == 0:
            return
        self._parts.append(samples)
        self._size += samples.size
        while self._size > self.limit:
            excess = self._size - self.limit
            head = self._parts[0]
            if head.size <= excess:
                self._parts.pop(0)
                self._size -= head.size
                self.dropped += head.size
            else:
                self._parts[0] = head[excess:]
                self._size -= excess
                self.dropped += excess

    def take(self) -> Pcm:
        if not self._parts:
            return np.zeros(0, dtype=np.int16)
        result: Pcm = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0].copy()
        self._parts, self._size = [], 0
        return result


class Pacer:
    """Real-time pacing for a source that would otherwise deliver as fast as
    it decodes (a file, the synthetic pattern): item n is due at
    start + n * period. Keeps to the schedule over time (no drift from the
    time each item takes) and, when it has fallen far behind, starts a new
    schedule instead of bursting."""

    def __init__(
        self,
        period: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not period > 0:
            raise InvalidInput(f"a pacer's period is above 0, got {period}")
        self.period = period
        self._sleep, self._clock = sleep, clock
        self._start: float | None = None
        self._n = 0.0  # periods scheduled so far (audio blocks are not whole periods)

    def wait(self, items: float = 1.0) -> None:
        """Wait until the next item is due; it counts as `items` periods."""
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self._n * self.period
        if now - due > MAX_LAG:
            self._start, self._n, due = now, 0, now
        delay = due - now
        if delay > 0:
            self._sleep(min(delay, MAX_SLEEP))
        self._n += items


# -- the readers' contract -------------------------------------------------------


class FrameSource(Protocol):
    """One opened camera."""

    def read(self) -> Image:
        """The next BGR frame (h, w, 3); blocks at the source's own rate; raises on failure."""
        ...

    def close(self) -> None: ...


class AudioSource(Protocol):
    """One opened microphone."""

    def read(self) -> Block:
        """The next samples, int16 at SAMPLE_RATE, (samples, channels); blocks
        at the source's own rate; raises on failure."""
        ...

    def close(self) -> None: ...


# -- the feeds -------------------------------------------------------------------


class SourceFailed(Exception):
    """A failure the feed found itself (frozen, a bad frame), with the reason to show."""


class _Feed(abc.ABC):
    """A source read in a daemon thread, reopened with back-off after failures.

    The lifetime follows aiortc's receiver: the thread is None until start(),
    started once, and stop() sets the stop event and joins it."""

    kind = "source"

    def __init__(self, ident: str, target: str, backoff: Backoff, on_state: StateCallback | None) -> None:
        self.ident = ident
        self._target = redact(target)
        self.backoff = backoff
        self._on_state = on_state
        self._lock = threading.Lock()
        self._state: SourceState = "starting"
        self._reason: str | None = None
        self._failures = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.ident}, {self._target})"

    def _log(self, level: int, message: str, *args: object) -> None:
        logger.log(level, "%r " + message, self, *args)

    @property
    def state(self) -> SourceState:
        with self._lock:
            return self._state

    @property
    def reason(self) -> str | None:
        with self._lock:
            return self._reason

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"{self.kind}-{self.ident}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.join(STOP_SECONDS)
        if thread.is_alive():
            # A blocked device read; it is a daemon thread and ends when the read does.
            self._log(logging.WARNING, "did not stop within %.0f s", STOP_SECONDS)

    def _set(self, state: SourceState, reason: str | None) -> None:
        with self._lock:
            changed = state != self._state
            self._state, self._reason = state, reason
        if changed:
            self._log(
                logging.INFO if state == "live" else logging.WARNING, "%s%s", state, f" ({reason})" if reason else ""
            )
            self._on_change(state)
            if self._on_state is not None:
                try:
                    self._on_state(self.ident, state, reason)
                except Exception:
                    # The rig must keep reading whatever the listener does.
                    logger.exception("%r state listener failed", self)

    @abc.abstractmethod
    def _on_change(self, state: SourceState) -> None:
        """What the subclass forgets when the source goes down."""

    def _live(self) -> None:
        """The source delivered: it is live, and the back-off starts over."""
        self._failures = 0
        if self._state != "live":
            self._set("live", None)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                source = self._open()
            except Exception as exc:
                self._fail("cannot open", exc)
                continue
            try:
                self._pump(source)
            except SourceFailed as exc:
                self._fail(str(exc), None)
            except Exception as exc:
                self._fail(f"read failed: {type(exc).__name__}", exc)
            finally:
                try:
                    source.close()
                except Exception as exc:
                    self._log(logging.WARNING, "close failed: %s", describe(exc))

    def _fail(self, reason: str, exc: Exception | None) -> None:
        self._failures += 1
        delay = self.backoff.delay(self._failures)
        detail = f": {describe(exc)}" if exc is not None else ""
        self._log(logging.DEBUG, "failure %d (%s%s), next try in %.2f s", self._failures, reason, detail, delay)
        if self._state == "unavailable":
            with self._lock:
                self._reason = reason
        else:
            if exc is not None:
                self._log(logging.WARNING, "%s%s", reason, detail)
            self._set("unavailable", reason)
        self._stopping.wait(delay)

    @abc.abstractmethod
    def _open(self) -> Any:
        """The source, opened (CameraFeed, MicrophoneFeed)."""

    @abc.abstractmethod
    def _pump(self, source: Any) -> None:
        """Read the opened source until it fails or the feed stops."""


# Kinds whose source repeating the same picture means it is stuck: a real
# sensor always has noise. A file or the pattern may legitimately stand still.
_LIVE_KINDS = ("v4l2", "rtsp", "http")


def _signature(frame: Image) -> Image:
    # Every 16th pixel of every 16th row: cheap, and sensor noise shows in it.
    return frame[::16, ::16].copy()


class CameraFeed(_Feed):
    """One camera's newest frame, for the composition tick."""

    kind = "camera"

    def __init__(
        self,
        camera: config.Camera,
        open_source: Callable[[], FrameSource],
        *,
        backoff: Backoff | None = None,
        on_state: StateCallback | None = None,
        frozen_after: float = FROZEN_SECONDS,
    ) -> None:
        if not frozen_after > 0:
            raise InvalidInput(f"frozen_after is above 0, got {frozen_after}")
        super().__init__(camera.id, camera.source.target or camera.source.kind, backoff or Backoff(), on_state)
        self.camera = camera
        self._open_source = open_source
        self.frozen_after = frozen_after
        self._frame: Image | None = None
        self._frame_at = 0.0
        self._count = 0

    def latest(self) -> tuple[Image | None, int]:
        """The newest frame (read-only; None until the first, while the camera
        is unavailable, or when nothing new came for `frozen_after` while a
        read is still blocked), and how many frames came so far."""
        with self._lock:
            if self._frame is None or time.monotonic() - self._frame_at > self.frozen_after:
                return None, self._count
            return self._frame, self._count

    def _on_change(self, state: SourceState) -> None:
        if state == "unavailable":
            with self._lock:
                self._frame = None

    def _open(self) -> FrameSource:
        return self._open_source()

    def _pump(self, source: FrameSource) -> None:
        stuck_possible = self.camera.source.kind in _LIVE_KINDS
        last_new = time.monotonic()
        allowed = max(self.frozen_after, FIRST_READ_SECONDS)
        previous: Image | None = None
        while not self._stopping.is_set():
            frame = source.read()
            now = time.monotonic()
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise SourceFailed(f"read failed: not a BGR picture ({frame.dtype} {frame.shape})")
            height, width = frame.shape[:2]
            if width > MAX_FRAME_WIDTH or height > MAX_FRAME_HEIGHT:
                raise SourceFailed(f"read failed: {width}x{height} is larger than {MAX_FRAME_WIDTH}x{MAX_FRAME_HEIGHT}")
            if now - last_new > allowed:
                raise SourceFailed(f"frozen: nothing new for {allowed:g} s")
            if stuck_possible:
                signature = _signature(frame)
                if previous is not None and np.array_equal(signature, previous):
                    continue
                previous = signature
            last_new, allowed = now, self.frozen_after
            frame.flags.writeable = False  # the compositor reads it in another thread
            with self._lock:
                self._frame, self._frame_at = frame, now
                self._count += 1
            self._live()


class MicrophoneFeed(_Feed):
    """One microphone's audio per seat, for the composition tick.

    `open_source` opens the microphone each time the feed (re)connects: the
    rig's passes open_microphone (hearing/courtroom/microphones.py) with one
    script origin for its whole life, so a reconnect resumes the script
    where the room is."""

    kind = "microphone"

    def __init__(
        self,
        microphone: config.Microphone,
        open_source: Callable[[], AudioSource],
        *,
        backoff: Backoff | None = None,
        on_state: StateCallback | None = None,
        frozen_after: float = FROZEN_SECONDS,
    ) -> None:
        super().__init__(
            microphone.id, microphone.source.target or microphone.source.kind, backoff or Backoff(), on_state
        )
        self.microphone = microphone
        self.seats = tuple(seat for _, seat in microphone.channels)
        self._open_source = open_source
        self.frozen_after = frozen_after
        self._buffers = {seat: PcmBuffer() for seat in self.seats}

    def take(self) -> dict[str, Pcm]:
        """Per seat, the samples (int16 mono 48 kHz) that came since the last
        take: at most MAX_BUFFERED_SAMPLES, and none while the microphone is down
        (its seats are silent)."""
        with self._lock:
            return {seat: buffer.take() for seat, buffer in self._buffers.items()}

    def _on_change(self, state: SourceState) -> None:
        if state == "unavailable":
            with self._lock:
                for buffer in self._buffers.values():
                    buffer.take()

    def _open(self) -> AudioSource:
        return self._open_source()

    def _pump(self, source: AudioSource) -> None:
        last = time.monotonic()
        allowed = max(self.frozen_after, FIRST_READ_SECONDS)
        while not self._stopping.is_set():
            block = source.read()
            now = time.monotonic()
            if now - last > allowed:
                raise SourceFailed(f"frozen: nothing new for {allowed:g} s")
            if block.shape[0] == 0:
                continue
            try:
                parts = split_channels(block, self.microphone.channels)
            except InvalidInput as exc:
                raise SourceFailed(f"read failed: {exc.message}") from exc
            last, allowed = now, self.frozen_after
            with self._lock:
                for seat, samples in parts.items():
                    self._buffers[seat].push(samples)
            self._live()
