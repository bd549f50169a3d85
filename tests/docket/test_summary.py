"""One hearing serialiser: court-local aware times, ISO strings for JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from hearing.db.models import Hearing
from hearing.docket.summary import HearingSummary, jsonable, summarise
from hearing.services import Services
from tests.conftest import Court_, add_hearing

CPH = ZoneInfo("Europe/Copenhagen")


def summary_of(services: Services, hearing_id: int, tz: ZoneInfo) -> tuple[HearingSummary, Hearing]:
    def load(db: Session) -> tuple[HearingSummary, Hearing]:
        hearing = db.get_one(Hearing, hearing_id)
        return summarise(hearing, tz), hearing

    return services.unit_of_work(load)


def test_a_summary_is_the_hearing_in_the_courts_time(services: Services, court: Court_) -> None:
    start = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)  # summer: 09:30 in Copenhagen

    def add(db: Session) -> int:
        hearing_id = add_hearing(db, court.courtroom_b, court.facility_a, start, case="SS 7-1/2026")
        db.get_one(Hearing, hearing_id).interpreter_language = "Polish"
        return hearing_id

    summary, hearing = summary_of(services, services.unit_of_work(add), CPH)
    assert summary == {
        "id": hearing.id,
        "case_number": "SS 7-1/2026",
        "kind": "remand_extension",
        "state": "scheduled",
        "start": start,
        "end": start + timedelta(minutes=30),
        "court": "Test Court",
        "courtroom": "Room B",
        "facility": "Facility A",
        "detainee": "Test Detainee",
        "detainee_reference": "REF-1",
        "interpreter_language": "Polish",
    }
    assert summary["start"].tzinfo is CPH and f"{summary['start']:%H:%M}" == "09:30"
    assert f"{summary['end']:%H:%M}" == "10:00"
    other, _ = summary_of(services, hearing.id, ZoneInfo("America/Nuuk"))
    assert other["start"] == start and other["start"].utcoffset() != summary["start"].utcoffset()


def test_a_summary_without_an_interpreter(services: Services, court: Court_) -> None:
    summary, _ = summary_of(services, court.hearing_a, CPH)
    assert summary["interpreter_language"] is None and summary["courtroom"] == "Room A"


def test_jsonable_writes_times_as_iso_strings() -> None:
    winter = datetime(2026, 12, 1, 9, 30, 15, 250000, tzinfo=CPH)
    record = {"id": 7, "start": winter, "name": "SS 1-9/2026", "language": None}
    assert jsonable(record) == {
        "id": 7,
        "start": "2026-12-01T09:30:15.250000+01:00",
        "name": "SS 1-9/2026",
        "language": None,
    }
    assert jsonable(record, UTC)["start"] == "2026-12-01T08:30:15.250000+00:00"
    assert record["start"] is winter  # the record itself is left as it was


def test_jsonable_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="start"):
        jsonable({"start": datetime(2026, 12, 1, 9, 30)})
