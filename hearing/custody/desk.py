"""The custody desk: the officer's day at one facility, check-in, the room.

Service functions (docs/architecture.md): each takes a Session, the officer
(a StaffUser, loaded in the same transaction) and an Actor; authorises,
changes, appends its audit entry, and leaves the commit to the unit of
work. An officer reaches only the hearings of their own facility; anything
else is PermissionDenied, which the web layer records as a refusal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from typing import TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth.roles import Role
from hearing.custody.checkin import CheckInForm
from hearing.db.models import CheckIn, Endpoint, Hearing, StaffUser, TestCall
from hearing.docket import booking
from hearing.docket.lifecycle import FINAL_STATES, HearingState
from hearing.docket.parties import EndpointKind
from hearing.docket.summary import HearingSummary, summarise
from hearing.errors import HearingEnded, HearingNotFound, NoRoomAssigned, PermissionDenied, UnknownRoom


class CheckInView(TypedDict):
    """A check-in as the console, the hearing page and the panels' feed show
    it (JSON-ready: the time is an ISO 8601 string in the court's zone)."""

    status: str
    name_confirmed: bool
    reference_confirmed: bool
    note: str
    officer: str
    at: str
    time: str  # HH:MM, court-local: what a page prints


class TestCallView(TypedDict):
    grade: str
    at: str
    time: str


@dataclasses.dataclass(frozen=True)
class Room:
    """A custody facility's hearing room: its kiosk, an enrolled endpoint."""

    id: int
    name: str


@dataclasses.dataclass(frozen=True)
class DeskHearing:
    summary: HearingSummary
    room: Room | None
    check_in: CheckInView | None
    test_call: TestCallView | None


@dataclasses.dataclass(frozen=True)
class DeskDay:
    day: date
    rooms: tuple[Room, ...]
    hearings: tuple[DeskHearing, ...]


def _facility_of(officer: StaffUser) -> int:
    if officer.role is not Role.CUSTODY_OFFICER or officer.facility_id is None:
        raise PermissionDenied("Only a custody facility's officers keep its desk.")
    return officer.facility_id


def _own_hearing(db: Session, officer: StaffUser, hearing_id: int, *, lock: bool = False) -> Hearing:
    facility = _facility_of(officer)
    query = select(Hearing).where(Hearing.id == hearing_id)
    hearing = db.scalar(query.with_for_update() if lock else query)
    if hearing is None:
        raise HearingNotFound()
    if hearing.facility_id != facility:
        raise PermissionDenied("This hearing is not at your custody facility.")
    return hearing


def _not_ended(hearing: Hearing) -> None:
    if hearing.state in FINAL_STATES:
        raise HearingEnded()


def _clock(moment: datetime, tz: ZoneInfo) -> tuple[str, str]:
    local = moment.astimezone(tz)
    return local.isoformat(), local.strftime("%H:%M")


def check_in_view(record: CheckIn, officer_name: str, tz: ZoneInfo) -> CheckInView:
    at, time = _clock(record.updated_at, tz)
    return {
        "status": record.status,
        "name_confirmed": record.name_confirmed,
        "reference_confirmed": record.reference_confirmed,
        "note": record.note,
        "officer": officer_name,
        "at": at,
        "time": time,
    }


def check_ins(db: Session, hearing_ids: Iterable[int], tz: ZoneInfo) -> dict[int, CheckInView]:
    """The current check-in of each of these hearings that has one."""
    ids = sorted(set(hearing_ids))
    if not ids:
        return {}
    rows = db.execute(
        select(CheckIn, StaffUser.display_name)
        .join(StaffUser, StaffUser.id == CheckIn.officer_id)
        .where(CheckIn.hearing_id.in_(ids))
    )
    return {record.hearing_id: check_in_view(record, name, tz) for record, name in rows}


def check_in_of(db: Session, hearing_id: int, tz: ZoneInfo) -> CheckInView | None:
    return check_ins(db, [hearing_id], tz).get(hearing_id)


def newest_test_calls(db: Session, endpoint_ids: Iterable[int], tz: ZoneInfo) -> dict[int, TestCallView]:
    """Each endpoint's newest test call (TestCall rows, written by the test call)."""
    ids = sorted(set(endpoint_ids))
    if not ids:
        return {}
    newest: dict[int, TestCallView] = {}
    query = select(TestCall).where(TestCall.endpoint_id.in_(ids)).order_by(TestCall.at.desc(), TestCall.id.desc())
    for call in db.scalars(query):
        if call.endpoint_id not in newest:
            at, time = _clock(call.at, tz)
            newest[call.endpoint_id] = {"grade": call.grade, "at": at, "time": time}
    return newest


def rooms_of(db: Session, facility_id: int) -> tuple[Room, ...]:
    """The facility's hearing rooms: its custody endpoints that still stand."""
    query = (
        select(Endpoint)
        .where(
            Endpoint.kind == EndpointKind.CUSTODY,
            Endpoint.facility_id == facility_id,
            Endpoint.revoked_at.is_(None),
        )
        .order_by(Endpoint.name, Endpoint.id)
    )
    return tuple(Room(e.id, e.name) for e in db.scalars(query))


def officer_day(db: Session, officer: StaffUser, day: date, tz: ZoneInfo) -> DeskDay:
    """The officer's facility's hearings of one court-local day, with what
    the desk needs for each."""
    facility = _facility_of(officer)
    hearings = booking.day_docket(db, day, tz, scope=officer)
    checked = check_ins(db, [h.id for h in hearings], tz)
    assigned = [h.custody_endpoint_id for h in hearings if h.custody_endpoint_id is not None]
    calls = newest_test_calls(db, assigned, tz)
    desk = []
    for hearing in hearings:
        endpoint = hearing.custody_endpoint
        room = Room(endpoint.id, endpoint.name) if endpoint is not None else None
        desk.append(
            DeskHearing(
                summary=summarise(hearing, tz),
                room=room,
                check_in=checked.get(hearing.id),
                test_call=calls.get(room.id) if room is not None else None,
            )
        )
    return DeskDay(day, rooms_of(db, facility), tuple(desk))


def check_in(
    db: Session, officer: StaffUser, actor: Actor, hearing_id: int, form: CheckInForm, now: datetime, tz: ZoneInfo
) -> CheckInView:
    """The officer's word on the detainee for one hearing (the newest wins;
    every change is in the audit log)."""
    hearing = _own_hearing(db, officer, hearing_id, lock=True)
    _not_ended(hearing)
    record = db.get(CheckIn, hearing.id)
    if record is None:
        record = CheckIn(hearing_id=hearing.id)
        db.add(record)
    record.officer_id = officer.id
    record.name_confirmed = form.name_confirmed
    record.reference_confirmed = form.reference_confirmed
    record.status = form.status.value
    record.note = form.note
    record.updated_at = now
    db.flush()
    # The note is the officer's own word to the court: it is recorded as written.
    append(
        db,
        actor,
        Action.CUSTODY_CHECKED_IN,
        hearing_id=hearing.id,
        status=form.status.value,
        name_confirmed=form.name_confirmed,
        reference_confirmed=form.reference_confirmed,
        note=form.note,
    )
    return check_in_view(record, officer.display_name, tz)


def assign_room(db: Session, officer: StaffUser, actor: Actor, hearing_id: int, endpoint_id: int | None) -> Room | None:
    """Which hearing room (kiosk) takes the hearing's custody seat; None:
    any kiosk of the facility may."""
    hearing = _own_hearing(db, officer, hearing_id, lock=True)
    _not_ended(hearing)
    room: Room | None = None
    if endpoint_id is not None:
        endpoint = db.get(Endpoint, endpoint_id)
        if (
            endpoint is None
            or endpoint.kind is not EndpointKind.CUSTODY
            or endpoint.facility_id != hearing.facility_id
            or endpoint.revoked_at is not None
        ):
            raise UnknownRoom(field="endpoint_id")
        room = Room(endpoint.id, endpoint.name)
    hearing.custody_endpoint_id = room.id if room is not None else None
    db.flush()
    append(
        db,
        actor,
        Action.CUSTODY_ROOM_ASSIGNED,
        hearing_id=hearing.id,
        endpoint_id=room.id if room is not None else None,
        name=room.name if room is not None else None,
    )
    return room


def assigned_room(db: Session, officer: StaffUser, hearing_id: int) -> tuple[int, HearingState]:
    """The room an officer may ask something of for this hearing (connect,
    test call), and the hearing's state; read-only."""
    hearing = _own_hearing(db, officer, hearing_id)
    _not_ended(hearing)
    if hearing.custody_endpoint_id is None:
        raise NoRoomAssigned()
    return hearing.custody_endpoint_id, hearing.state
