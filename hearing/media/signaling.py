"""Signaling messages: JSON over an authenticated WebSocket, one per participant.

Parsing is strict and pure: a message is a JSON object with a known `type`
and exactly the fields that type allows, under a size limit. Anything else
is answered with an error message carrying a stable code, and the room is
not disturbed. docs/protocol.md lists the messages and the codes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from hearing import strict_json
from hearing.errors import HearingError
from hearing.media import rig_report
from hearing.media.rig_report import RigLevels, RigPreview, RigReport

MAX_MESSAGE_BYTES = 64 * 1024
MAX_SDP_CHARS = 32 * 1024
MAX_CANDIDATE_CHARS = 1024


class SignalingError(HearingError):
    """A message the socket cannot take; answered with its code, the socket stays open."""

    code = "malformed_message"
    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Offer:
    sdp: str
    views: tuple[str, ...] = ()  # sources pinned to the offer's further video sections


@dataclasses.dataclass(frozen=True)
class Answer:
    sdp: str


@dataclasses.dataclass(frozen=True)
class Candidate:
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


@dataclasses.dataclass(frozen=True)
class Ping:
    nonce: int


@dataclasses.dataclass(frozen=True)
class Leave:
    pass


@dataclasses.dataclass(frozen=True)
class FloorRequest:
    """A request to speak, or its withdrawal, for someone at the sender's seat."""

    action: str  # "request" or "withdraw"
    speaker: str


# What the courtroom rig reports besides its media (issue 13): hearing/media/rig_report.py.
Message = Offer | Answer | Candidate | Ping | Leave | FloorRequest | RigReport | RigLevels | RigPreview

_FIELDS: dict[str, set[str]] = {
    "offer": {"sdp", "views"},
    "answer": {"sdp"},
    "candidate": {"candidate", "sdpMid", "sdpMLineIndex"},
    "ping": {"nonce"},
    "leave": set(),
    "request": {"speaker"},
    "withdraw": {"speaker"},
    "rig": {"cameras", "program"},
    "levels": {"levels"},
    "preview": {"camera", "jpeg"},
}
MAX_SPEAKER_CHARS = 64
MAX_VIEWS = 4


def _malformed(message: str) -> SignalingError:
    return SignalingError("malformed_message", message)


def _string(body: dict[str, Any], key: str, limit: int, *, optional: bool = False) -> str | None:
    value = body.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _malformed(f"'{key}' must be a non-empty string of at most {limit} characters")
    return value


def envelope(
    raw: str | bytes, fields: Mapping[str, set[str]], *, max_bytes: int = MAX_MESSAGE_BYTES
) -> tuple[str, dict[str, Any]]:
    """Every socket's messages are read one way: bounded JSON, an object with
    a known `type` and exactly that type's fields. The type and the other
    fields, or a SignalingError. (Each socket's own `parse` takes it from here.)"""
    try:
        body = strict_json.loads(raw, max_bytes=max_bytes)
    except strict_json.UnreadableJSON as exc:
        if exc.reason == "too_large":
            raise SignalingError("message_too_large", f"messages are at most {max_bytes} bytes") from None
        raise _malformed(f"not JSON: {exc.message}") from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise _malformed("a message is a JSON object with a 'type'")
    kind = body.pop("type")
    if kind not in fields:
        raise SignalingError("unknown_message", f"unknown message type {kind[:40]!r}")
    extra = set(body) - fields[kind]
    if extra:
        raise _malformed(f"unexpected fields for {kind}: {sorted(extra)[:5]}")
    return kind, body


def sdp_of(body: dict[str, Any]) -> str:
    sdp = _string(body, "sdp", MAX_SDP_CHARS)
    assert sdp is not None
    if not sdp.startswith("v=0"):
        raise SignalingError("bad_sdp", "'sdp' is not a session description")
    return sdp


def ping_of(body: dict[str, Any]) -> Ping:
    nonce = body.get("nonce")
    if not isinstance(nonce, int) or isinstance(nonce, bool) or not 0 <= nonce < 2**53:
        raise _malformed("'nonce' must be a non-negative integer")
    return Ping(nonce)


def parse(raw: str | bytes) -> Message:
    kind, body = envelope(raw, _FIELDS)
    if kind in ("offer", "answer"):
        sdp = sdp_of(body)
        if kind == "answer":
            return Answer(sdp)
        views = body.get("views", [])
        if (
            not isinstance(views, list)
            or len(views) > MAX_VIEWS
            or not all(isinstance(v, str) and 0 < len(v) <= MAX_SPEAKER_CHARS for v in views)
        ):
            raise _malformed(f"'views' must be a list of at most {MAX_VIEWS} seat names")
        return Offer(sdp, tuple(views))
    if kind == "candidate":
        candidate = _string(body, "candidate", MAX_CANDIDATE_CHARS)
        assert candidate is not None
        index = body.get("sdpMLineIndex")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64):
            raise _malformed("'sdpMLineIndex' must be a small non-negative integer")
        return Candidate(candidate, _string(body, "sdpMid", 64, optional=True), index)
    if kind == "ping":
        return ping_of(body)
    if kind in ("request", "withdraw"):
        speaker = _string(body, "speaker", MAX_SPEAKER_CHARS)
        assert speaker is not None
        return FloorRequest(kind, speaker)
    if kind in RIG_MESSAGES:
        try:
            return RIG_MESSAGES[kind](body)
        except rig_report.RigMessageError as exc:
            raise SignalingError(exc.code, exc.message) from None
    return Leave()


RIG_MESSAGES: dict[str, Callable[[dict[str, Any]], RigReport | RigLevels | RigPreview]] = {
    "rig": rig_report.report_of,
    "levels": rig_report.levels_of,
    "preview": rig_report.preview_of,
}
