"""A hearing as its readers see it: the docket, the hearing page, devices, the CLI.

One record with the court's local, timezone-aware times; each reader picks
the fields it shows. JSON readers turn the times into ISO 8601 strings with
`jsonable`, in the court's zone or (devices, docs/protocol.md) in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import TypedDict
from zoneinfo import ZoneInfo

from hearing.db.models import Hearing


class HearingSummary(TypedDict):
    id: int
    case_number: str
    kind: str
    state: str
    start: datetime  # court-local, aware
    end: datetime
    court: str
    courtroom: str
    facility: str
    detainee: str
    detainee_reference: str
    interpreter_language: str | None


def summarise(hearing: Hearing, tz: ZoneInfo) -> HearingSummary:
    return {
        "id": hearing.id,
        "case_number": hearing.case_number,
        "kind": hearing.kind.value,
        "state": hearing.state.value,
        "start": hearing.scheduled_start.astimezone(tz),
        "end": hearing.scheduled_end.astimezone(tz),
        "court": hearing.courtroom.court.name,
        "courtroom": hearing.courtroom.name,
        "facility": hearing.facility.name,
        "detainee": hearing.detainee_name,
        "detainee_reference": hearing.detainee_reference,
        "interpreter_language": hearing.interpreter_language,
    }


def jsonable(record: Mapping[str, object], tz: tzinfo | None = None) -> dict[str, object]:
    """The record with every datetime as an ISO 8601 string, moved to `tz` if given."""
    out: dict[str, object] = {}
    for name, value in record.items():
        if isinstance(value, datetime):
            if value.tzinfo is None:
                # A naive time has no instant; guessing one would be worse than failing.
                raise ValueError(f"{name} has no time zone")
            value = (value if tz is None else value.astimezone(tz)).isoformat()
        out[name] = value
    return out
