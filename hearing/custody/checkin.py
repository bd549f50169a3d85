"""The custody officer's check-in of the detainee, as a value.

The officer confirms the detainee's name and reference against the booking,
may write a note, and says where things stand: the detainee is *in the
room*, or the room is *ready* for the hearing. *Ready* is the officer's word
to the court that the right person sits in front of the camera, so it needs
both confirmations. Pure: no framework, no I/O.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping

from hearing.errors import CheckInUnconfirmed, InvalidInput
from hearing.fields import free_text

NOTE_MAX = 500
# What a checked box sends: the form's own value, or a browser's default.
CHECKED = frozenset({"yes", "on"})
FIELDS = ("name_confirmed", "reference_confirmed", "status", "note")


class CheckInStatus(enum.StrEnum):
    IN_ROOM = "in_room"
    READY = "ready"


def _checkbox(fields: Mapping[str, str], name: str) -> bool:
    raw = fields.get(name)
    if raw is None or raw == "":
        return False
    if raw in CHECKED:
        return True
    raise InvalidInput(f"{name.replace('_', ' ').capitalize()} is a checkbox: send yes or nothing.", field=name)


@dataclasses.dataclass(frozen=True)
class CheckInForm:
    name_confirmed: bool
    reference_confirmed: bool
    status: CheckInStatus
    note: str = ""

    def __post_init__(self) -> None:
        if len(self.note) > NOTE_MAX:
            raise InvalidInput(f"A note is at most {NOTE_MAX} characters.", field="note")
        if self.status is CheckInStatus.READY and not (self.name_confirmed and self.reference_confirmed):
            raise CheckInUnconfirmed()

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> CheckInForm:
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise InvalidInput(f"The form has an unexpected field: {unknown[0][:40]!r}.", field=unknown[0][:40])
        raw_status = fields.get("status") or ""
        try:
            status = CheckInStatus(raw_status)
        except ValueError:
            raise InvalidInput("Choose in_room or ready.", field="status") from None
        return cls(
            name_confirmed=_checkbox(fields, "name_confirmed"),
            reference_confirmed=_checkbox(fields, "reference_confirmed"),
            status=status,
            note=free_text(fields.get("note") or "", field="note", limit=NOTE_MAX, required=False, multiline=True),
        )
