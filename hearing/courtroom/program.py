"""The courtroom program: the room's sound mixed, the cameras switched and
composed, at a steady cadence whatever the sources do.

`CourtroomSound` takes what the microphones delivered and gives 20 ms of
the room's mix at a time, with each seat's level. `Program` runs the
pictures in a worker thread of its own (never on the event loop): every
1/fps s it asks the switcher which camera to show (from the seats' levels,
the floor and the judge's pin), composes the newest frame of each camera
into the program, and hands the I420 picture to whoever encodes it; about
once a second it also makes a small JPEG of each camera and of the program
for the judge's panel. A camera that stutters keeps its last frame for a
moment (the compositor's rule); one that is down shows its slate and is
skipped by the switcher. No aiortc and no sockets here (hearing/courtroom/agent.py).
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from hearing.courtroom.compositor import Compositor, Frame, Layout, label_of
from hearing.courtroom.config import RigConfig
from hearing.courtroom.switcher import Decision, Override, Switcher, SwitcherConfig
from hearing.media.mixer import FRAME_SAMPLES, SILENCE_DBFS, Pcm, rms_dbfs

logger = logging.getLogger(__name__)

# A seat's level is the loudest 20 ms of the last 100 ms: speech dips between
# syllables, and the switcher must not hear each dip as the speaker stopping.
LEVEL_FRAMES = 5
# Each seat's microphone samples waiting to be mixed: at most this many
# (a second); older ones are dropped, so the sound never lags behind.
MAX_BACKLOG = 50 * FRAME_SAMPLES
PREVIEW_WIDTH, PREVIEW_HEIGHT = 320, 180
PREVIEW_SECONDS = 1.0
PREVIEW_QUALITY = 70
# The room's people by their floor role (hearing/docket/parties.py) and the
# rig's seats (hearing/courtroom/config.py), where the names differ.
FLOOR_SEATS = {"defence_counsel": "defence"}


class CameraSource(Protocol):
    """A camera as the program sees it (hearing/courtroom/sources.py)."""

    @property
    def state(self) -> str: ...

    def latest(self) -> tuple[npt.NDArray[np.uint8] | None, int]: ...


class MicrophoneSource(Protocol):
    def take(self) -> dict[str, Pcm]: ...


def floor_seat(holder: str | None) -> str | None:
    """The rig's seat of whoever holds the floor, if they are in the
    courtroom ("courtroom:prosecutor" -> "prosecutor")."""
    if holder is None:
        return None
    seat, _, role = holder.partition(":")
    if seat != "courtroom" or not role:
        return None
    return FLOOR_SEATS.get(role, role)


def override_of(pin: Mapping[str, Any] | None, cameras: Sequence[str]) -> Override | None:
    """The judge's pin as the switcher takes it; a pinned camera this rig
    does not have is left out (the server refuses one, so it is stale)."""
    if not pin:
        return None
    camera = pin.get("camera") if pin.get("camera") in cameras else None
    layout = pin.get("layout") if isinstance(pin.get("layout"), str) else None
    if camera is None and layout is None:
        return None
    return Override(camera, layout)


class CourtroomSound:
    """The room's microphones, 20 ms at a time: the mix the court hears and
    each seat's level. Thread-safe: the sound track takes the mix, the
    program reads the levels."""

    def __init__(self, microphones: Sequence[MicrophoneSource], seats: Sequence[str]) -> None:
        self.microphones = list(microphones)
        self._pending: dict[str, collections.deque[Pcm]] = {seat: collections.deque() for seat in seats}
        self._queued: dict[str, int] = dict.fromkeys(seats, 0)
        self._recent: dict[str, collections.deque[float]] = {
            seat: collections.deque(maxlen=LEVEL_FRAMES) for seat in seats
        }
        self._lock = threading.Lock()

    def _collect(self) -> None:
        for microphone in self.microphones:
            for seat, samples in microphone.take().items():
                if seat not in self._pending or not len(samples):
                    continue
                self._pending[seat].append(samples)
                self._queued[seat] += len(samples)
                while self._queued[seat] > MAX_BACKLOG:
                    self._queued[seat] -= len(self._pending[seat].popleft())

    def _frame_of(self, seat: str) -> Pcm:
        """The seat's next 20 ms; silence where its microphone delivered less."""
        out = np.zeros(FRAME_SAMPLES, np.int16)
        filled, pending = 0, self._pending[seat]
        while filled < FRAME_SAMPLES and pending:
            chunk = pending[0]
            n = min(FRAME_SAMPLES - filled, len(chunk))
            out[filled : filled + n] = chunk[:n]
            filled += n
            if n == len(chunk):
                pending.popleft()
            else:
                pending[0] = chunk[n:]
        self._queued[seat] -= filled
        return out

    def next_frame(self) -> Pcm:
        """The next 20 ms of the room: every seat's microphone summed."""
        with self._lock:
            self._collect()
            mix = np.zeros(FRAME_SAMPLES, np.int32)
            for seat in self._pending:
                frame = self._frame_of(seat)
                self._recent[seat].append(rms_dbfs(frame))
                mix += frame
            return np.clip(mix, -32768, 32767).astype(np.int16)

    def levels(self) -> dict[str, float]:
        """Each seat's level now (dBFS): the loudest of its last 100 ms."""
        with self._lock:
            return {seat: max(recent, default=SILENCE_DBFS) for seat, recent in self._recent.items()}


@dataclasses.dataclass(frozen=True)
class ProgramState:
    """What the program shows, for the rig's report."""

    camera: str | None
    layout: Layout
    reason: str


def jpeg_base64(picture: Frame, width: int = PREVIEW_WIDTH, height: int = PREVIEW_HEIGHT) -> str:
    small = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_QUALITY])
    if not ok:
        raise ValueError("the preview could not be encoded")
    return base64.b64encode(data.tobytes()).decode("ascii")


class Program:
    """The composition thread. `output(i420, n)` is called from it with each
    program picture (the buffer is reused: copy it); `previews(items)` with
    [(camera id or "program", base64 JPEG)] about once a second."""

    def __init__(
        self,
        config: RigConfig,
        cameras: Mapping[str, CameraSource],
        sound: CourtroomSound,
        *,
        output: Callable[[Frame, int], None],
        previews: Callable[[list[tuple[str, str]]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = config.rig
        overview = next((c.id for c in config.cameras if c.seat == "overview"), settings.bench_camera)
        self.config = config
        self.cameras = cameras
        self.sound = sound
        self.switcher = Switcher(
            SwitcherConfig({c.id: c.seat for c in config.cameras if c.id != overview}, overview=overview)
        )
        self.compositor = Compositor(settings.width, settings.height)
        self.labels = {c.id: label_of(c.label.da, c.label.en) for c in config.cameras}
        self.order = [c.id for c in config.cameras]
        self.output = output
        self.previews = previews
        self.clock = clock
        self.period = 1 / settings.fps
        # Set from the event loop, read each tick (a reference swap is atomic).
        self.floor_seat: str | None = None
        self.override: Override | None = None
        self.state = ProgramState(None, settings.layout, "fallback")  # type: ignore[arg-type]
        self.ticks = 0
        self.late_ticks = 0  # ticks that started more than a period late (the machine was busy)
        self._seen: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_preview: float | None = None

    def __repr__(self) -> str:
        return f"Program({self.compositor.width}x{self.compositor.height}@{1 / self.period:g})"

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="courtroom program", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        start = self.clock()
        n = 0
        while not self._stop.is_set():
            try:
                self.tick(self.clock())
            except Exception:  # one bad frame must not end the courtroom's picture
                logger.exception("%r: a tick failed", self)
            n += 1
            # On the clock, not after the work: a steady cadence however long a tick took.
            due = start + n * self.period
            wait = due - self.clock()
            if wait < -self.period:
                self.late_ticks += 1
                start, n = self.clock(), 0  # behind by more than a frame: start afresh, do not burst
            elif wait > 0:
                self._stop.wait(wait)

    def _fresh_frames(self) -> dict[str, Frame | None]:
        """Each camera's newest frame if it is new since the last tick (None:
        keep the last one, or the slate if the camera is down)."""
        frames: dict[str, Frame | None] = {}
        for camera_id in self.order:
            source = self.cameras.get(camera_id)
            frame, count = source.latest() if source is not None else (None, 0)
            if source is not None and source.state == "unavailable":
                self.compositor.update(camera_id, None)
                frame = None
            elif frame is not None and self._seen.get(camera_id) == count:
                frame = None
            elif frame is not None:
                # Kept for every camera, shown or not: the panel's previews show them all.
                self.compositor.update(camera_id, frame)
            self._seen[camera_id] = count
            frames[camera_id] = frame
        return frames

    def unavailable(self) -> frozenset[str]:
        return frozenset(c for c in self.order if (s := self.cameras.get(c)) is None or s.state != "live")

    def tick(self, now: float) -> Frame:
        decision = self.switcher.step(now, self.sound.levels(), self.floor_seat, self.override, self.unavailable())
        layout: Layout = decision.layout if decision.layout is not None else self.config.rig.layout  # type: ignore[assignment]
        frames = self._fresh_frames()
        shown = self._shown(layout, decision, frames)
        picture = self.compositor.compose(
            layout, shown, main=decision.camera if decision.camera in shown else None, labels=self.labels
        )
        self.state = ProgramState(decision.camera, layout, decision.reason)
        self.output(picture, self.ticks)
        self.ticks += 1
        if self.previews is not None and (self._last_preview is None or now - self._last_preview >= PREVIEW_SECONDS):
            self._last_preview = now
            self.previews(self._preview_images())
        return picture

    def _shown(self, layout: Layout, decision: Decision, frames: dict[str, Frame | None]) -> dict[str, Frame | None]:
        """The cameras the layout shows, the program camera first; the
        others keep the rig's order (a strip of four, a 2x2 of four)."""
        first = decision.camera or self.order[0]
        rest = [c for c in self.order if c != first]
        count = 1 if layout == "single" else 4 if layout == "grid" else 5
        return {camera_id: frames[camera_id] for camera_id in [first, *rest][:count]}

    def _preview_images(self) -> list[tuple[str, str]]:
        images = [("program", jpeg_base64(self.compositor.canvas))]
        for camera_id in self.order:
            frame = self.compositor.current(camera_id)
            if frame is not None:
                images.append((camera_id, jpeg_base64(frame)))
        return images


def levels_report(levels: Mapping[str, float]) -> dict[str, float | None]:
    """Levels as the server takes them: dBFS rounded, None for silence."""
    return {
        seat: None if level <= SILENCE_DBFS or not math.isfinite(level) else round(level, 1)
        for seat, level in levels.items()
    }
