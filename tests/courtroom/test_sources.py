from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from hearing.courtroom import cameras, microphones, sources
from hearing.courtroom.backoff import Backoff
from hearing.courtroom.cameras import open_camera
from hearing.courtroom.config import Camera, CameraSource, Label, Microphone, MicrophoneSource
from hearing.courtroom.microphones import open_microphone
from hearing.courtroom.sources import (
    CameraFeed,
    MicrophoneFeed,
    Pacer,
    PcmBuffer,
    SourceState,
    redact,
    split_channels,
)
from hearing.courtroom.synthetic import SpeechScript, read_back, seat_index
from hearing.errors import InvalidInput
from hearing.media.mixer import SAMPLE_RATE, rms_dbfs
from tests.waiting import wait_until

Image = npt.NDArray[np.uint8]
FAST = Backoff(first=0.05, factor=2.0, most=0.2)
FEED_THREADS = ("camera-", "microphone-")


def feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(FEED_THREADS) and t.is_alive()]


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    yield
    # Every test stops what it started; a feed thread left running is a leak.
    assert feed_threads() == []


def camera(seat: str = "judge", source: str = "test:") -> Camera:
    return Camera(f"cam-{seat}", seat, Label(seat.title(), seat.title()), CameraSource.parse(source))


class States:
    """The on_state calls, as (id, state, reason), from the feed's thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, SourceState, str | None]] = []
        self._lock = threading.Lock()

    def __call__(self, ident: str, state: SourceState, reason: str | None) -> None:
        with self._lock:
            self.calls.append((ident, state, reason))

    def states(self) -> list[SourceState]:
        with self._lock:
            return [state for _, state, _ in self.calls]


def make_video(path: Path, frames: int = 5, width: int = 320, height: int = 240, rate: int = 25) -> list[int]:
    """A short clip whose frame i is red at 40 * i + 20; returns those levels."""
    levels = [40 * i + 20 for i in range(frames)]
    codec = "libx264" if path.suffix == ".mp4" else "mpeg4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for level in levels:
            image = np.zeros((height, width, 3), np.uint8)
            image[:, :, 2] = level  # BGR: red
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return levels


def make_audio(path: Path, tones: tuple[float, ...], seconds: float = 0.5, rate: int = 44_100) -> None:
    """A file with one sine tone per channel, at `rate` (not 48 kHz, so the resampling shows)."""
    layout = {1: "mono", 2: "stereo"}[len(tones)]
    n = int(seconds * rate)
    t = np.arange(n) / rate
    data = np.stack([np.sin(2 * np.pi * f * t) * 8000 for f in tones]).astype(np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(data, format="s16p", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def dominant_hz(samples: npt.NDArray[np.int16], rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


# -- the pure parts --------------------------------------------------------------


def test_backoff_doubles_to_thirty_seconds() -> None:
    backoff = Backoff()
    assert [backoff.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
    # A camera down for a week: no overflow, still the most.
    assert backoff.delay(100_000) == 30
    assert Backoff(first=0.5, factor=1.0, most=0.5).delay(7) == 0.5


@pytest.mark.parametrize(
    "fields", [{"first": 0.0}, {"factor": 0.5}, {"first": 5.0, "most": 1.0}, {"most": float("inf")}]
)
def test_backoff_refuses_nonsense(fields: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        Backoff(**fields)


def test_backoff_counts_failures_from_one() -> None:
    with pytest.raises(InvalidInput):
        Backoff().delay(0)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.7:554/stream1", "rtsp://admin:***@10.0.0.7:554/stream1"),
        ("rtsp://admin:p@ss:w0rd@cam.court.local/live", "rtsp://admin:***@cam.court.local/live"),
        (
            "http://cam/video.mjpg?user=admin&password=s3cret&fps=25",
            "http://cam/video.mjpg?user=admin&password=***&fps=25",
        ),
        ("http://cam/snap?PWD=s3cret", "http://cam/snap?PWD=***"),
        ("rtsp://cam.court.local/stream", "rtsp://cam.court.local/stream"),
        ("rtsp://viewer@cam.court.local/stream", "rtsp://viewer@cam.court.local/stream"),
        ("/dev/video0", "/dev/video0"),
    ],
)
def test_redact_hides_passwords(url: str, shown: str) -> None:
    assert redact(url) == shown
    # Also inside a message, as PyAV's errors quote the URL.
    assert redact(f"[Errno 111] Connection refused: '{url}'") == f"[Errno 111] Connection refused: '{shown}'"


def test_split_channels_follows_the_map() -> None:
    block = np.arange(12, dtype=np.int16).reshape(4, 3)  # 4 samples, 3 channels
    parts = split_channels(block, ((0, "judge"), (2, "witness")))
    assert set(parts) == {"judge", "witness"}
    assert parts["judge"].tolist() == [0, 3, 6, 9]
    assert parts["witness"].tolist() == [2, 5, 8, 11]
    assert parts["witness"].flags.c_contiguous
    with pytest.raises(InvalidInput, match="channel 3 is mapped to defence but the source has 3"):
        split_channels(block, ((3, "defence"),))


def test_pcm_buffer_keeps_the_newest() -> None:
    buffer = PcmBuffer(limit=10)
    assert buffer.take().size == 0
    for start in range(0, 16, 4):
        buffer.push(np.arange(start, start + 4, dtype=np.int16))
    assert len(buffer) == 10 and buffer.dropped == 6
    assert buffer.take().tolist() == list(range(6, 16))
    assert len(buffer) == 0 and buffer.take().size == 0


def test_pacer_keeps_to_its_schedule_and_does_not_burst() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    pacer = Pacer(0.04, sleep=sleep, clock=lambda: now[0])
    for _ in range(3):
        pacer.wait()
        now[0] += 0.01  # the work each item takes does not add up
    assert slept == [0.03, 0.03]
    now[0] += 5.0  # a stall: a new schedule, not 125 items at once
    pacer.wait()
    pacer.wait()
    assert slept == [0.03, 0.03, 0.04]


# -- cameras ---------------------------------------------------------------------


def test_the_test_pattern_carries_its_seat_and_a_rising_counter() -> None:
    cam = camera("witness")
    feed = CameraFeed(cam, lambda: open_camera(cam.source, cam, 320, 180, 50))
    feed.start()
    try:
        seen: list[int] = []

        def five_frames() -> bool:
            frame, _ = feed.latest()
            if frame is not None:
                decoded = read_back(frame)
                assert decoded is not None and decoded[0] == seat_index("witness")
                if not seen or decoded[1] != seen[-1]:
                    seen.append(decoded[1])
            return len(seen) >= 5

        wait_until(five_frames)
        assert seen == sorted(seen) and len(set(seen)) == len(seen)
        frame, count = feed.latest()
        assert frame is not None and frame.shape == (180, 320, 3) and not frame.flags.writeable
        assert count >= 5
        assert feed.state == "live" and feed.reason is None
    finally:
        feed.stop()


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_file_camera_decodes_loops_and_gives_bgr(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"clip{suffix}"
    levels = make_video(path)
    cam = camera(source=f"file:{path}")
    source = open_camera(cam.source, cam, 1280, 720, 25)
    try:
        frames = [source.read() for _ in range(2 * len(levels) + 1)]
    finally:
        source.close()
    assert all(f.shape == (240, 320, 3) and f.dtype == np.uint8 for f in frames)
    reds = [int(f[..., 2].mean()) for f in frames]
    blues = [int(f[..., 0].mean()) for f in frames]
    # The file's own red levels, in order, twice and a bit: it loops. Blue stays dark: BGR, not RGB.
    assert [round(r / 10) for r in reds] == [round(v / 10) for v in levels * 2 + levels[:1]]
    assert max(blues) < 15


def test_a_missing_file_is_unavailable_and_comes_back(tmp_path: Path) -> None:
    path = tmp_path / "late.mp4"
    cam = camera(source=f"file:{path}")
    states = States()
    opened: list[float] = []

    def open_source() -> sources.FrameSource:
        opened.append(time.monotonic())
        return open_camera(cam.source, cam, 320, 240, 25)

    feed = CameraFeed(cam, open_source, backoff=FAST, on_state=states)
    feed.start()
    try:
        wait_until(lambda: len(opened) >= 4)
        assert feed.state == "unavailable" and feed.reason == "cannot open"
        assert feed.latest() == (None, 0)
        # Told once, however many tries failed.
        assert states.calls == [("cam-judge", "unavailable", "cannot open")]
        make_video(path)
        wait_until(lambda: feed.state == "live")
        wait_until(lambda: feed.latest()[0] is not None)
        assert states.calls[1:] == [("cam-judge", "live", None)]
    finally:
        feed.stop()


def test_an_unopenable_device_is_unavailable() -> None:
    # /dev/null exists but is no V4L2 device: opening it fails (an ioctl).
    cam = camera(source="v4l2:/dev/null")
    with pytest.raises(OSError):
        open_camera(cam.source, cam, 320, 240, 25)
    states = States()
    feed = CameraFeed(cam, lambda: open_camera(cam.source, cam, 320, 240, 25), backoff=FAST, on_state=states)
    feed.start()
    try:
        wait_until(lambda: states.calls != [])
        assert feed.state == "unavailable" and feed.reason == "cannot open"
    finally:
        feed.stop()


@dataclasses.dataclass(frozen=True)
class CountingBackoff(Backoff):
    """A back-off that records which failure count each wait was for."""

    asked: list[int] = dataclasses.field(default_factory=list, compare=False)

    def delay(self, failures: int) -> float:
        self.asked.append(failures)
        return super().delay(failures)


class Flaky:
    """A test pattern that raises after `frames` reads."""

    def __init__(self, cam: Camera, frames: int) -> None:
        self.inner = open_camera(cam.source, cam, 320, 180, 50)
        self.left = frames
        self.closed = False

    def read(self) -> Image:
        if self.left == 0:
            raise OSError("the cable came out")
        self.left -= 1
        return self.inner.read()

    def close(self) -> None:
        self.closed = True


def test_a_camera_whose_read_fails_retries_with_backoff_and_comes_back() -> None:
    cam = camera("prosecutor")
    states = States()
    backoff = CountingBackoff(first=0.02, factor=2.0, most=0.1)
    made: list[Flaky] = []
    plan = iter([3, None, None, 2, 10**9])  # frames before failing, or None: refuse to open

    def open_source() -> Flaky:
        step = next(plan)
        if step is None:
            raise ConnectionRefusedError("rtsp://admin:s3cret@10.0.0.7/stream")
        made.append(Flaky(cam, step))
        return made[-1]

    feed = CameraFeed(cam, open_source, backoff=backoff, on_state=states)
    feed.start()
    try:
        wait_until(lambda: len(made) == 3 and feed.state == "live")
        wait_until(lambda: feed.latest()[1] >= 3 + 2 + 3)
    finally:
        feed.stop()
    assert states.states() == ["live", "unavailable", "live", "unavailable", "live"]
    assert [reason for _, state, reason in states.calls if state == "unavailable"] == ["read failed: OSError"] * 2
    # Three failures in a row (a read, two refusals), then a success resets the count.
    assert backoff.asked == [1, 2, 3, 1]
    assert all(source.closed for source in made)


class Stuck:
    """A camera that keeps sending the same picture, or one that stops sending."""

    def __init__(self, block: float = 0.0) -> None:
        self.image = np.random.default_rng(1).integers(0, 256, (180, 320, 3), dtype=np.uint8)
        self.block = block
        self.reads = 0

    def read(self) -> Image:
        self.reads += 1
        time.sleep(self.block or 0.01)
        return self.image.copy()

    def close(self) -> None:
        pass


@pytest.mark.parametrize("block", [0.0, 0.5])
def test_a_frozen_camera_counts_as_failed(block: float) -> None:
    cam = camera(source="rtsp://admin:s3cret@10.0.0.7/stream")
    states = States()
    feed = CameraFeed(cam, lambda: Stuck(block), backoff=FAST, on_state=states, frozen_after=0.2)
    feed.start()
    try:
        wait_until(lambda: "unavailable" in states.states())
        assert feed.reason == "frozen: nothing new for 0.2 s"
        assert feed.latest()[0] is None
    finally:
        feed.stop()
    # The first picture is live (a first picture may take its time: a keyframe), the rest is not.
    assert states.states()[:2] == ["live", "unavailable"]


def test_a_file_or_pattern_that_stands_still_is_not_frozen(tmp_path: Path) -> None:
    still = Stuck()
    cam = camera(source=f"file:{tmp_path / 'still.mp4'}")
    feed = CameraFeed(cam, lambda: still, backoff=FAST, frozen_after=0.1)
    feed.start()
    try:
        wait_until(lambda: still.reads >= 30)
        assert feed.state == "live" and feed.latest()[1] >= 20
    finally:
        feed.stop()


def test_no_password_in_reasons_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    # A real RTSP open against a closed port: PyAV's error quotes the URL.
    cam = camera(source="rtsp://admin:s3cret@127.0.0.1:1/stream")
    with pytest.raises(OSError, match="s3cret"):
        open_camera(cam.source, cam, 320, 240, 25)
    states = States()
    caplog.set_level(logging.DEBUG, logger="hearing.courtroom.sources")
    feed = CameraFeed(cam, lambda: open_camera(cam.source, cam, 320, 240, 25), backoff=FAST, on_state=states)
    assert "s3cret" not in repr(feed) and "admin:***@127.0.0.1:1" in repr(feed)
    feed.start()
    try:
        wait_until(lambda: len([r for r in caplog.records if "failure" in r.getMessage()]) >= 2)
    finally:
        feed.stop()
    assert feed.reason == "cannot open"
    assert states.calls == [("cam-judge", "unavailable", "cannot open")]
    text = caplog.text
    assert "ConnectionRefusedError" in text and "admin:***@127.0.0.1:1" in text
    assert "s3cret" not in text


def test_stop_ends_every_thread() -> None:
    cams = [camera(seat) for seat in ("judge", "defence")]
    feeds = [CameraFeed(c, (lambda c=c: open_camera(c.source, c, 320, 180, 25))) for c in cams]  # type: ignore[misc]
    mic = Microphone("desk", MicrophoneSource.parse("test:"), ((0, "judge"), (1, "defence")))
    mic_feed = MicrophoneFeed(mic, lambda: open_microphone(mic))
    everything: list[CameraFeed | MicrophoneFeed] = [*feeds, mic_feed]
    for feed in everything:
        feed.start()
    wait_until(lambda: all(f.state == "live" for f in everything))
    assert len(feed_threads()) == 3
    for feed in everything:
        feed.stop()
    assert feed_threads() == []


# -- microphones -----------------------------------------------------------------


def collect(feed: MicrophoneFeed, samples: int) -> dict[str, npt.NDArray[np.int16]]:
    got: dict[str, list[npt.NDArray[np.int16]]] = {seat: [] for seat in feed.seats}

    def enough() -> bool:
        for seat, part in feed.take().items():
            got[seat].append(part)
        return all(sum(p.size for p in parts) >= samples for parts in got.values())

    wait_until(enough)
    return {seat: np.concatenate(parts) for seat, parts in got.items()}


@pytest.mark.parametrize("suffix", [".wav", ".mkv"])
def test_a_microphone_file_is_split_per_seat_and_resampled(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"desk{suffix}"
    make_audio(path, (440.0, 1000.0), seconds=0.25)
    mic = Microphone("desk", MicrophoneSource.parse(f"file:{path}"), ((0, "judge"), (1, "witness")))
    feed = MicrophoneFeed(mic, lambda: open_microphone(mic))
    feed.start()
    try:
        # 0.3 s from a 0.25 s file: it loops.
        got = collect(feed, int(0.3 * SAMPLE_RATE))
    finally:
        feed.stop()
    assert set(got) == {"judge", "witness"}
    for seat, hz in (("judge", 440.0), ("witness", 1000.0)):
        window = got[seat][: SAMPLE_RATE // 5]
        # At 48 kHz the tone is where it was: played unresampled it would read 479 or 1088 Hz.
        assert abs(dominant_hz(window) - hz) < 10, seat
        assert got[seat].dtype == np.int16 and got[seat].ndim == 1


def test_a_channel_the_file_does_not_have_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    make_audio(path, (440.0,))
    mic = Microphone("desk", MicrophoneSource.parse(f"file:{path}"), ((0, "judge"), (3, "witness")))
    states = States()
    feed = MicrophoneFeed(mic, lambda: open_microphone(mic), backoff=FAST, on_state=states)
    feed.start()
    try:
        wait_until(lambda: states.calls != [])
    finally:
        feed.stop()
    assert states.calls == [
        ("desk", "unavailable", "read failed: channel 3 is mapped to witness but the source has 1 channel(s)")
    ]


def test_the_test_microphone_follows_its_script() -> None:
    origin = time.monotonic()
    script = SpeechScript([("prosecutor", 0.0, 60.0)])
    mic = Microphone("desk", MicrophoneSource.parse("test:"), ((0, "judge"), (1, "prosecutor"), (2, "witness")))
    feed = MicrophoneFeed(mic, lambda: open_microphone(mic, script, origin))
    feed.start()
    try:
        got = collect(feed, SAMPLE_RATE // 5)
    finally:
        feed.stop()
    levels = {seat: rms_dbfs(samples) for seat, samples in got.items()}
    assert levels["prosecutor"] > -30
    assert levels["prosecutor"] > max(levels["judge"], levels["witness"]) + 30


def test_a_failed_microphone_is_silent_and_comes_back() -> None:
    mic = Microphone("desk", MicrophoneSource.parse("alsa:hw:7,0"), ((0, "judge"), (1, "defence")))
    states = States()
    works = threading.Event()
    script = SpeechScript([("judge", 0.0, 60.0)])

    def open_source() -> sources.AudioSource:
        if not works.is_set():
            return open_microphone(mic)  # no such ALSA card here
        return microphones.ScriptSource(script, mic.channels, time.monotonic())

    feed = MicrophoneFeed(mic, open_source, backoff=FAST, on_state=states)
    feed.start()
    try:
        wait_until(lambda: states.calls != [])
        assert states.calls == [("desk", "unavailable", "cannot open")]
        taken = feed.take()
        assert set(taken) == {"judge", "defence"} and all(p.size == 0 for p in taken.values())
        works.set()
        got = collect(feed, 960)
        assert states.calls[1:] == [("desk", "live", None)]
        assert rms_dbfs(got["judge"]) > rms_dbfs(got["defence"]) + 30
    finally:
        feed.stop()


def test_open_camera_and_microphone_choose_by_kind(tmp_path: Path) -> None:
    cam = camera()
    pattern = open_camera(cam.source, cam, 320, 180, 25)
    assert isinstance(pattern, cameras.PatternSource)
    assert read_back(pattern.read()) == (seat_index("judge"), 0)
    assert read_back(pattern.read()) == (seat_index("judge"), 1)
    pattern.close()
    mic = Microphone("desk", MicrophoneSource.parse(f"file:{tmp_path / 'none.wav'}"), ((0, "judge"),))
    with pytest.raises(FileNotFoundError):
        open_microphone(mic)
    assert cameras.network_options("rtsp") == {"rtsp_transport": "tcp", "timeout": "5000000"}


def test_a_live_camera_that_ends_its_stream_raises(tmp_path: Path) -> None:
    # A device or network camera is read the same way as this file, without looping or pacing.
    path = tmp_path / "stream.mkv"
    levels = make_video(path, frames=3)
    live = cameras.LiveCamera(av.open(str(path)))
    try:
        reds = [round(int(live.read()[..., 2].mean()) / 10) for _ in levels]
        with pytest.raises(EOFError, match="the stream ended"):
            live.read()
    finally:
        live.close()
    assert reds == [round(v / 10) for v in levels]
