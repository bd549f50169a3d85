"""The pre-hearing test call's rules: what is measured, how it is graded,
and what the endpoint may say on the test-call socket.

The endpoint sends its camera and microphone to the server, which sends
them straight back (hearing/media/loopback.py): the endpoint sees and hears
itself as the court would. The server measures the network from RTCP
(round trip, loss both ways, jitter); the endpoint reports what came back
(picture size, frame rate, sound level). `assess` grades the figures good,
poor or bad by the thresholds below (docs/operations.md lists them), with a
stable reason code for everything short of good. Pure: no framework, no I/O.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

from hearing.media.health import (
    GOOD_JITTER_MS,
    GOOD_LOSS_PERCENT,
    GOOD_RTT_MS,
    POOR_JITTER_MS,
    POOR_LOSS_PERCENT,
    POOR_RTT_MS,
)
from hearing.media.signaling import Leave, Offer, Ping, SignalingError, envelope, ping_of, sdp_of

# The network thresholds are connection health's (hearing/media/health.py:
# GOOD_/POOR_LOSS_PERCENT, _RTT_MS, _JITTER_MS), imported above.
# The picture: the court reads faces and documents at 720p; 360 lines is a
# picture the hearing can go on with, anything less is not. Speech and faces
# stay readable from 15 frames a second; below 10 the picture stutters. (Many
# webcams, and Chromium's fake camera, send 20: measured at the receiver over
# three seconds that reads 18.8-19.7.)
GOOD_HEIGHT, POOR_HEIGHT = 720, 360
GOOD_FPS, POOR_FPS = 15.0, 10.0
# The sound: the loudest 250 ms heard back, in dBFS. Speech at a table
# microphone sits around -30 to -15; below -50 nothing is being picked up.
GOOD_AUDIO_DBFS, POOR_AUDIO_DBFS = -35.0, -50.0

# The report's bounds: anything outside is a malformed report, not a figure.
MAX_SIDE = 8192
MAX_FPS = 240.0
MIN_DBFS = -127.0
MAX_MESSAGE_BYTES = 64 * 1024

KEYS = ("rtt_ms", "loss_percent", "jitter_ms", "width", "height", "fps", "audio_dbfs")


class Grade(enum.StrEnum):
    GOOD = "good"
    POOR = "poor"
    BAD = "bad"


class Reason(enum.StrEnum):
    """Why a test call is not good; each is said in words on the page
    (hearing/web/language.py, `test_call.reason.*`)."""

    LOSS = "loss"
    RTT = "rtt"
    JITTER = "jitter"
    NETWORK_UNMEASURED = "network_unmeasured"
    NO_PICTURE = "no_picture"
    LOW_RESOLUTION = "low_resolution"
    LOW_FRAME_RATE = "low_frame_rate"
    QUIET_MICROPHONE = "quiet_microphone"
    SILENT_MICROPHONE = "silent_microphone"


@dataclasses.dataclass(frozen=True)
class Figures:
    """What one test call measured; None where nothing could be measured."""

    rtt_ms: float | None = None
    loss_percent: float | None = None
    jitter_ms: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    audio_dbfs: float | None = None

    def __post_init__(self) -> None:
        for key in KEYS:
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
                raise ValueError(f"{key} must be a number or None")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key} must be finite")

    def to_json(self) -> dict[str, float | int | None]:
        """Exactly the keys the readers of TestCall.figures expect."""
        return {key: getattr(self, key) for key in KEYS}


def _band(value: float, good: float, poor: float, *, higher_is_better: bool) -> Grade:
    if higher_is_better:
        return Grade.GOOD if value >= good else Grade.POOR if value >= poor else Grade.BAD
    return Grade.GOOD if value <= good else Grade.POOR if value <= poor else Grade.BAD


def assess(figures: Figures) -> tuple[Grade, tuple[Reason, ...]]:
    """The grade (the worst of network, picture and sound) and the reasons
    for it, in that order: the network, the picture, the sound."""
    found: list[tuple[Grade, Reason]] = []
    f = figures
    if f.loss_percent is None or f.jitter_ms is None or f.rtt_ms is None:
        # Without RTCP there is no knowing the link: not good, not damning.
        found.append((Grade.POOR, Reason.NETWORK_UNMEASURED))
    if f.loss_percent is not None:
        found.append((_band(f.loss_percent, GOOD_LOSS_PERCENT, POOR_LOSS_PERCENT, higher_is_better=False), Reason.LOSS))
    if f.rtt_ms is not None:
        found.append((_band(f.rtt_ms, GOOD_RTT_MS, POOR_RTT_MS, higher_is_better=False), Reason.RTT))
    if f.jitter_ms is not None:
        found.append((_band(f.jitter_ms, GOOD_JITTER_MS, POOR_JITTER_MS, higher_is_better=False), Reason.JITTER))
    if not f.width or not f.height or not f.fps:
        found.append((Grade.BAD, Reason.NO_PICTURE))
    else:
        found.append((_band(f.height, GOOD_HEIGHT, POOR_HEIGHT, higher_is_better=True), Reason.LOW_RESOLUTION))
        found.append((_band(f.fps, GOOD_FPS, POOR_FPS, higher_is_better=True), Reason.LOW_FRAME_RATE))
    if f.audio_dbfs is None or f.audio_dbfs < POOR_AUDIO_DBFS:
        found.append((Grade.BAD, Reason.SILENT_MICROPHONE))
    elif f.audio_dbfs < GOOD_AUDIO_DBFS:
        found.append((Grade.POOR, Reason.QUIET_MICROPHONE))
    reasons = tuple(reason for grade, reason in found if grade is not Grade.GOOD)
    grades = {grade for grade, _ in found}
    worst = Grade.BAD if Grade.BAD in grades else Grade.POOR if Grade.POOR in grades else Grade.GOOD
    return worst, reasons


def loop_loss_percent(upstream: float, downstream: float) -> float:
    """Loss over the whole loop (endpoint to server and back), in percent."""
    kept = (1 - min(100.0, upstream) / 100) * (1 - min(100.0, downstream) / 100)
    return round(100 * (1 - kept), 2)


# --- the test-call socket's messages ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class Report:
    """What the endpoint received back: its picture and its sound."""

    width: int | None
    height: int | None
    fps: float | None
    audio_dbfs: float | None


Message = Offer | Ping | Leave | Report

_FIELDS: dict[str, set[str]] = {
    "offer": {"sdp"},
    "ping": {"nonce"},
    "leave": set(),
    "report": {"width", "height", "fps", "audio_dbfs"},
}


def _malformed(message: str) -> SignalingError:
    return SignalingError("malformed_message", message)


def _number(body: dict[str, Any], key: str, low: float, high: float, *, integer: bool = False) -> Any:
    if key not in body:
        raise _malformed(f"a report has '{key}' (null if nothing was received)")
    value = body[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
        raise _malformed(f"'{key}' must be {'an integer' if integer else 'a number'} or null")
    if not low <= value <= high:
        raise _malformed(f"'{key}' must be between {low:g} and {high:g}")
    return value


def parse(raw: str | bytes) -> Message:
    kind, body = envelope(raw, _FIELDS, max_bytes=MAX_MESSAGE_BYTES)
    if kind == "offer":
        return Offer(sdp_of(body))
    if kind == "ping":
        return ping_of(body)
    if kind == "report":
        return Report(
            width=_number(body, "width", 0, MAX_SIDE, integer=True),
            height=_number(body, "height", 0, MAX_SIDE, integer=True),
            fps=_number(body, "fps", 0, MAX_FPS),
            audio_dbfs=_number(body, "audio_dbfs", MIN_DBFS, 0),
        )
    return Leave()
