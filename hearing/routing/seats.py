"""Who sits where in a hearing's media room.

Each kind of connection has one seat, named by a stable id that survives a
reconnect: the judge's panel, the courtroom rig, the custody endpoint. The
courtroom rig carries the room's own sound (its microphones are the bench's
and the courtroom parties'), so the routing treats it like the judge: always
live, never muted by the system. Interpreters and remote parties get seats
with the issues that admit them.
"""

from __future__ import annotations

from hearing.docket.parties import EndpointKind, ParticipantRole

JUDGE = "judge"
COURTROOM = "courtroom"
CUSTODY = "custody"

SEAT_ROLES: dict[str, ParticipantRole] = {
    JUDGE: ParticipantRole.JUDGE,
    COURTROOM: ParticipantRole.JUDGE,
    CUSTODY: ParticipantRole.DETAINEE,
}


# Who may ask to speak from each seat. The courtroom's people ask through
# the judge's panel (the judge gives the word in the room), the custody
# facility's through the endpoint's button.
SEAT_SPEAKERS: dict[str, tuple[ParticipantRole, ...]] = {
    COURTROOM: (ParticipantRole.PROSECUTOR, ParticipantRole.DEFENCE_COUNSEL),
    CUSTODY: (ParticipantRole.DETAINEE, ParticipantRole.DEFENCE_COUNSEL, ParticipantRole.CUSTODY_OFFICER),
}


def seat_for_device(kind: EndpointKind) -> str:
    return COURTROOM if kind is EndpointKind.COURTROOM else CUSTODY
