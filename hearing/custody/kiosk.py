"""The kiosk socket's vocabulary: what a kiosk page may send, and the docket
it is shown.

A kiosk (the detainee's screen in a custody facility's hearing room, or a
consultation booth at a court) keeps one socket open for as long as its
page is shown. It sends only pings (its heartbeat, answered with a pong)
and, when it goes, `leave`; the server sends it the day's hearings at its
site whenever they change, and the officer console's requests
(`connect`, `test_call`). The kiosk has no personal data to show: a
hearing is its case number, times, courtroom and facility, and its state.

Pure: no framework, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from hearing import strict_json
from hearing.errors import HearingError

Message = dict[str, Any]
# A ping is some 30 bytes: anything over this is not a kiosk talking.
MAX_MESSAGE_BYTES = 1024
_FIELDS: dict[str, set[str]] = {"ping": {"nonce"}, "leave": set()}


class KioskMessageError(HearingError):
    """A message the kiosk socket cannot take; answered, the socket stays open."""

    code = "malformed_message"
    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Ping:
    nonce: int


@dataclasses.dataclass(frozen=True)
class Leave:
    pass


def parse(raw: str | bytes) -> Ping | Leave:
    try:
        body = strict_json.loads(raw, max_bytes=MAX_MESSAGE_BYTES)
    except strict_json.UnreadableJSON as exc:
        if exc.reason == "too_large":
            raise KioskMessageError("message_too_large", f"messages are at most {MAX_MESSAGE_BYTES} bytes") from None
        raise KioskMessageError("malformed_message", f"not JSON: {exc.message}") from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise KioskMessageError("malformed_message", "a message is a JSON object with a 'type'")
    kind = body.pop("type")
    if kind not in _FIELDS:
        raise KioskMessageError("unknown_message", f"the kiosk socket takes ping and leave, not {kind[:40]!r}")
    extra = set(body) - _FIELDS[kind]
    if extra:
        raise KioskMessageError("malformed_message", f"unexpected fields for {kind}: {sorted(extra)[:5]}")
    if kind == "leave":
        return Leave()
    nonce = body.get("nonce")
    if not isinstance(nonce, int) or isinstance(nonce, bool) or not 0 <= nonce < 2**53:
        raise KioskMessageError("malformed_message", "'nonce' must be a non-negative integer")
    return Ping(nonce)


def kiosk_hearing(summary: Mapping[str, Any]) -> dict[str, Any]:
    """One hearing as a kiosk is told it: instants in UTC (ISO 8601), and the
    court-local clock time the slate shows (the kiosk's own clock may be
    set to anything)."""
    start: datetime = summary["start"]
    end: datetime = summary["end"]
    return {
        "id": summary["id"],
        "case_number": summary["case_number"],
        "state": summary["state"],
        "scheduled_start": start.isoformat(),
        "scheduled_end": end.isoformat(),
        "local_start": start.strftime("%H:%M"),
        "local_end": end.strftime("%H:%M"),
        "courtroom": summary["courtroom"],
        "facility": summary["facility"],
    }


def docket_message(summaries: Iterable[Mapping[str, Any]]) -> Message:
    return {"type": "docket", "hearings": [kiosk_hearing(s) for s in summaries]}
