"""What the courtroom rig tells the hearing on its media socket (issue 13),
and what the live hearing keeps of it for the judge's panel and the clerk.

The rig (hearing/courtroom/agent.py) sends, besides the media:

- `rig`: its cameras (id, seat, label, state) and what the program shows
  and why; at start, on every change, and every few seconds;
- `levels`: each seat's microphone level in dBFS (null for silence), a few
  times a second;
- `preview`: a small JPEG of one camera, or of the program, about once a
  second each.

Parsed strictly, like every socket message (hearing/media/signaling.py); the
server relays them to the panels and audits a camera failing and coming
back. Pure: no framework, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from hearing.courtroom.config import LAYOUTS

CameraState = Literal["starting", "live", "unavailable"]
CAMERA_STATES: tuple[CameraState, ...] = ("starting", "live", "unavailable")
PROGRAM_REASONS = ("override", "floor", "voice", "overview", "hold", "fallback")
MAX_CAMERAS = 16
MAX_LABEL_CHARS = 40
MAX_REASON_CHARS = 120
# A 320x180 JPEG is some 10 KB; a preview is never a full picture.
MAX_PREVIEW_BYTES = 24 * 1024
# The panel needs about one preview a second per camera; a rig that sends
# more is paced, not relayed.
PREVIEW_SECONDS = 0.5
PROGRAM = "program"  # the preview of the program itself

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class RigMessageError(ValueError):
    """A rig message that cannot be read; `code` is the socket's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _malformed(message: str) -> RigMessageError:
    return RigMessageError("malformed_message", message)


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise _malformed(f"'{what}' must be a short lowercase name")
    return value


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _malformed(f"'{what}' must be a text of 1-{limit} characters")
    return value


def _exactly(body: object, keys: set[str], what: str) -> Mapping[str, Any]:
    if not isinstance(body, dict) or set(body) != keys:
        raise _malformed(f"'{what}' must be an object with exactly {', '.join(sorted(keys))}")
    return body


@dataclasses.dataclass(frozen=True)
class RigCamera:
    id: str
    seat: str
    label_da: str
    label_en: str
    state: CameraState
    reason: str | None = None  # why it is unavailable, in the rig's words (never a URL)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seat": self.seat,
            "label": {"da": self.label_da, "en": self.label_en},
            "state": self.state,
            "reason": self.reason,
        }


@dataclasses.dataclass(frozen=True)
class RigProgram:
    camera: str | None  # None only when no camera works
    layout: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"camera": self.camera, "layout": self.layout, "reason": self.reason}


@dataclasses.dataclass(frozen=True)
class RigReport:
    cameras: tuple[RigCamera, ...]
    program: RigProgram

    def camera(self, camera_id: str) -> RigCamera | None:
        return next((c for c in self.cameras if c.id == camera_id), None)

    def to_json(self) -> dict[str, Any]:
        return {"cameras": [c.to_json() for c in self.cameras], "program": self.program.to_json()}


@dataclasses.dataclass(frozen=True)
class RigLevels:
    levels: tuple[tuple[str, float | None], ...]  # (seat, dBFS or None for silence)


@dataclasses.dataclass(frozen=True)
class RigPreview:
    camera: str  # a camera's id, or PROGRAM
    jpeg: str  # base64, as it arrived: the panel shows it as a data: URL


def _camera(body: object) -> RigCamera:
    data = _exactly(body, {"id", "seat", "label", "state", "reason"}, "cameras[]")
    label = _exactly(data["label"], {"da", "en"}, "label")
    state = data["state"]
    if state not in CAMERA_STATES:
        raise _malformed(f"'state' must be one of {', '.join(CAMERA_STATES)}")
    reason = data["reason"]
    return RigCamera(
        _name(data["id"], "id"),
        _name(data["seat"], "seat"),
        _text(label["da"], "label.da", MAX_LABEL_CHARS),
        _text(label["en"], "label.en", MAX_LABEL_CHARS),
        state,
        None if reason is None else _text(reason, "reason", MAX_REASON_CHARS),
    )


def report_of(body: Mapping[str, Any]) -> RigReport:
    cameras = body.get("cameras")
    if not isinstance(cameras, list) or not 0 < len(cameras) <= MAX_CAMERAS:
        raise _malformed(f"'cameras' must be a list of 1-{MAX_CAMERAS} cameras")
    parsed = tuple(_camera(c) for c in cameras)
    ids = [c.id for c in parsed]
    if len(set(ids)) != len(ids):
        raise _malformed("'cameras' names a camera twice")
    program = _exactly(body.get("program"), {"camera", "layout", "reason"}, "program")
    shown = program["camera"]
    if shown is not None and _name(shown, "program.camera") not in ids:
        raise _malformed("'program.camera' is not one of the cameras")
    if program["layout"] not in LAYOUTS:
        raise _malformed(f"'program.layout' must be one of {', '.join(LAYOUTS)}")
    if program["reason"] not in PROGRAM_REASONS:
        raise _malformed(f"'program.reason' must be one of {', '.join(PROGRAM_REASONS)}")
    return RigReport(parsed, RigProgram(shown, program["layout"], program["reason"]))


def levels_of(body: Mapping[str, Any]) -> RigLevels:
    levels = body.get("levels")
    if not isinstance(levels, dict) or len(levels) > MAX_CAMERAS:
        raise _malformed(f"'levels' must be an object of at most {MAX_CAMERAS} seats")
    read: list[tuple[str, float | None]] = []
    for seat, level in sorted(levels.items()):
        _name(seat, "levels")
        if level is not None and (
            isinstance(level, bool)
            or not isinstance(level, int | float)
            or not math.isfinite(level)
            or not -200 <= level <= 0
        ):
            raise _malformed("a level is a number of dBFS from -200 to 0, or null for silence")
        read.append((seat, None if level is None else round(float(level), 1)))
    return RigLevels(tuple(read))


def preview_of(body: Mapping[str, Any]) -> RigPreview:
    camera = body.get("camera")
    if camera != PROGRAM:
        _name(camera, "camera")
    jpeg = body.get("jpeg")
    if not isinstance(jpeg, str) or not jpeg or len(jpeg) > MAX_PREVIEW_BYTES * 4 // 3 + 4:
        raise _malformed(f"'jpeg' must be a base64 JPEG of at most {MAX_PREVIEW_BYTES} bytes")
    try:
        head = base64.b64decode(jpeg[:8], validate=True) if _BASE64.fullmatch(jpeg) else b""
    except binascii.Error:
        head = b""
    # The panel shows it as an image: only a JPEG (its start-of-image marker) passes.
    if not head.startswith(b"\xff\xd8\xff"):
        raise _malformed("'jpeg' must be a base64 JPEG")
    return RigPreview(str(camera), jpeg)


@dataclasses.dataclass(frozen=True)
class CameraChange:
    """A camera that failed, or works again: the hearing audits it."""

    camera: RigCamera
    unavailable: bool


class RigView:
    """The live hearing's knowledge of its rig: the newest report, whether
    the rig is connected, which cameras are down, when each preview was
    last relayed."""

    def __init__(self) -> None:
        self.report: RigReport | None = None
        self.connected = False
        self._down: set[str] = set()
        self._previewed: dict[str, float] = {}

    def reported(self, report: RigReport) -> list[CameraChange]:
        """Take the rig's newest report; the cameras that went down or came
        back since the last one (a camera down when the rig starts counts)."""
        self.report, self.connected = report, True
        changes = []
        for camera in report.cameras:
            down = camera.state == "unavailable"
            if down != (camera.id in self._down):
                changes.append(CameraChange(camera, down))
                (self._down.add if down else self._down.discard)(camera.id)
        return changes

    def disconnected(self) -> None:
        self.connected = False
        self._previewed.clear()

    def has_camera(self, camera_id: str) -> bool:
        return self.connected and self.report is not None and self.report.camera(camera_id) is not None

    def preview_due(self, camera: str, now: float) -> bool:
        """Whether a preview of `camera` is relayed now (at most one per
        PREVIEW_SECONDS each); only of a camera the rig has reported."""
        if self.report is None or (camera != PROGRAM and self.report.camera(camera) is None):
            return False
        last = self._previewed.get(camera)
        if last is not None and now - last < PREVIEW_SECONDS:
            return False
        self._previewed[camera] = now
        return True

    def message(self) -> dict[str, Any] | None:
        """What the panels are told of the rig (None: no rig has reported)."""
        if self.report is None:
            return None
        return {
            "type": "rig",
            "connected": self.connected,
            "cameras": [c.to_json() for c in self.report.cameras],
            "program": self.report.program.to_json() if self.connected else None,
            "layouts": list(LAYOUTS),
        }
