"""The day's docket: one query for staff, devices and the operator."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.db.models import Endpoint, StaffUser
from hearing.docket import booking
from hearing.docket.booking import DocketScope, OperatorScope
from hearing.docket.parties import EndpointKind
from hearing.errors import InvalidInput, PermissionDenied
from hearing.services import Services
from tests.conftest import Court_, add_hearing, enroll_device

CPH = ZoneInfo("Europe/Copenhagen")
# Summer time ends that night: the court's day has 25 hours.
DAY = date(2030, 10, 27)


def local(day: int, hour: int, minute: int) -> datetime:
    return datetime(2030, 10, day, hour, minute, tzinfo=CPH)


@pytest.fixture
def day_of_hearings(services: Services, court: Court_) -> None:
    """Hearings around DAY, added out of time order (case, courtroom, facility, start)."""
    a, b = (court.courtroom_a, court.facility_a), (court.courtroom_b, court.facility_b)
    plan = [
        ("late", a[0], a[1], local(27, 23, 30)),  # in the 25th hour
        ("after", a[0], a[1], local(28, 0, 30)),
        ("a-b-9", a[0], b[1], local(27, 9, 0)),
        ("before", a[0], a[1], local(26, 23, 30)),
        ("b-a-9", b[0], a[1], local(27, 9, 0)),  # same time as a-b-9, added later
        ("early", b[0], b[1], local(27, 0, 30)),  # still the 26th in UTC
        ("b-a-8", b[0], a[1], local(27, 8, 0)),
    ]

    def add(db: Session) -> None:
        for case, room, facility, start in plan:
            add_hearing(db, room, facility, start.astimezone(UTC), case=case)

    services.unit_of_work(add)


def docket(services: Services, scope: DocketScope | str, day: date = DAY) -> list[str]:
    def load(db: Session) -> list[str]:
        who: DocketScope
        if isinstance(scope, str):
            who = db.scalar(select(StaffUser).where(StaffUser.username == scope)) or db.scalar(
                select(Endpoint).where(Endpoint.name == scope)
            )
            assert who is not None, scope
        else:
            who = scope
        return [h.case_number for h in booking.day_docket(db, day, CPH, scope=who)]

    return services.unit_of_work(load)


EVERYTHING = ["early", "b-a-8", "a-b-9", "b-a-9", "late"]


@pytest.mark.usefixtures("day_of_hearings")
def test_each_staff_role_sees_its_own_hearings(services: Services) -> None:
    assert docket(services, "clerk") == EVERYTHING
    assert docket(services, "judge") == ["a-b-9", "late"]  # own courtroom
    assert docket(services, "custody-officer") == ["b-a-8", "b-a-9", "late"]  # own facility
    for role in ("auditor", "admin"):
        with pytest.raises(PermissionDenied):
            docket(services, role)


@pytest.mark.usefixtures("day_of_hearings")
def test_a_device_sees_its_own_sites_hearings(services: Services) -> None:
    enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A")
    enroll_device(services, "rig-b", EndpointKind.COURTROOM, "Room B")
    enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    assert docket(services, "rig-a") == docket(services, "judge") == ["a-b-9", "late"]
    assert docket(services, "rig-b") == ["early", "b-a-8", "b-a-9"]
    assert docket(services, "kiosk-a") == docket(services, "custody-officer")


@pytest.mark.usefixtures("day_of_hearings")
def test_the_operator_sees_every_courtroom_or_one(services: Services, court: Court_) -> None:
    assert docket(services, OperatorScope()) == EVERYTHING
    assert docket(services, OperatorScope(courtroom_id=court.courtroom_b)) == ["early", "b-a-8", "b-a-9"]
    assert docket(services, OperatorScope(courtroom_id=court.courtroom_a)) == ["a-b-9", "late"]


@pytest.mark.usefixtures("day_of_hearings")
def test_a_day_is_the_courts_local_day(services: Services) -> None:
    assert docket(services, OperatorScope(), date(2030, 10, 26)) == ["before"]
    assert docket(services, OperatorScope(), date(2030, 10, 28)) == ["after"]
    assert docket(services, OperatorScope(), date(2030, 10, 29)) == []


def test_court_day_parses_one_form_only() -> None:
    assert booking.court_day("2026-11-23", CPH) == date(2026, 11, 23)
    # Today is the court's today: 23:30 UTC is already tomorrow in Copenhagen.
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert booking.court_day(None, CPH, now=late) == date(2026, 11, 23)
    assert booking.court_day("", CPH, now=late) == date(2026, 11, 23)
    assert booking.court_day(None, ZoneInfo("UTC"), now=late) == date(2026, 11, 22)


@pytest.mark.parametrize(
    "raw",
    ["2026-13-01", "2026-02-30", "yesterday", "2026-1-1", "20261123", "2026-W48-1", "2026-11-23\n", " 2026-11-23",
     "２０２６-11-23", "x" * 300],
)  # fmt: skip
def test_court_day_refuses_anything_else(raw: str) -> None:
    with pytest.raises(InvalidInput) as info:
        booking.court_day(raw, CPH)
    assert info.value.field == "day" and "2026-11-23" in info.value.message


@pytest.mark.parametrize(
    "raw",
    ["2030-10-27T09:30", "2030-10-27 09:30", "2030-10-27T09:30:15", "2030-10-27T09:30:15.250", "2030-10-27T09:30Z"],
)
def test_a_start_is_read_in_the_forms_a_browser_or_an_operator_sends(raw: str) -> None:
    request = booking.BookingRequest.from_fields(
        {
            "case_number": "SS 1-1/2030",
            "start": raw,
            "minutes": "30",
            "courtroom_id": "1",
            "facility_id": "1",
            "detainee_name": "Jens Hansen",
            "detainee_reference": "R-1",
        },
        CPH,
    )
    assert request.start.astimezone(CPH).strftime("%Y-%m-%d %H:%M") in ("2030-10-27 09:30", "2030-10-27 10:30")
