from __future__ import annotations

import cv2
import numpy as np
import pytest

from hearing.courtroom import synthetic
from hearing.courtroom.config import SEATS
from hearing.courtroom.synthetic import SpeechScript, TestPattern, read_back, seat_index, slate
from hearing.errors import InvalidInput
from hearing.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, rms_dbfs


def degrade(image: np.ndarray, seed: int) -> np.ndarray:
    """Scaled to 640x360, blurred, noisy and JPEG-coded at quality 50: a
    stand-in for the program's VP8."""
    small = cv2.resize(image, (640, 360), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 1.2)
    noise = np.random.default_rng(seed).normal(0, 6, small.shape)
    small = np.clip(small + noise, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 50])
    assert ok
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert decoded is not None
    return decoded


@pytest.mark.parametrize("seat", SEATS)
def test_seat_and_counter_survive_degradation(seat: str) -> None:
    pattern = TestPattern(seat, seat.title(), 1280, 720)
    counters = [0, 1, 2, 25, 255, 1000, 65535, 123_456, (1 << 22) - 1]
    counters += [int(c) for c in np.random.default_rng(seat_index(seat)).integers(0, 1 << 22, 12)]
    for n in counters:
        frame = pattern.frame(n, n / 25)
        assert frame.shape == (720, 1280, 3) and frame.dtype == np.uint8
        assert read_back(frame) == (SEATS.index(seat), n)
        assert read_back(degrade(frame, n)) == (SEATS.index(seat), n)


def test_other_sizes_and_a_court_seat() -> None:
    pattern = TestPattern("lay_judges", "Domsmænd / Lay judges", 640, 360)
    assert pattern.index >= len(SEATS)
    frame = pattern.frame(77, 3.08)
    assert read_back(cv2.resize(frame, (320, 180), interpolation=cv2.INTER_AREA)) == (pattern.index, 77)
    assert read_back(cv2.resize(frame, (1280, 720))) == (pattern.index, 77)


def test_the_picture_moves_and_the_clock_runs() -> None:
    pattern = TestPattern("judge", "Dommer", 640, 360)
    a, b = pattern.frame(0, 0.0), pattern.frame(10, 0.4)
    top = slice(0, 300)
    assert np.count_nonzero(a[top] != b[top]) > 1000
    assert np.array_equal(pattern.frame(10, 0.4), b)


def test_pictures_without_a_code_read_as_none() -> None:
    assert read_back(slate(1280, 720, "Dommer / Judge")) is None
    assert read_back(np.zeros((360, 640, 3), np.uint8)) is None
    assert read_back(np.full((360, 640, 3), 255, np.uint8)) is None
    noise = np.random.default_rng(1).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    assert read_back(noise) is None
    assert read_back(np.zeros((10, 10, 3), np.uint8)) is None
    # One flipped block fails the check rather than giving a wrong number.
    frame = TestPattern("witness", "Vidne", 640, 360).frame(4242, 0.0)
    flipped = frame.copy()
    x0, y0, x1, y1 = synthetic._block(640, 360, synthetic.CODE_BLOCKS - 1)  # the last block
    flipped[y0:y1, x0:x1] = 255 - flipped[y0:y1, x0:x1]
    assert read_back(flipped) is None


def test_slate_shape_and_bad_patterns() -> None:
    image = slate(640, 360)
    assert image.shape == (360, 640, 3)
    assert image.max() == 255  # the text is drawn
    with pytest.raises(InvalidInput):
        TestPattern("judge", "Dommer", 641, 360)
    with pytest.raises(InvalidInput):
        TestPattern("judge", "Dommer", 640, 360, index=16)


SCRIPT = [("judge", 0.0, 2.0), ("witness", 1.5, 4.0), ("judge", 5.0, 6.0)]


def frame_levels(script: SpeechScript, seat: str, seconds: float) -> list[float]:
    pcm = script.samples(seat, 0.0, int(seconds * SAMPLE_RATE))
    return [rms_dbfs(f) for f in pcm.reshape(-1, FRAME_SAMPLES)]


@pytest.mark.parametrize("seat", ["judge", "witness", "defence"])
def test_speech_is_loud_in_its_turns_and_quiet_otherwise(seat: str) -> None:
    script = SpeechScript(SCRIPT)
    levels = frame_levels(script, seat, 7.0)
    frame_seconds = FRAME_SAMPLES / SAMPLE_RATE
    turns = [(start, end) for s, start, end in SCRIPT if s == seat]
    for i, level in enumerate(levels):
        start, end = i * frame_seconds, (i + 1) * frame_seconds
        if any(a <= start and end <= b for a, b in turns):
            assert level > -40.0, (seat, start, level)
        elif not any(start < b and a < end for a, b in turns):
            assert level < -60.0, (seat, start, level)
    # Speech rises and falls (syllables), it is no steady tone.
    inside = [lv for i, lv in enumerate(levels) if any(a <= i * frame_seconds < b - 0.02 for a, b in turns)]
    if inside:
        assert max(inside) - min(inside) > 6.0
        assert sum(inside) / len(inside) > -30.0


def test_speech_is_deterministic_and_independent_of_framing() -> None:
    a = SpeechScript(SCRIPT, seed=5)
    whole = a.samples("judge", 0.5, 4800)
    pieces = np.concatenate([a.samples("judge", 0.5 + k * 0.02, 960) for k in range(5)])
    assert np.array_equal(whole, pieces)
    assert np.array_equal(whole, SpeechScript(SCRIPT, seed=5).samples("judge", 0.5, 4800))
    assert not np.array_equal(whole, SpeechScript(SCRIPT, seed=6).samples("judge", 0.5, 4800))
    assert whole.dtype == np.int16
    # Seats sound different: not the same signal under another name.
    both = SpeechScript([("judge", 0, 1), ("witness", 0, 1)])
    assert not np.array_equal(both.samples("judge", 0, 960), both.samples("witness", 0, 960))
    assert both.speakers(0.5) == {"judge", "witness"} and both.speakers(1.0) == frozenset()
    assert a.samples("judge", 0, 0).shape == (0,)


def test_bad_scripts_are_refused() -> None:
    with pytest.raises(InvalidInput):
        SpeechScript([("judge", 2.0, 1.0)])
    with pytest.raises(InvalidInput):
        SpeechScript([("judge", -1.0, 1.0)])
    with pytest.raises(InvalidInput):
        SpeechScript([]).samples("judge", 0, -1)
