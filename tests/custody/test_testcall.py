"""Grading a test call: every threshold at its boundary, the reasons, and
the strict reading of the endpoint's report."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearing.custody import testcall
from hearing.custody.testcall import Figures, Grade, Reason, assess
from hearing.media import health, signaling
from hearing.media.signaling import SignalingError

GOOD = Figures(rtt_ms=20.0, loss_percent=0.0, jitter_ms=5.0, width=1280, height=720, fps=25.0, audio_dbfs=-14.0)


def with_(**changes: object) -> Figures:
    return Figures(**{**GOOD.to_json(), **changes})  # type: ignore[arg-type]


def test_a_clean_loop_is_good_with_no_reasons() -> None:
    assert assess(GOOD) == (Grade.GOOD, ())


@pytest.mark.parametrize(
    ("field", "good", "poor", "bad", "reason"),
    [
        ("loss_percent", 1.0, 5.0, 5.01, Reason.LOSS),
        ("rtt_ms", 300.0, 800.0, 800.1, Reason.RTT),
        ("jitter_ms", 30.0, 100.0, 100.1, Reason.JITTER),
    ],
)
def test_network_thresholds_at_their_boundaries(
    field: str, good: float, poor: float, bad: float, reason: Reason
) -> None:
    assert assess(with_(**{field: good})) == (Grade.GOOD, ())
    assert assess(with_(**{field: good + 0.01})) == (Grade.POOR, (reason,))
    assert assess(with_(**{field: poor})) == (Grade.POOR, (reason,))
    assert assess(with_(**{field: bad})) == (Grade.BAD, (reason,))


def test_the_network_thresholds_are_connection_healths() -> None:
    """The same link graded the same on the judge's panel and in the test call."""
    for loss, rtt, jitter in [(1.0, 300, 30), (1.1, 10, 1), (5.0, 800, 100), (5.1, 10, 1), (0, 801, 0), (0, 0, 101)]:
        ours = assess(with_(loss_percent=loss, rtt_ms=rtt, jitter_ms=jitter))[0]
        theirs = health.grade(received_packets=100, loss_percent=loss, rtt_ms=rtt, jitter_ms=jitter)
        assert ours.value == theirs.value, (loss, rtt, jitter)


@pytest.mark.parametrize(
    ("height", "fps", "expected"),
    [
        (720, 15.0, (Grade.GOOD, ())),
        (1080, 30.0, (Grade.GOOD, ())),
        (719, 25.0, (Grade.POOR, (Reason.LOW_RESOLUTION,))),
        (360, 25.0, (Grade.POOR, (Reason.LOW_RESOLUTION,))),
        (359, 25.0, (Grade.BAD, (Reason.LOW_RESOLUTION,))),
        (720, 14.9, (Grade.POOR, (Reason.LOW_FRAME_RATE,))),
        (720, 10.0, (Grade.POOR, (Reason.LOW_FRAME_RATE,))),
        (720, 9.9, (Grade.BAD, (Reason.LOW_FRAME_RATE,))),
        (480, 12.0, (Grade.POOR, (Reason.LOW_RESOLUTION, Reason.LOW_FRAME_RATE))),
    ],
)
def test_picture_thresholds(height: int, fps: float, expected: tuple[Grade, tuple[Reason, ...]]) -> None:
    assert assess(with_(height=height, width=height * 16 // 9, fps=fps)) == expected


@pytest.mark.parametrize("missing", [{"width": None}, {"height": 0}, {"fps": 0.0}, {"fps": None}])
def test_no_picture_is_bad(missing: dict[str, object]) -> None:
    assert assess(with_(**missing)) == (Grade.BAD, (Reason.NO_PICTURE,))


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (-35.0, (Grade.GOOD, ())),
        (-35.1, (Grade.POOR, (Reason.QUIET_MICROPHONE,))),
        (-50.0, (Grade.POOR, (Reason.QUIET_MICROPHONE,))),
        (-50.1, (Grade.BAD, (Reason.SILENT_MICROPHONE,))),
        (-127.0, (Grade.BAD, (Reason.SILENT_MICROPHONE,))),
        (None, (Grade.BAD, (Reason.SILENT_MICROPHONE,))),
    ],
)
def test_a_silent_microphone_is_bad_and_a_quiet_one_poor(
    level: float | None, expected: tuple[Grade, tuple[Reason, ...]]
) -> None:
    assert assess(with_(audio_dbfs=level)) == expected


def test_an_unmeasured_network_is_at_best_poor() -> None:
    assert assess(with_(rtt_ms=None)) == (Grade.POOR, (Reason.NETWORK_UNMEASURED,))
    grade, reasons = assess(with_(rtt_ms=None, loss_percent=20.0))
    assert (grade, reasons) == (Grade.BAD, (Reason.NETWORK_UNMEASURED, Reason.LOSS))


def test_the_worst_part_decides_and_every_reason_is_given_in_order() -> None:
    figures = with_(loss_percent=3.0, height=240, width=320, audio_dbfs=-40.0)
    assert assess(figures) == (Grade.BAD, (Reason.LOSS, Reason.LOW_RESOLUTION, Reason.QUIET_MICROPHONE))


def test_figures_have_exactly_the_agreed_keys_and_refuse_non_numbers() -> None:
    assert list(Figures().to_json()) == ["rtt_ms", "loss_percent", "jitter_ms", "width", "height", "fps", "audio_dbfs"]
    assert set(Figures().to_json().values()) == {None}
    for bad in (True, "1", float("nan"), float("inf")):
        with pytest.raises(ValueError):
            Figures(rtt_ms=bad)  # type: ignore[arg-type]


def test_loss_over_the_loop_compounds_both_directions() -> None:
    assert testcall.loop_loss_percent(0, 0) == 0
    assert testcall.loop_loss_percent(20, 20) == 36.0
    assert testcall.loop_loss_percent(100, 0) == 100.0
    assert testcall.loop_loss_percent(150, 0) == 100.0


@given(
    st.builds(
        Figures,
        rtt_ms=st.none() | st.floats(0, 10_000),
        loss_percent=st.none() | st.floats(0, 100),
        jitter_ms=st.none() | st.floats(0, 10_000),
        width=st.none() | st.integers(0, 8192),
        height=st.none() | st.integers(0, 8192),
        fps=st.none() | st.floats(0, 240),
        audio_dbfs=st.none() | st.floats(-127, 0),
    )
)
def test_a_grade_is_good_exactly_when_there_is_no_reason(figures: Figures) -> None:
    grade, reasons = assess(figures)
    assert (grade is Grade.GOOD) == (reasons == ())
    assert len(set(reasons)) == len(reasons)


# --- the socket's messages ------------------------------------------------------------

REPORT = {"type": "report", "width": 1280, "height": 720, "fps": 24.5, "audio_dbfs": -12.5}


def test_messages_are_read() -> None:
    assert testcall.parse(json.dumps(REPORT)) == testcall.Report(1280, 720, 24.5, -12.5)
    nothing = {**REPORT, "width": None, "height": None, "fps": None, "audio_dbfs": None}
    assert testcall.parse(json.dumps(nothing)) == testcall.Report(None, None, None, None)
    assert testcall.parse('{"type": "ping", "nonce": 3}') == signaling.Ping(3)
    assert testcall.parse('{"type": "leave"}') == signaling.Leave()
    assert testcall.parse(json.dumps({"type": "offer", "sdp": "v=0\r\n"})) == signaling.Offer("v=0\r\n")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "malformed_message"),
        ("{}", "malformed_message"),
        ('"report"', "malformed_message"),
        ('{"type": 1}', "malformed_message"),
        ('{"type": "result"}', "unknown_message"),
        (json.dumps({**REPORT, "extra": 1}), "malformed_message"),
        (json.dumps({k: v for k, v in REPORT.items() if k != "fps"}), "malformed_message"),
        (json.dumps({**REPORT, "width": 8193}), "malformed_message"),
        (json.dumps({**REPORT, "width": 12.0}), "malformed_message"),
        (json.dumps({**REPORT, "height": False}), "malformed_message"),
        (json.dumps({**REPORT, "fps": -1}), "malformed_message"),
        (json.dumps({**REPORT, "fps": 241}), "malformed_message"),
        (json.dumps({**REPORT, "audio_dbfs": 0.5}), "malformed_message"),
        (json.dumps({**REPORT, "audio_dbfs": -128}), "malformed_message"),
        (json.dumps({**REPORT, "audio_dbfs": "-12"}), "malformed_message"),
        ('{"type": "report", "fps": NaN}', "malformed_message"),
        (json.dumps({"type": "offer", "sdp": "x" * (signaling.MAX_SDP_CHARS + 1)}), "malformed_message"),
        (json.dumps({"type": "offer", "sdp": "hello"}), "bad_sdp"),
        (json.dumps({"type": "ping", "nonce": 2**53}), "malformed_message"),
        ("x" * (testcall.MAX_MESSAGE_BYTES + 1), "message_too_large"),
        (b"\xff\xfe", "malformed_message"),
    ],
)
def test_bad_messages_have_stable_codes(raw: str | bytes, code: str) -> None:
    with pytest.raises(SignalingError) as refused:
        testcall.parse(raw)
    assert refused.value.code == code
