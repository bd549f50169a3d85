from __future__ import annotations

import enum


class HearingKind(enum.StrEnum):
    REMAND_EXTENSION = "remand_extension"
    OTHER = "other"


class ParticipantRole(enum.StrEnum):
    """A person's role in one hearing (not their staff role)."""

    JUDGE = "judge"
    PROSECUTOR = "prosecutor"
    DEFENCE_COUNSEL = "defence_counsel"
    DETAINEE = "detainee"
    INTERPRETER = "interpreter"
    CUSTODY_OFFICER = "custody_officer"
    OBSERVER = "observer"
    WITNESS = "witness"  # issue 12: heard remotely, by one-time code


class Connection(enum.StrEnum):
    """Where a participant joins from, which decides how they authenticate."""

    COURTROOM = "courtroom"
    CUSTODY = "custody"
    REMOTE = "remote"


class EndpointKind(enum.StrEnum):
    """An enrolled device, by where it stands and whose seat it takes."""

    COURTROOM = "courtroom"  # the courtroom's camera rig
    CUSTODY = "custody"  # the detainee's kiosk in a custody facility's hearing room
    BOOTH = "booth"  # a consultation booth at a courtroom: defence counsel confers from it

    @property
    def at_courtroom(self) -> bool:
        """Whether the device's site is a courtroom (else a custody facility)."""
        return self is not EndpointKind.CUSTODY
