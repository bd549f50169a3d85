"""When a hearing may be opened, through the service, on both databases."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.auth.roles import Role
from hearing.db.models import Hearing, StaffUser
from hearing.docket import proceedings
from hearing.docket.lifecycle import HearingState, Transition
from hearing.errors import CourtroomBusy, TooEarly
from hearing.services import Services
from tests.conftest import Court_, _add_user, add_hearing, logged, open_hearing
from tests.waiting import wait_until

S, T = HearingState, Transition


def judge_actor(court: Court_) -> Actor:
    return Actor("user", court.users["judge"], "judge")


def move(
    services: Services, court: Court_, hearing_id: int, transition: Transition, now: datetime, judge: int | None = None
) -> Hearing:
    user_id = court.users["judge"] if judge is None else judge

    def work(db: Session) -> Hearing:
        user = db.get_one(StaffUser, user_id)
        return proceedings.transition(db, user, Actor("user", user_id, "judge"), hearing_id, transition, now)

    return services.unit_of_work(work)


def snapshot(services: Services, hearing_id: int) -> tuple[HearingState, datetime, int]:
    """What a refusal must leave as it was: the state, the row and the log."""
    row = services.unit_of_work(lambda db: db.get_one(Hearing, hearing_id))
    return row.state, row.updated_at, len(logged(services))


def start_of(services: Services, hearing_id: int) -> datetime:
    return services.unit_of_work(lambda db: db.get_one(Hearing, hearing_id).scheduled_start)


def second_hearing(services: Services, court: Court_, start: datetime) -> int:
    """Another hearing in the judge's courtroom (room A)."""
    case = "SS 1-300/2026"
    return services.unit_of_work(lambda db: add_hearing(db, court.courtroom_a, court.facility_a, start, case))


def test_opening_just_inside_the_window_is_allowed(services: Services, court: Court_) -> None:
    start = start_of(services, court.hearing_a)
    opened = move(services, court, court.hearing_a, T.OPEN, start - timedelta(minutes=30))
    assert opened.state is S.OPEN
    assert logged(services)[-1].action == "hearing.opened"


def test_opening_just_outside_the_window_is_too_early_and_changes_nothing(services: Services, court: Court_) -> None:
    start = start_of(services, court.hearing_a)
    before = snapshot(services, court.hearing_a)
    with pytest.raises(TooEarly) as info:
        move(services, court, court.hearing_a, T.OPEN, start - timedelta(minutes=30, seconds=1))
    assert info.value.code == "too_early" and info.value.opens_at == start - timedelta(minutes=30)
    local = (start - timedelta(minutes=30)).astimezone(services.settings.timezone)
    assert f"{local:%Y-%m-%d %H:%M} (Europe/Copenhagen)" in info.value.message
    assert snapshot(services, court.hearing_a) == before


def test_a_hearing_that_runs_late_can_still_be_opened(services: Services, court: Court_) -> None:
    row = services.unit_of_work(lambda db: db.get_one(Hearing, court.hearing_a))
    assert move(services, court, court.hearing_a, T.OPEN, row.scheduled_end + timedelta(hours=2)).state is S.OPEN


def test_the_window_is_the_courts_setting(services: Services, court: Court_) -> None:
    strict = Services.from_settings(services.settings.replace(open_early_minutes=0))
    try:
        start = start_of(strict, court.hearing_a)
        with pytest.raises(TooEarly, match="from its start"):
            move(strict, court, court.hearing_a, T.OPEN, start - timedelta(seconds=1))
        assert move(strict, court, court.hearing_a, T.OPEN, start).state is S.OPEN
    finally:
        strict.close()


def test_converting_to_physical_is_never_too_early(services: Services, court: Court_) -> None:
    start = start_of(services, court.hearing_a)
    moved = move(services, court, court.hearing_a, T.CONVERT_TO_PHYSICAL, start - timedelta(days=3))
    assert moved.state is S.CONVERTED_TO_PHYSICAL


@pytest.mark.parametrize("live", [S.OPEN, S.IN_SESSION, S.PAUSED, S.CONSULTATION])
def test_a_courtroom_holds_one_live_hearing(services: Services, court: Court_, live: HearingState) -> None:
    open_hearing(services, court.hearing_a, live)
    start = start_of(services, court.hearing_a)
    other = second_hearing(services, court, start + timedelta(minutes=40))
    before = snapshot(services, other)
    with pytest.raises(CourtroomBusy) as info:
        move(services, court, other, T.OPEN, start + timedelta(minutes=35))
    assert info.value.code == "courtroom_busy" and info.value.status == 409
    assert info.value.case_number == "SS 1-100/2026"
    assert "Room A already has a live hearing, SS 1-100/2026" in info.value.message
    assert live.value.replace("_", " ") in info.value.message
    assert snapshot(services, other) == before
    assert services.unit_of_work(lambda db: db.get_one(Hearing, court.hearing_a).state) is live


def test_the_next_hearing_opens_once_the_first_has_ended(services: Services, court: Court_) -> None:
    start = start_of(services, court.hearing_a)
    other = second_hearing(services, court, start + timedelta(minutes=40))
    move(services, court, court.hearing_a, T.OPEN, start)
    with pytest.raises(CourtroomBusy):
        move(services, court, other, T.OPEN, start + timedelta(minutes=20))
    move(services, court, court.hearing_a, T.ADJOURN, start + timedelta(minutes=25))
    assert move(services, court, other, T.OPEN, start + timedelta(minutes=26)).state is S.OPEN


def test_another_courtroom_is_not_affected(services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_a, S.IN_SESSION)
    judge_b = services.unit_of_work(
        lambda db: _add_user(db, services.keys, "judge-b", Role.JUDGE, court.courtroom_b, court.facility_b)[0]
    )
    start = start_of(services, court.hearing_b)
    assert move(services, court, court.hearing_b, T.OPEN, start, judge=judge_b).state is S.OPEN


def test_converting_to_physical_is_not_blocked_by_a_busy_courtroom(services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_a, S.IN_SESSION)
    start = start_of(services, court.hearing_a)
    other = second_hearing(services, court, start + timedelta(minutes=40))
    assert move(services, court, other, T.CONVERT_TO_PHYSICAL, start).state is S.CONVERTED_TO_PHYSICAL
    # ...nor the live hearing itself.
    assert move(services, court, court.hearing_a, T.CONVERT_TO_PHYSICAL, start).state is S.CONVERTED_TO_PHYSICAL


def test_two_hearings_opened_at_once_cannot_both_go_live(services: Services, court: Court_) -> None:
    """The courtroom row is locked: the second opening waits for the first to
    commit, then sees it (PostgreSQL; SQLite's writers queue at BEGIN)."""
    start = start_of(services, court.hearing_a)
    other = second_hearing(services, court, start + timedelta(minutes=40))
    now = start + timedelta(minutes=15)
    outcome: list[BaseException | Hearing] = []

    def second() -> None:
        try:
            outcome.append(move(services, court, other, T.OPEN, now))
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    with services.sessions() as db, db.begin():
        judge = db.get_one(StaffUser, court.users["judge"])
        proceedings.transition(db, judge, judge_actor(court), court.hearing_a, T.OPEN, now)
        thread = threading.Thread(target=second)
        thread.start()
        wait_until_blocked(services, thread)
        # The first opening commits here, with the second still waiting.
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], CourtroomBusy), outcome
    states = services.unit_of_work(lambda db: [db.get_one(Hearing, h).state for h in (court.hearing_a, other)])
    assert states == [S.OPEN, S.SCHEDULED]


def wait_until_blocked(services: Services, thread: threading.Thread) -> None:
    if services.engine.dialect.name != "postgresql":
        # SQLite: the second writer waits at BEGIN IMMEDIATE, which nothing
        # outside can observe; give it the time to get there.
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second opening did not wait for the first"
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )

    def blocked() -> bool:
        assert thread.is_alive(), "the second opening did not wait for the first"
        with services.engine.connect() as conn:
            return bool(conn.execute(waiting).scalar_one() > 0)

    wait_until(blocked, describe=lambda: "the second opening never waited on a lock")
