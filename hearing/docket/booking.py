"""Booking hearings and reading the day's docket."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.db.models import (
    Courtroom,
    CustodyFacility,
    Endpoint,
    Hearing,
    Participant,
    StaffUser,
)
from hearing.docket.lifecycle import FINAL_STATES
from hearing.docket.parties import Connection, HearingKind, ParticipantRole
from hearing.errors import (
    HearingNotFound,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ScheduleConflict,
)
from hearing.fields import free_text, moment_within_calendar, whole_number, within_calendar

CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{2,63}$")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The court's local time as a form's datetime-local field sends it, or ISO 8601 with an offset.
START = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
MIN_MINUTES, MAX_MINUTES = 5, 8 * 60
# A clerk booking a hearing "now" takes a minute or two to fill in the form.
START_GRACE = timedelta(minutes=5)
# How far ahead a court books by default (Settings.booking_horizon_days).
DEFAULT_HORIZON = timedelta(days=730)
NAME_MAX = 200
REFERENCE_MAX = 64

NUMBERS = ("courtroom_id", "facility_id", "minutes")

Enum_T = TypeVar("Enum_T", bound=Enum)


def _text(fields: Mapping[str, str], name: str, *, required: bool = True, limit: int = NAME_MAX) -> str:
    return free_text(fields.get(name) or "", field=name, limit=limit, required=required)


def _choice(kind: type[Enum_T], fields: Mapping[str, str], name: str, default: Enum_T) -> Enum_T:
    raw = (fields.get(name) or "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(f"Unknown {name.replace('_', ' ')}: {raw[:40]!r}.", field=name) from None


@dataclasses.dataclass(frozen=True)
class BookingRequest:
    case_number: str
    kind: HearingKind
    courtroom_id: int
    facility_id: int
    start: datetime
    minutes: int
    detainee_name: str
    detainee_reference: str
    interpreter_language: str | None = None
    prosecutor: str | None = None
    defence_counsel: str | None = None
    defence_connection: Connection = Connection.COURTROOM

    def __post_init__(self) -> None:
        if not CASE_NUMBER.match(self.case_number):
            raise InvalidInput("A case number is 3-64 letters, digits, spaces, '.', '/' or '-'.", field="case_number")
        if self.start.tzinfo is None:
            raise InvalidInput("The start time must carry a time zone.", field="start")
        moment_within_calendar(self.start, field="start", label="The start time")
        if not MIN_MINUTES <= self.minutes <= MAX_MINUTES:
            raise InvalidInput(f"A hearing lasts {MIN_MINUTES}-{MAX_MINUTES} minutes.", field="minutes")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], tz: ZoneInfo) -> BookingRequest:
        """Parse a booking form or CLI arguments; times are the court's local time."""
        try:
            raw = _text(fields, "start", limit=32)
            # fromisoformat alone also takes 20261123T1030 and 2026-W48-1.
            if not START.fullmatch(raw):
                raise ValueError(raw)
            local = datetime.fromisoformat(raw)
        except ValueError:
            raise InvalidInput("The start time must look like 2026-11-23T10:30.", field="start") from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=tz)
        ids = {name: whole_number(_text(fields, name, limit=9), field=name) for name in NUMBERS}
        return cls(
            case_number=_text(fields, "case_number", limit=64),
            kind=_choice(HearingKind, fields, "kind", HearingKind.REMAND_EXTENSION),
            courtroom_id=ids["courtroom_id"],
            facility_id=ids["facility_id"],
            start=local,
            minutes=ids["minutes"],
            detainee_name=_text(fields, "detainee_name"),
            detainee_reference=_text(fields, "detainee_reference", limit=REFERENCE_MAX),
            interpreter_language=_text(fields, "interpreter_language", required=False, limit=64) or None,
            prosecutor=_text(fields, "prosecutor", required=False) or None,
            defence_counsel=_text(fields, "defence_counsel", required=False) or None,
            defence_connection=_choice(Connection, fields, "defence_connection", Connection.COURTROOM),
        )


def check_start(start: datetime, now: datetime, horizon: timedelta = DEFAULT_HORIZON) -> None:
    """A hearing is booked from now on (with a few minutes' grace) and not
    beyond the court's horizon."""
    if start < now - START_GRACE:
        raise InvalidInput("The start time is in the past.", field="start")
    if start > now + horizon:
        raise InvalidInput(f"The start time is more than {horizon.days} days ahead.", field="start")


def book(
    db: Session,
    actor: Actor,
    request: BookingRequest,
    *,
    now: datetime | None = None,
    horizon: timedelta = DEFAULT_HORIZON,
) -> Hearing:
    check_start(request.start, now or utcnow(), horizon)
    courtroom = db.get(Courtroom, request.courtroom_id)
    if courtroom is None:
        raise NotFound("No such courtroom.")
    facility = db.get(CustodyFacility, request.facility_id)
    if facility is None:
        raise NotFound("No such custody facility.")
    # Lock the courtroom row so two clerks cannot book the same slot at once.
    db.execute(select(Courtroom.id).where(Courtroom.id == courtroom.id).with_for_update())
    clash = db.scalar(
        select(Hearing.id).where(
            Hearing.courtroom_id == courtroom.id,
            Hearing.state.not_in(FINAL_STATES),
            Hearing.scheduled_start < request.end,
            Hearing.scheduled_end > request.start,
        )
    )
    if clash is not None:
        raise ScheduleConflict(f"{courtroom.name} already has hearing {clash} at that time.")
    hearing = Hearing(
        case_number=request.case_number,
        kind=request.kind,
        courtroom_id=courtroom.id,
        facility_id=facility.id,
        scheduled_start=request.start,
        scheduled_end=request.end,
        detainee_name=request.detainee_name,
        detainee_reference=request.detainee_reference,
        interpreter_language=request.interpreter_language,
        booked_by_id=actor.id if actor.kind == "user" else None,
    )
    db.add(hearing)
    db.flush()
    parties = [(ParticipantRole.DETAINEE, request.detainee_name, Connection.CUSTODY)]
    if request.prosecutor:
        parties.append((ParticipantRole.PROSECUTOR, request.prosecutor, Connection.COURTROOM))
    if request.defence_counsel:
        parties.append((ParticipantRole.DEFENCE_COUNSEL, request.defence_counsel, request.defence_connection))
    if request.interpreter_language:
        parties.append(
            (ParticipantRole.INTERPRETER, f"Interpreter ({request.interpreter_language})", Connection.REMOTE)
        )
    for role, name, connection in parties:
        db.add(Participant(hearing_id=hearing.id, role=role, display_name=name, connection=connection))
    db.flush()
    # The payload names the case, not the detainee: personal data stays in
    # the hearing record, which retention rules can erase.
    append(
        db,
        actor,
        Action.HEARING_BOOKED,
        hearing_id=hearing.id,
        case_number=hearing.case_number,
        courtroom_id=courtroom.id,
        facility_id=facility.id,
        start=hearing.scheduled_start.isoformat(),
        end=hearing.scheduled_end.isoformat(),
    )
    return hearing


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def court_day(raw: str | None, tz: ZoneInfo, now: datetime | None = None) -> date:
    """The local day a docket asks for: YYYY-MM-DD, or today at the court."""
    if not raw:
        return (now or utcnow()).astimezone(tz).date()
    try:
        # fromisoformat alone also takes 20261123 and 2026-W48-1.
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("The day must look like 2026-11-23.", field="day") from None
    return within_calendar(day, field="day", label="The day")


@dataclasses.dataclass(frozen=True)
class OperatorScope:
    """The operator's docket (the CLI): every courtroom, or only one."""

    courtroom_id: int | None = None


# Whose hearings a docket shows: a staff member's by role, a device's own
# site's, or the operator's.
DocketScope = StaffUser | Endpoint | OperatorScope


def _staff_scope(user: StaffUser) -> list[ColumnElement[bool]]:
    if user.role is Role.JUDGE:
        return [Hearing.courtroom_id == user.courtroom_id]
    if user.role is Role.CUSTODY_OFFICER:
        return [Hearing.facility_id == user.facility_id]
    if user.role is Role.CLERK:
        return []
    raise PermissionDenied()


def _scope(scope: DocketScope) -> list[ColumnElement[bool]]:
    if isinstance(scope, StaffUser):
        return _staff_scope(scope)
    if isinstance(scope, Endpoint):
        # The same rule as devices.check_site, for a whole day.
        if scope.kind.at_courtroom:
            return [Hearing.courtroom_id == scope.courtroom_id]
        return [Hearing.facility_id == scope.facility_id]
    return [] if scope.courtroom_id is None else [Hearing.courtroom_id == scope.courtroom_id]


def day_docket(db: Session, day: date, tz: ZoneInfo, *, scope: DocketScope) -> list[Hearing]:
    """The hearings that start on one local day and that `scope` may see, in time order."""
    start, end = local_day_bounds(day, tz)
    query = (
        select(Hearing)
        .where(Hearing.scheduled_start >= start, Hearing.scheduled_start < end, *_scope(scope))
        .order_by(Hearing.scheduled_start, Hearing.id)
    )
    return list(db.scalars(query))


def visible_hearing(db: Session, user: StaffUser, hearing_id: int) -> Hearing:
    hearing = db.scalar(select(Hearing).where(Hearing.id == hearing_id))
    if hearing is None:
        raise HearingNotFound()
    if db.scalar(select(Hearing.id).where(Hearing.id == hearing_id, *_staff_scope(user))) is None:
        raise PermissionDenied("This hearing is not in your courtroom or custody facility.")
    return hearing
