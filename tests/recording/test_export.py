"""An exported recording's sound is one continuous timeline: a tone
recorded without a break across segments plays without a click, a gap or
extra length at their seams (each segment's Opus stream has its own
encoder's priming and padding; joined packet for packet they clicked, fell
silent for 20 ms and made the sound longer than the picture)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np

from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE
from hearing.recording import crypto, export
from hearing.recording.manifest import Manifest, SegmentEntry
from hearing.recording.recorder import Recorder

KEY = bytes(range(32))
T0 = 5000.0
AMPLITUDE = 8000 / 32768  # the tone's peak, as the decoder gives it (full scale 1.0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Sealing:
    """Where the recorder's segments go, encrypted as the desk's do."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.entries: list[SegmentEntry] = []

    def open(self, number: int) -> crypto.SegmentWriter:
        n = len(self.entries)
        return crypto.SegmentWriter(self.folder / crypto.segment_name(n), KEY, hearing_id=3, recording_id=5, segment=n)

    def closed(self, number: int, start: float, duration: float, writer: crypto.SegmentWriter) -> None:
        self.entries.append(SegmentEntry.of(writer.close(), start_seconds=start, duration_seconds=duration))

    def abandoned(self, number: int, writer: crypto.SegmentWriter) -> None:
        writer.abort()


def record_tone(folder: Path, seconds: float, *, pause: tuple[float, float] | None = None) -> Manifest:
    """A 440 Hz tone, continuous across the mixes, into 1 s segments."""
    clock = Clock()
    sink = Sealing(folder)
    recorder = Recorder(
        sink, labels={}, segment_seconds=1.0, width=320, height=180, clock=clock, wall=lambda: datetime.now(UTC)
    )
    receiver = recorder.receiver(["custody"])
    assert receiver.audio is not None
    recorder.start()
    paused = False
    for step in range(round(seconds / 0.02)):
        clock.now = T0 + 0.013 + step * 0.02
        at = step * 0.02
        if pause is not None and (pause[0] <= at < pause[1]) != paused:
            paused = not paused
            recorder.pause() if paused else recorder.resume()
        t = (np.arange(FRAME_SAMPLES) + step * FRAME_SAMPLES) / SAMPLE_RATE
        receiver.audio.push((np.sin(2 * math.pi * 440 * t) * AMPLITUDE * 32768).astype(np.int16))
        if step % 25 == 24:
            assert recorder.settle()
    recorder.stop()
    return Manifest(3, 5, tuple(sink.entries), (), False)


def sound_of(path: Path) -> np.ndarray[Any, np.dtype[np.float64]]:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]).astype(np.float64)


def test_the_sound_is_continuous_across_segments(tmp_path: Path) -> None:
    made = record_tone(tmp_path, 3.5)
    assert len(made.segments) == 4
    out = tmp_path / "out.mp4"
    export.export(tmp_path, made, KEY, out)
    sound = sound_of(out)
    span = made.segments[-1].start_seconds + made.segments[-1].duration_seconds
    # As long as the picture: one 20 ms frame of padding at the end at most (joined, 74 ms more).
    assert 0 <= sound.size / SAMPLE_RATE - span <= 0.025, (sound.size / SAMPLE_RATE, span)
    # A click is a jump: the tone's own second difference is A * (2 pi 440 / 48000)^2,
    # 0.003 of its peak; a segment's own encoder leaves a step of about a tenth
    # at its first frame (joined packet for packet: 2.8 times the peak).
    jumps = np.abs(np.diff(sound, 2))
    window = SAMPLE_RATE // 50
    for entry in made.segments[1:]:
        seam = round(entry.start_seconds * SAMPLE_RATE)
        assert jumps[seam - window : seam + window].max() < 0.35 * AMPLITUDE, entry
        # No gap: the tone at full strength through the 20 ms after the seam (joined: silence).
        for ms in range(0, 20, 2):
            at = seam + ms * SAMPLE_RATE // 1000
            assert np.abs(sound[at : at + 110]).max() > 0.9 * AMPLITUDE, (entry, ms)


def test_a_pause_is_silence_of_its_length(tmp_path: Path) -> None:
    made = record_tone(tmp_path, 3.0, pause=(1.2, 1.9))
    out = tmp_path / "out.mp4"
    export.export(tmp_path, made, KEY, out)
    sound = sound_of(out)
    span = made.segments[-1].start_seconds + made.segments[-1].duration_seconds
    assert 0 <= sound.size / SAMPLE_RATE - span <= 0.025

    def peaks(start: float, end: float) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The sound's peak in each 2.5 ms (a 440 Hz cycle is 2.3 ms) from `start` to `end` s."""
        piece = np.abs(sound[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)])
        return piece[: piece.size // 120 * 120].reshape(-1, 120).max(axis=1)

    # The pause, on the recording's clock (0.7 s, less the codec's few ms at each edge), is silence ...
    assert peaks(1.25, 1.85).max() < 0.01 * AMPLITUDE
    # ... and the tone goes on either side of it.
    assert peaks(1.0, 1.15).min() > 0.9 * AMPLITUDE and peaks(2.0, 2.9).min() > 0.9 * AMPLITUDE
