from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hearing.db.models import Court, Hearing
from hearing.services import Services
from tests.conftest import Court_


def test_times_come_back_utc_and_aware(services: Services, court: Court_) -> None:
    copenhagen = timezone(timedelta(hours=1))
    moment = datetime(2026, 11, 23, 10, 30, tzinfo=copenhagen)

    def write(db):
        hearing = db.get(Hearing, court.hearing_a)
        hearing.scheduled_start = moment
        hearing.scheduled_end = moment + timedelta(hours=1)

    services.unit_of_work(write)
    loaded = services.unit_of_work(lambda db: db.get(Hearing, court.hearing_a).scheduled_start)
    assert loaded == moment
    assert loaded.tzinfo is not None and loaded.utcoffset() == timedelta(0)


def test_naive_times_are_refused(services: Services, court: Court_) -> None:
    def write(db):
        db.get(Hearing, court.hearing_a).updated_at = datetime(2026, 1, 1, 12, 0)
        db.flush()

    with pytest.raises(Exception, match="naive datetime"):
        services.unit_of_work(write)


def test_a_failed_unit_of_work_changes_nothing(services: Services, court: Court_) -> None:
    def half(db):
        db.add(Court(name="Half Court"))
        db.flush()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        services.unit_of_work(half)
    assert services.unit_of_work(lambda db: db.scalar(select(Court).where(Court.name == "Half Court"))) is None
