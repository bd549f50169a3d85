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

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from hearing.media.signaling import Leave, Ping, envelope, ping_of

Message = dict[str, Any]
# A ping is some 30 bytes: anything over this is not a kiosk talking.
MAX_MESSAGE_BYTES = 1024
_FIELDS: dict[str, set[str]] = {"ping": {"nonce"}, "leave": set()}


def parse(raw: str | bytes) -> Ping | Leave:
    kind, body = envelope(raw, _FIELDS, max_bytes=MAX_MESSAGE_BYTES)
    return ping_of(body) if kind == "ping" else Leave()


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
        "court": summary["court"],
        "courtroom": summary["courtroom"],
        "facility": summary["facility"],
    }


def docket_message(summaries: Iterable[Mapping[str, Any]]) -> Message:
    return {"type": "docket", "hearings": [kiosk_hearing(s) for s in summaries]}
