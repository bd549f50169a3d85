from __future__ import annotations

import numpy as np
import pytest

from hearing.docket.parties import ParticipantRole as R
from hearing.media.mixer import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    SILENCE_DBFS,
    LevelMeter,
    mix,
    mix_for_all,
    rms_dbfs,
    silence,
)
from hearing.routing.policy import AudioFeed, FloorMode, MediaState, route

# Whole numbers of cycles per 20 ms frame (multiples of 50 Hz): no spectral leakage.
FREQUENCIES = {"judge": 450.0, "detainee": 650.0, "interpreter": 1000.0, "prosecutor": 1350.0}


def tone(freq: float, amplitude: float = 0.3, frame: int = 0) -> np.ndarray:
    t = (np.arange(FRAME_SAMPLES) + frame * FRAME_SAMPLES) / SAMPLE_RATE
    return (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype(np.int16)


def present(frame: np.ndarray) -> set[float]:
    """Which of the test frequencies carry real energy in this frame."""
    spectrum = np.abs(np.fft.rfft(frame.astype(np.float64)))
    bins = np.fft.rfftfreq(FRAME_SAMPLES, 1 / SAMPLE_RATE)
    floor = spectrum.max() * 0.05 if spectrum.max() > 0 else 1
    return {f for f in FREQUENCIES.values() if spectrum[np.argmin(np.abs(bins - f))] > floor}


def test_each_receiver_gets_everyone_but_itself() -> None:
    roles = {"judge": R.JUDGE, "detainee": R.DETAINEE, "interpreter": R.INTERPRETER, "prosecutor": R.PROSECUTOR}
    frames = {name: tone(f) for name, f in FREQUENCIES.items()}
    mixes = mix_for_all(frames, route(MediaState(roles)))
    for receiver, frame in mixes.items():
        assert present(frame) == set(FREQUENCIES.values()) - {FREQUENCIES[receiver]}


def test_a_party_without_the_floor_contributes_nothing() -> None:
    roles = {"judge": R.JUDGE, "detainee": R.DETAINEE, "prosecutor": R.PROSECUTOR}
    frames = {name: tone(FREQUENCIES[name]) for name in roles}
    mixes = mix_for_all(frames, route(MediaState(roles, mode=FloorMode.CONTROLLED, floor="prosecutor")))
    assert FREQUENCIES["detainee"] not in present(mixes["judge"])
    assert present(mixes["detainee"]) == {FREQUENCIES["judge"], FREQUENCIES["prosecutor"]}


def test_gain_scales_and_missing_frames_are_silence() -> None:
    frame = tone(440.0, amplitude=0.5)
    half = mix({"a": frame}, [AudioFeed("a", 0.5), AudioFeed("ghost", 1.0)])
    assert abs(rms_dbfs(half) - (rms_dbfs(frame) - 6.02)) < 0.1
    assert not mix({}, [AudioFeed("a", 1.0)]).any()


def test_loud_sums_clip_instead_of_wrapping() -> None:
    loud = np.full(FRAME_SAMPLES, 30000, dtype=np.int16)
    out = mix({"a": loud, "b": loud}, [AudioFeed("a", 1.0), AudioFeed("b", 1.0)])
    assert out.min() == 32767


def test_wrong_frame_shape_is_refused() -> None:
    with pytest.raises(ValueError):
        mix({"a": np.zeros(10, dtype=np.int16)}, [AudioFeed("a", 1.0)])


def test_rms_levels() -> None:
    assert rms_dbfs(silence()) == SILENCE_DBFS
    full = np.full(FRAME_SAMPLES, 32767, dtype=np.int16)
    assert abs(rms_dbfs(full)) < 0.01
    assert abs(rms_dbfs(tone(440.0, amplitude=1.0)) + 3.01) < 0.05  # a full-scale sine is -3 dBFS


def test_voice_activity_with_hangover_reported_ten_times_a_second() -> None:
    meter = LevelMeter(threshold_dbfs=-45.0, hangover_frames=15, every=5)
    speech = [tone(300.0, 0.2, i) for i in range(10)]
    quiet = [silence() for _ in range(40)]
    reports = [r for r in (meter.feed(f) for f in speech + quiet) if r is not None]
    assert len(reports) == 10  # 50 frames of 20 ms, one report per 100 ms
    assert [r.speaking for r in reports] == [True, True, True, True, True, False, False, False, False, False]
    assert reports[0].dbfs > -20 and reports[-1].dbfs == SILENCE_DBFS
