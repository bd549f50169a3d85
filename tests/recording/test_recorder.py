"""The recorder, driven through its switchboard sinks with an injected clock:
synthetic VP8 sources and 20 ms mixes in, real fragmented-MP4 segments out,
checked with Debian's ffprobe and decoded with PyAV."""

from __future__ import annotations

import dataclasses
import fractions
import functools
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np
import pytest

from hearing.errors import ConfigurationError, InvalidInput, InvalidTransition
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from hearing.media.switchboard import Receiver
from hearing.media.vp8 import EncodedFrame, is_keyframe
from hearing.recording import layout
from hearing.recording.recorder import RETRY_AFTER, Recorder, _Audio, _Control, _Inbox, _SteadyArrival, _Video
from hearing.routing.policy import RECORDER

FFPROBE = "/usr/bin/ffprobe"
WIDTH, HEIGHT, FPS = 320, 180, 25
SOURCE_WIDTH, SOURCE_HEIGHT = 160, 96
SEGMENT = 1.0
LABELS = {"courtroom": "Retssalen · Courtroom", "custody": "Arresten · Custody"}
T0 = 5000.0  # the arrival clock's reading at start(): anything but 0
PHASE = 0.013  # arrivals fall between the recorder's ticks and slots, as on a server
# Where arrivals fall against the recorder's 40 ms ticks and 20 ms slots: the
# flash-and-beep recording is made at each (the worst is just past a slot's middle).
PHASES = (0.013, 0.031)
FLASH_LUMA = 235
PATTERN_LUMA = 90


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FileWriter:
    """A plain file that, like the encrypting writer, cannot seek."""

    def __init__(self, path: Path, fail_writes: bool = False) -> None:
        self.path = path
        self.fail_writes = fail_writes
        self.size = 0
        self._file = path.open("wb")

    def write(self, data: bytes) -> int:
        if self.fail_writes:
            raise OSError("disk full (the test's sink)")
        self._file.write(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> int:
        self._file.close()
        return self.size


@dataclasses.dataclass(frozen=True)
class Closed:
    number: int
    start_seconds: float
    duration_seconds: float
    path: Path


class FileSink:
    def __init__(self, root: Path, failing: frozenset[int] = frozenset()) -> None:
        self.root = root
        self.failing = failing
        self.opened: list[int] = []
        self.closed_segments: list[Closed] = []
        self.abandoned_segments: list[int] = []
        self.writers: list[FileWriter] = []

    def open(self, number: int) -> FileWriter:
        self.opened.append(number)
        writer = FileWriter(self.root / f"{number:04d}.mp4", fail_writes=number in self.failing)
        self.writers.append(writer)
        return writer

    def closed(self, number: int, start_seconds: float, duration_seconds: float, writer: FileWriter) -> None:
        writer.close()
        self.closed_segments.append(Closed(number, start_seconds, duration_seconds, writer.path))

    def abandoned(self, number: int, writer: FileWriter) -> None:
        writer.close()
        self.abandoned_segments.append(number)

    def bytes_written(self) -> int:
        return sum(writer.size for writer in self.writers)


@functools.cache
def source_frames(count: int, flash_every: int | None) -> tuple[EncodedFrame, ...]:
    """A VP8 test pattern (a moving bar on grey) from libvpx, its frame n
    white where n is a multiple of `flash_every`."""
    codec = av.CodecContext.create("libvpx", "w")
    assert isinstance(codec, av.video.codeccontext.VideoCodecContext)
    codec.width, codec.height, codec.pix_fmt = SOURCE_WIDTH, SOURCE_HEIGHT, "yuv420p"
    codec.framerate = fractions.Fraction(FPS)
    codec.time_base = fractions.Fraction(1, FPS)
    codec.bit_rate = 300_000
    codec.gop_size = 10_000
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    frames: list[EncodedFrame] = []
    for n in range(count):
        picture = np.full((SOURCE_HEIGHT * 3 // 2, SOURCE_WIDTH), 128, np.uint8)
        picture[:SOURCE_HEIGHT] = PATTERN_LUMA
        bar = n * 4 % SOURCE_WIDTH
        picture[: SOURCE_HEIGHT // 4, bar : bar + 8] = 200
        if flash_every and n % flash_every == 0:
            picture[:SOURCE_HEIGHT] = 255
        video_frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        video_frame.pts = n
        for packet in codec.encode(video_frame):
            data = bytes(packet)
            frames.append(EncodedFrame(data, n * 3600, is_keyframe(data), 1, complete=True, after_gap=False))
    assert len(frames) == count and frames[0].keyframe and not any(f.keyframe for f in frames[1:])
    return tuple(frames)


def tone(frequency: float = 1000.0, amplitude: int = 12_000) -> Pcm:
    samples = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
    return (np.sin(2 * np.pi * frequency * samples) * amplitude).astype(np.int16)


SILENCE = np.zeros(FRAME_SAMPLES, np.int16)
BEEP_MIXES = 5  # 100 ms


def make_recorder(sink: FileSink, clock: FakeClock, failures: list[str] | None = None) -> tuple[Recorder, Receiver]:
    recorder = Recorder(
        sink,
        labels=LABELS,
        segment_seconds=SEGMENT,
        width=WIDTH,
        height=HEIGHT,
        fps=FPS,
        clock=clock,
        on_failure=None if failures is None else failures.append,
        wall=lambda: datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    )
    return recorder, recorder.receiver(["courtroom", "custody"])


def drive(
    recorder: Recorder,
    receiver: Receiver,
    clock: FakeClock,
    start: float,
    seconds: float,
    *,
    quiet: tuple[float, float] | None = None,
    flash_every: int = 25,
    phase: float = PHASE,
    held: bool = False,
) -> None:
    """Arrivals every 20 ms (a mix) and 40 ms (a frame from each source) from
    `start` seconds after T0, settling the worker every half second; `quiet`:
    a stretch with no mixes at all (the mixer sent nothing); `held`: each mix
    handed over 0-280 ms after its sound arrived, by a different delay each
    (the playout buffer and a late mixer), and saying so."""
    flashing = source_frames(200, flash_every)
    plain = source_frames(200, None)
    assert receiver.audio is not None
    steps = round(seconds / 0.02)
    first = round(start / 0.02)
    pending: list[tuple[int, int, Pcm]] = []  # (handed over at step, arrived at step, mix)

    def hand_over(until: int, now: int) -> None:
        while pending and pending[0][0] <= until:
            _, arrived, pcm = pending.pop(0)
            receiver.audio.push_at(pcm, (now - arrived) * 0.02)  # type: ignore[attr-defined, union-attr]

    for step in range(first, first + steps):
        clock.now = T0 + phase + step * 0.02
        at = step * 0.02
        if step % 2 == 0:
            n = step // 2
            receiver.views[0].sink.push(flashing[n % len(flashing)])
            receiver.views[1].sink.push(plain[n % len(plain)])
        since_flash = step - (step // (2 * flash_every)) * 2 * flash_every
        beeping = since_flash < BEEP_MIXES
        if quiet is None or not quiet[0] <= at < quiet[1]:
            mix = tone() if beeping else SILENCE
            if held:
                # Handed over in order, as the mixer does, each late by its own amount.
                later = max([step + (step * 7) % 15, *(p[0] for p in pending)])
                pending.append((later, step, mix))
            else:
                receiver.audio.push(mix)
        hand_over(step, step)
        if step % 25 == 24:
            hand_over(step + 15, step)  # what the settle covers has all come
            assert recorder.settle()


def probe(path: Path) -> dict[str, object]:
    result = subprocess.run(  # noqa: S603
        [FFPROBE, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    probed: dict[str, object] = json.loads(result.stdout)
    return probed


def onsets(path: Path) -> tuple[list[float], list[float]]:
    """The flashes (the courtroom tile turns white) and the beeps (sound after
    silence) in a segment, in seconds of its own timeline."""
    flashes: list[float] = []
    beeps: list[float] = []
    with av.open(str(path)) as container:
        bright = False
        for frame in container.decode(video=0):
            luma = frame.to_ndarray(format="gray")[HEIGHT // 8 : HEIGHT // 3, WIDTH // 8 : WIDTH // 3]
            now_bright = float(luma.mean()) > (FLASH_LUMA + PATTERN_LUMA) / 2
            if now_bright and not bright:
                assert frame.time is not None
                flashes.append(frame.time)
            bright = now_bright
    with av.open(str(path)) as container:
        loud_until = -1.0
        for audio in container.decode(audio=0):
            assert audio.time is not None
            samples = audio.to_ndarray().reshape(-1)
            for index in np.flatnonzero(np.abs(samples) > 0.1):
                at = audio.time + index / SAMPLE_RATE
                if at > loud_until + 0.05:
                    beeps.append(at)
                loud_until = at
    return flashes, beeps


@pytest.fixture(scope="module", params=PHASES, ids=lambda phase: f"phase{phase * 1000:.0f}ms")
def recording(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FileSink, Recorder, float]]:
    """3.5 s recorded: two sources, a flash and a beep once a second, and
    300 ms with no mixes arriving at all."""
    sink = FileSink(tmp_path_factory.mktemp("recording"))
    clock = FakeClock(T0)
    failures: list[str] = []
    recorder, receiver = make_recorder(sink, clock, failures)
    recorder.start()
    drive(recorder, receiver, clock, 0.0, 3.5, quiet=(1.6, 1.9), phase=request.param)
    recorder.stop()
    assert failures == []
    yield sink, recorder, request.param


def test_the_recorder_is_a_receiver_routed_as_the_recorder(tmp_path: Path) -> None:
    recorder, receiver = make_recorder(FileSink(tmp_path), FakeClock(T0))
    assert receiver.seat == RECORDER and receiver.picture is None
    assert [view.source for view in receiver.views] == ["courtroom", "custody"]
    with pytest.raises(InvalidTransition):
        recorder.receiver(["courtroom"])
    with pytest.raises(InvalidInput):
        Recorder(FileSink(tmp_path), labels={}).receiver(["a", "b", "c", "d", "e"])


def test_each_segment_is_a_playable_file_of_its_length(recording: tuple[FileSink, Recorder, float]) -> None:
    sink, recorder, phase = recording
    closed = sink.closed_segments
    assert [c.number for c in closed] == [1, 2, 3, 4]
    assert [c.start_seconds for c in closed] == pytest.approx([0.0, 1.0, 2.0, 3.0], abs=1e-6)
    # The last one ends with the last arrival (3.5 s of arrivals from `phase`).
    assert [c.duration_seconds for c in closed] == pytest.approx([1.0, 1.0, 1.0, 0.5 + phase], abs=0.03)
    total = 0.0
    for segment in closed:
        probed = probe(segment.path)
        streams = probed["streams"]
        assert isinstance(streams, list)
        assert sorted(s["codec_type"] for s in streams) == ["audio", "video"]
        video = next(s for s in streams if s["codec_type"] == "video")
        audio = next(s for s in streams if s["codec_type"] == "audio")
        picture = (video["codec_name"], video["width"], video["height"], video["pix_fmt"])
        assert picture == ("h264", WIDTH, HEIGHT, "yuv420p")
        assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == ("opus", SAMPLE_RATE, 1)
        format_ = probed["format"]
        assert isinstance(format_, dict)
        duration = float(format_["duration"])
        assert duration == pytest.approx(segment.duration_seconds, abs=0.1), segment
        assert float(video["duration"]) == pytest.approx(segment.duration_seconds, abs=0.05), segment
        total += duration
    assert total == pytest.approx(3.5, abs=0.5)
    stats = recorder.stats()
    assert stats.segments == 4 and stats.failures == 0
    assert stats.compositions == round(3.5 * FPS)
    assert stats.dropped_video == stats.dropped_audio == 0


def test_each_segment_starts_on_a_keyframe(recording: tuple[FileSink, Recorder, float]) -> None:
    for segment in recording[0].closed_segments:
        with av.open(str(segment.path)) as container:
            first = next(iter(container.demux(video=0)))
            assert first.is_keyframe, segment


def test_flash_and_beep_stay_within_45_ms(recording: tuple[FileSink, Recorder, float]) -> None:
    offsets: list[float] = []
    beeps_seen: list[float] = []
    for segment in recording[0].closed_segments:
        flashes, beeps = onsets(segment.path)
        beeps_seen += [segment.start_seconds + b for b in beeps]
        for flash in flashes:
            beep = min(beeps, key=lambda b: abs(b - flash))
            offsets.append(flash - beep)
    # A flash and a beep at 0, 1, 2 and 3 s (the beep at 2 s after 300 ms with
    # no sound arriving), each where it arrived: within half a slot, and the
    # codec's few milliseconds.
    print("flash - beep (s):", offsets)
    assert len(offsets) == 4, offsets
    assert all(abs(offset) <= 0.045 for offset in offsets), offsets
    phase = recording[2]
    assert beeps_seen == pytest.approx([phase + second for second in range(4)], abs=0.02)


def test_sound_handed_over_late_is_placed_where_it_arrived(tmp_path: Path) -> None:
    """The mixer hands a mix over up to 280 ms after its sound arrived
    (held by the playout buffer, and by a tick that ran late): placed by its
    arrival, it stays with its picture, whatever the delay of each."""
    sink = FileSink(tmp_path)
    clock = FakeClock(T0)
    recorder, receiver = make_recorder(sink, clock)
    recorder.start()
    drive(recorder, receiver, clock, 0.0, 3.5, held=True)
    recorder.stop()
    offsets: list[float] = []
    beeps_seen: list[float] = []
    for segment in sink.closed_segments:
        flashes, beeps = onsets(segment.path)
        beeps_seen += [segment.start_seconds + b for b in beeps]
        offsets += [flash - min(beeps, key=lambda b: abs(b - flash)) for flash in flashes]
    assert len(offsets) == 4 and all(abs(offset) <= 0.045 for offset in offsets), offsets
    assert beeps_seen == pytest.approx([PHASE + second for second in range(4)], abs=0.02)
    assert recorder.stats().dropped_audio == 0


def test_a_gap_in_arrivals_is_silence_not_a_shift(recording: tuple[FileSink, Recorder, float]) -> None:
    second = recording[0].closed_segments[1]
    with av.open(str(second.path)) as container:
        pieces = [frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)]
    samples = np.concatenate(pieces)
    assert samples.size == pytest.approx(SAMPLE_RATE, abs=2048)  # a whole second, not 0.7 s


def test_pause_writes_nothing_until_resume(tmp_path: Path) -> None:
    sink = FileSink(tmp_path)
    clock = FakeClock(T0)
    recorder, receiver = make_recorder(sink, clock)
    assert not recorder.writing
    recorder.start()
    drive(recorder, receiver, clock, 0.0, 1.2)
    assert recorder.writing
    recorder.pause()
    assert recorder.settle()
    assert not recorder.writing
    assert [c.number for c in sink.closed_segments] == [1, 2]
    opened, written = list(sink.opened), sink.bytes_written()
    drive(recorder, receiver, clock, 1.2, 1.0)
    assert recorder.settle()
    assert (sink.opened, sink.bytes_written()) == (opened, written)
    assert not recorder.writing
    clock.now = T0 + PHASE + 2.2  # resumed as the next arrival comes
    recorder.resume()
    drive(recorder, receiver, clock, 2.2, 1.0)
    assert recorder.writing
    recorder.stop()
    assert not recorder.writing
    closed = sink.closed_segments
    assert [c.number for c in closed] == [1, 2, 3]
    assert [c.start_seconds for c in closed] == pytest.approx([0.0, 1.0, 2.2], abs=0.03)
    assert [c.duration_seconds for c in closed] == pytest.approx([1.0, 0.2, 1.0], abs=0.03)
    for segment in closed:
        probed = probe(segment.path)
        format_ = probed["format"]
        assert isinstance(format_, dict)
        assert float(format_["duration"]) == pytest.approx(segment.duration_seconds, abs=0.1)


def test_a_failing_sink_is_reported_and_a_new_segment_follows(tmp_path: Path) -> None:
    sink = FileSink(tmp_path, failing=frozenset({2}))
    clock = FakeClock(T0)
    failures: list[str] = []
    recorder, receiver = make_recorder(sink, clock, failures)
    recorder.start()
    drive(recorder, receiver, clock, 0.0, 3.0)
    recorder.stop()
    assert len(failures) == 1 and "disk full" in failures[0], failures
    assert sink.abandoned_segments == [2]
    numbers = [c.number for c in sink.closed_segments]
    assert numbers[0] == 1 and 2 not in numbers and numbers[1] == 3, numbers
    restarted = sink.closed_segments[1]
    # The failure came at the start of segment 2 (1.0 s); recording resumed RETRY_AFTER later.
    assert restarted.start_seconds == pytest.approx(1.0 + RETRY_AFTER, abs=0.05)
    probed = probe(restarted.path)
    streams = probed["streams"]
    assert isinstance(streams, list) and len(streams) == 2
    assert recorder.stats().failures == 1


def test_start_twice_and_before_a_receiver_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidTransition):
        Recorder(FileSink(tmp_path), labels={}).start()
    recorder, _ = make_recorder(FileSink(tmp_path), FakeClock(T0))
    with pytest.raises(InvalidTransition):
        recorder.pause()
    recorder.start()
    with pytest.raises(InvalidTransition):
        recorder.start()
    recorder.stop()


def test_the_inbox_drops_the_oldest_video_first_and_never_a_control() -> None:
    inbox = _Inbox(3, lambda: 0.0, 0.5)
    frame = source_frames(200, None)[1]
    inbox.put(_Audio(1.0, SILENCE))
    inbox.put(_Video(1.01, 0, frame))
    inbox.put(_Video(1.02, 1, frame))
    inbox.put(_Audio(1.03, SILENCE))
    assert (inbox.dropped_video, inbox.dropped_audio, inbox.take_gaps()) == (1, 0, {0})
    inbox.put(_Audio(1.04, SILENCE))
    inbox.put(_Audio(1.05, SILENCE))
    assert (inbox.dropped_video, inbox.dropped_audio) == (2, 1)
    assert [item.at for item in inbox.drain()] == [1.03, 1.04, 1.05]


def test_the_inbox_hands_out_by_arrival_once_held_and_at_once_before_a_settle() -> None:
    clock = FakeClock(10.0)
    inbox = _Inbox(10, clock, 0.5)
    frame = source_frames(200, None)[1]
    inbox.put(_Video(10.0, 0, frame))
    inbox.put(_Audio(9.8, SILENCE))  # its sound came before the picture
    assert inbox.get(0.0) is None  # nothing is half a second old yet
    clock.now = 10.3
    assert inbox.get(0.0).at == 9.8  # type: ignore[union-attr]
    assert inbox.get(0.0) is None  # the picture, 0.3 s old, waits
    clock.now = 10.5
    assert inbox.get(0.0).at == 10.0  # type: ignore[union-attr]
    inbox.put(_Audio(10.55, SILENCE))
    inbox.put(_Control(10.6, "settle"))
    inbox.put(_Video(10.7, 0, frame))
    assert [item.at for item in (inbox.get(0.0), inbox.get(0.0))] == [10.55, 10.6]  # type: ignore[union-attr]
    assert inbox.get(0.0) is None  # after the settle: held again


# --- the pure arithmetic (hearing/recording/layout.py) ---------------------------


def test_a_segment_holds_whole_frames_and_mixes() -> None:
    plan = layout.SegmentPlan(10.0, 25)
    assert (plan.video_ticks, plan.audio_slots) == (250, 500)
    assert plan.ticks_until(0.0) == 1 and plan.ticks_until(0.039) == 1 and plan.ticks_until(0.04) == 2
    assert plan.slot_of(0.013) == 1 and plan.slot_of(0.009) == 0
    for seconds, fps in ((1.01, 25), (0.0, 25), (-1.0, 25), (10.0, 0), (10.0, 61), (0.05, 25)):
        with pytest.raises(ConfigurationError):
            layout.SegmentPlan(seconds, fps)


def test_a_burst_of_mixes_takes_the_next_slots_then_is_dropped() -> None:
    assert layout.place(10, 8) == 10
    assert layout.place(10, 11) == 11
    assert layout.place(10, 10 + layout.AHEAD_LIMIT_SLOTS) == 10 + layout.AHEAD_LIMIT_SLOTS
    assert layout.place(10, 11 + layout.AHEAD_LIMIT_SLOTS) is None


def test_the_layout_and_the_clock() -> None:
    assert layout.layout_for(1) == "single"
    assert layout.layout_for(4) == "grid"
    with pytest.raises(InvalidInput):
        layout.layout_for(5)
    at = datetime(2026, 12, 1, 9, 30, 5, tzinfo=UTC)
    assert layout.clock_text(at, ZoneInfo("Europe/Copenhagen")) == "2026-12-01 10:30:05 CET"
    with pytest.raises(InvalidInput):
        layout.clock_text(datetime(2026, 12, 1), ZoneInfo("Europe/Copenhagen"))  # noqa: DTZ001


def test_a_picture_that_came_late_is_placed_where_it_would_have_come() -> None:
    """Frames sent every 40 ms come 0-90 ms late, each by its own amount (a
    keyframe's many packets, the event loop behind): each is stamped at its
    media time by the least delay of the last two seconds; a new timeline
    (the sender started again, a view switched) starts afresh."""
    steady = _SteadyArrival()
    late = [0.01, 0.09, 0.03, 0.05, 0.01, 0.07] * 5
    stamps = [steady.of(5000 + n * 3600, 100.0 + n * 0.04 + delay) for n, delay in enumerate(late)]
    assert stamps[6:] == pytest.approx([100.01 + n * 0.04 for n in range(6, len(late))])
    assert stamps == sorted(stamps)  # in their order, always
    # The sender's timestamps start again elsewhere: the stamp is its arrival again.
    assert steady.of(123, 102.0) == pytest.approx(102.0)
    steady.restart()
    assert steady.of(9_000_000, 102.5) == pytest.approx(102.5)
