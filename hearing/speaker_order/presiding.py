"""The floor as a service: authorise, change, audit, commit, in one
transaction per command (invariant 3 in DESIGN.md).

The hearing row is locked for the transaction, so two clicks from two
panels, or a click and an endpoint's request, apply one after the other;
the floor's version says in which order.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import SYSTEM, Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.clock import utcnow
from hearing.db.models import FloorRecord, Hearing, Participant
from hearing.docket.lifecycle import LIVE_STATES
from hearing.docket.parties import ParticipantRole
from hearing.errors import HearingNotFound, HearingNotOpen, PermissionDenied
from hearing.routing import seats
from hearing.speaker_order import commands
from hearing.speaker_order.commands import Command, Sender
from hearing.speaker_order.floor import Floor


def seating(hearing: Hearing) -> seats.Seating:
    """The hearing's seats, from who its docket says takes part and where from."""
    parties = [
        seats.Party(p.id, p.role, p.connection, p.display_name, _language(hearing, p)) for p in hearing.participants
    ]
    return seats.seating(parties, detainee_name=hearing.detainee_name)


def _language(hearing: Hearing, party: Participant) -> str | None:
    # The interpreter the booking made ("Interpreter (arabisk)") has the
    # booking's language, as interpreter/issuing.language_of says (which
    # imports this module, hence not imported from there).
    if party.language is None and party.role is ParticipantRole.INTERPRETER:
        return hearing.interpreter_language
    return party.language


def current(db: Session, hearing: Hearing) -> Floor:
    record = db.get(FloorRecord, hearing.id)
    return Floor.for_seating(seating(hearing)) if record is None else Floor.from_json(json.loads(record.state))


def interpreter_seats(floor: Floor) -> frozenset[str]:
    return frozenset(seat for seat, role in floor.seats if role is ParticipantRole.INTERPRETER)


def _save(db: Session, hearing_id: int, floor: Floor) -> None:
    record = db.get(FloorRecord, hearing_id)
    if record is None:
        record = FloorRecord(hearing_id=hearing_id, version=0, state="")
        db.add(record)
    record.version, record.state, record.updated_at = floor.version, floor.dumps(), utcnow()


def direction_turned(db: Session, hearing_id: int, before: Floor, after: Floor) -> None:
    """The interpretation's direction follows the floor, with no one
    switching it: when a change of the floor turns it, the log says so, in
    the same transaction, as the system's entry."""
    if after.direction is not before.direction:
        append(
            db,
            SYSTEM,
            Action.INTERPRETATION_DIRECTION,
            hearing_id=hearing_id,
            version=after.version,
            direction=after.direction.value,
        )


def follow_consultation(
    db: Session, hearing: Hearing, *, begins: bool, include_interpreter: bool = False
) -> frozenset[str]:
    """The lifecycle entered or left a private consultation: the floor cuts
    its members (the custody facility's room, and counsel's seat where counsel
    sits elsewhere: the booth, or a remote counsel's seat) off from the court,
    or lets them back; returns the members. With `include_interpreter`, the
    interpreter's seats confer too: a detainee who needs interpretation needs
    it with counsel as well. The caller holds the hearing row and appends the
    audit entry in the same transaction."""
    before = current(db, hearing)
    members = seating(hearing).consultation
    if include_interpreter:
        members |= interpreter_seats(before)
    after = before.begin_consultation(members) if begins else before.end_consultation()
    _save(db, hearing.id, after)
    return after.consultation if begins else before.consultation


def seat_added(db: Session, hearing: Hearing, seat: str) -> Floor | None:
    """The docket gained a party whose seat is `seat` (issue 12: a remote
    party): a stored floor gains the seat, waiting in the lobby. None when
    no floor is stored yet (the first floor is made from the docket). The
    caller holds the hearing row and audits."""
    record = db.get(FloorRecord, hearing.id)
    if record is None:
        return _first_stored(db, hearing, seat, added=True)
    before = Floor.from_json(json.loads(record.state))
    if seat in before.seat_roles:
        return None
    added = seating(hearing)[seat]
    after = before.with_seat(seat, added.role, added.speakers)
    _save(db, hearing.id, after)
    return after


def seat_removed(db: Session, hearing: Hearing, seat: str) -> Floor | None:
    """The docket lost the party at `seat`: a stored floor loses the seat."""
    record = db.get(FloorRecord, hearing.id)
    if record is None:
        return _first_stored(db, hearing, seat, added=False)
    before = Floor.from_json(json.loads(record.state))
    if seat not in before.seat_roles:
        return None
    after = before.without_seat(seat)
    _save(db, hearing.id, after)
    direction_turned(db, hearing.id, before, after)
    return after


def _first_stored(db: Session, hearing: Hearing, seat: str, *, added: bool) -> Floor | None:
    """No floor is stored yet, and the docket (which makes the first floor)
    has just gained or lost the party at `seat`. A hearing not in progress
    has nothing else to tell: None. A live one may have a floor in memory,
    made from the docket before the change, at version 0, which a fresh
    floor at version 0 would never replace (issue 12, pages): the floor is
    stored now, with the change as a version of its own."""
    if hearing.state not in LIVE_STATES:
        return None
    fresh = Floor.for_seating(seating(hearing))
    if (seat in fresh.seat_roles) is not added:
        return None
    after = Floor.from_json({**fresh.to_json(), "version": fresh.version + 1})
    _save(db, hearing.id, after)
    return after


def send_to_lobby(db: Session, hearing: Hearing, seat: str) -> Floor | None:
    """A seat that was gone too long waits to be admitted again (plan B,
    hearing/docket/interruptions.py): the new floor, or None if it was not
    admitted. The caller holds the hearing row and audits."""
    before = current(db, hearing)
    if seat not in before.admitted:
        return None
    after = before.back_to_lobby(seat)
    _save(db, hearing.id, after)
    direction_turned(db, hearing.id, before, after)
    return after


def act(
    db: Session,
    actor: Actor,
    hearing_id: int,
    command: Command,
    *,
    courtroom_id: int | None = None,
    seat: str | None = None,
    connected: frozenset[str] = frozenset(),
) -> Floor:
    """Execute `command` for the judge of `courtroom_id`, or for the endpoint
    at `seat` (which may only ask to speak, or withdraw, for its own people).
    `connected`: the seats with a connection now. Refusals raise and change
    nothing."""
    hearing = db.scalar(select(Hearing).where(Hearing.id == hearing_id).with_for_update())
    if hearing is None:
        raise HearingNotFound()
    if seat is not None:
        if Sender.SEAT not in command.rule.senders:
            raise PermissionDenied("Only the judge can do that.")
    elif courtroom_id is None or hearing.courtroom_id != courtroom_id:
        raise PermissionDenied("This hearing is not in your courtroom.")
    if hearing.state not in LIVE_STATES:
        raise HearingNotOpen()
    before = current(db, hearing)
    if seat is not None:
        if before.seat_roles.get(seat) is ParticipantRole.JUDGE:
            # The courtroom's parties ask in the room, and the judge queues them.
            raise PermissionDenied("In the courtroom, the judge gives the word; ask the judge.")
        if command.speaker is not None and before.speaker(command.speaker).seat != seat:
            raise PermissionDenied("An endpoint asks to speak only for the people at it.")
    after = commands.execute(before, command, connected)
    if after is not before:
        _save(db, hearing_id, after)
    append(db, actor, command.rule.audit, hearing_id=hearing_id, version=after.version, **command.details(after))
    direction_turned(db, hearing_id, before, after)
    return after
