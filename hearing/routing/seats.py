"""Who sits where in a hearing: its seats, from the docket.

A *seat* is a connection point of the hearing's media room, named by an id
that survives a reconnect. Which seats a hearing has follows from who is
booked and where each party joins from:

- the bench (`judge`): the judge's panel in the courtroom;
- the courtroom (`courtroom`): the courtroom's camera rig and microphones. It
  carries the room's own sound (the bench's and the courtroom parties'), so
  the routing treats it like the judge: always live, never muted. Its people
  ask for the floor through the judge, who gives the word in the room;
- the custody facility (`custody`): the detainee's hearing room, with the
  custody officer and, if booked there, defence counsel;
- a consultation booth at the court (`booth`), when defence counsel sits in
  the courtroom: where counsel goes to confer with the detainee in private;
- one seat per remote participant (an interpreter, remote counsel, a remote
  prosecutor, a witness): `<kind>-<participant id>`, e.g. `interpreter-12`.

A seat has a role for the routing policy, the people who may ask to speak
from it (speakers, named `seat:role`), and whether it confers in a private
consultation. Pure: the docket's rows come in as `Party` values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from hearing.docket.parties import Connection, EndpointKind, ParticipantRole

R = ParticipantRole

JUDGE = "judge"
COURTROOM = "courtroom"
CUSTODY = "custody"
BOOTH = "booth"
# What the id of a remote participant's seat starts with, by their role.
REMOTE_KINDS: dict[ParticipantRole, str] = {
    R.INTERPRETER: "interpreter",
    R.DEFENCE_COUNSEL: "counsel",
    R.PROSECUTOR: "prosecutor",
    R.DETAINEE: "detainee",
    R.OBSERVER: "observer",
    R.CUSTODY_OFFICER: "officer",
    R.JUDGE: "judge",
    R.WITNESS: "witness",
}
# Roles that may ask to speak; an observer only follows.
SPEAKING_ROLES = frozenset(set(R) - {R.JUDGE, R.OBSERVER})


@dataclasses.dataclass(frozen=True)
class Party:
    """A booked participant, as far as seating is concerned."""

    id: int
    role: ParticipantRole
    connection: Connection
    name: str
    language: str | None = None  # the language an interpreter interprets (issue 12)


@dataclasses.dataclass(frozen=True)
class Seat:
    id: str
    role: ParticipantRole  # what the routing policy treats it as
    speakers: tuple[ParticipantRole, ...] = ()  # who may ask to speak from it
    people: tuple[Party, ...] = ()  # who sits there, from the docket
    confers: bool = False  # a member of the private consultation with the detainee

    def __post_init__(self) -> None:
        if not self.id or ":" in self.id or len(self.id) > 32:
            raise ValueError(f"a seat id is a short name without ':' ({self.id!r})")


@dataclasses.dataclass(frozen=True)
class Seating:
    seats: tuple[Seat, ...]

    def __post_init__(self) -> None:
        ids = [s.id for s in self.seats]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate seats: {ids}")

    def __getitem__(self, seat: str) -> Seat:
        found = next((s for s in self.seats if s.id == seat), None)
        if found is None:
            raise KeyError(seat)
        return found

    def __contains__(self, seat: object) -> bool:
        return any(s.id == seat for s in self.seats)

    @property
    def roles(self) -> dict[str, ParticipantRole]:
        return {s.id: s.role for s in self.seats}

    @property
    def speakers(self) -> dict[str, tuple[ParticipantRole, ...]]:
        return {s.id: s.speakers for s in self.seats if s.speakers}

    @property
    def consultation(self) -> frozenset[str]:
        """Who confers when the judge lets the detainee and counsel talk in private."""
        return frozenset(s.id for s in self.seats if s.confers)

    def people(self) -> dict[str, list[dict[str, str]]]:
        """Who sits at each seat, for the panel (with an interpreter's language:
        the lobby card says it)."""
        return {s.id: [_person(p) for p in s.people] for s in self.seats if s.people}


def _person(party: Party) -> dict[str, str]:
    person = {"role": party.role.value, "name": party.name}
    if party.language:
        person["language"] = party.language
    return person


def remote_seat(party: Party) -> str:
    return f"{REMOTE_KINDS[party.role]}-{party.id}"


def seating(parties: Iterable[Party], *, detainee_name: str = "") -> Seating:
    """The seats of a hearing with these booked parties. The bench, the
    courtroom and the custody facility always exist; the detainee sits in
    custody even where the docket does not list them (older bookings)."""
    parties = list(parties)
    at = {c: [p for p in parties if p.connection is c] for c in Connection}
    in_custody = list(at[Connection.CUSTODY])
    if not any(p.role is R.DETAINEE for p in in_custody) and detainee_name:
        in_custody.insert(0, Party(0, R.DETAINEE, Connection.CUSTODY, detainee_name))
    custody_speakers = [R.DETAINEE, *(p.role for p in in_custody if p.role is R.DEFENCE_COUNSEL), R.CUSTODY_OFFICER]
    seats = [
        Seat(JUDGE, R.JUDGE),
        Seat(
            COURTROOM,
            R.JUDGE,
            speakers=_unique(p.role for p in at[Connection.COURTROOM] if p.role in SPEAKING_ROLES),
            people=tuple(at[Connection.COURTROOM]),
        ),
        Seat(
            CUSTODY,
            R.DETAINEE,
            speakers=_unique(custody_speakers),
            people=tuple(in_custody),
            confers=True,
        ),
    ]
    counsel_in_court = [p for p in at[Connection.COURTROOM] if p.role is R.DEFENCE_COUNSEL]
    if counsel_in_court:
        seats.append(Seat(BOOTH, R.DEFENCE_COUNSEL, people=tuple(counsel_in_court), confers=True))
    for party in at[Connection.REMOTE]:
        seats.append(
            Seat(
                remote_seat(party),
                party.role,
                speakers=(party.role,) if party.role in SPEAKING_ROLES else (),
                people=(party,),
                confers=party.role is R.DEFENCE_COUNSEL,
            )
        )
    return Seating(tuple(seats))


DEVICE_SEATS = {EndpointKind.COURTROOM: COURTROOM, EndpointKind.CUSTODY: CUSTODY, EndpointKind.BOOTH: BOOTH}


def seat_for_device(kind: EndpointKind) -> str:
    return DEVICE_SEATS[kind]


def _unique(roles: Iterable[ParticipantRole]) -> tuple[ParticipantRole, ...]:
    return tuple(dict.fromkeys(roles))
