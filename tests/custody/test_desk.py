"""The custody desk's services: the officer's day, check-in and the hearing
room, scoped to the officer's own facility and audited in the same
transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.auth.roles import Role
from hearing.custody import desk
from hearing.custody.checkin import CheckInForm, CheckInStatus
from hearing.db.models import CheckIn, Endpoint, Hearing, StaffUser, TestCall
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import EndpointKind
from hearing.errors import HearingEnded, HearingNotFound, NoRoomAssigned, PermissionDenied, UnknownRoom
from hearing.services import Services
from tests.conftest import Court_, _add_user, enroll_device, logged, open_hearing

CPH = ZoneInfo("Europe/Copenhagen")
READY = CheckInForm(True, True, CheckInStatus.READY, "Ønsker tolk.")


def officer_actor(court: Court_) -> Actor:
    return Actor("user", court.users["custody_officer"], "custody_officer")


def officer_b(services: Services, court: Court_) -> int:
    """A custody officer at facility B."""
    return services.unit_of_work(
        lambda db: _add_user(db, services.keys, "officer-b", Role.CUSTODY_OFFICER, None, court.facility_b)[0]
    )


def as_officer(services: Services, user_id: int, work):  # type: ignore[no-untyped-def]
    return services.unit_of_work(lambda db: work(db, db.get_one(StaffUser, user_id)))


def test_the_day_is_the_officers_facility_with_rooms_check_in_and_newest_test_call(
    services: Services, court: Court_
) -> None:
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    enroll_device(services, "kiosk-a2", EndpointKind.CUSTODY, "Facility A")
    enroll_device(services, "kiosk-b", EndpointKind.CUSTODY, "Facility B")
    enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A")
    enroll_device(services, "kiosk-gone", EndpointKind.CUSTODY, "Facility A")
    now = datetime.now(UTC)

    def arrange(db: Session) -> None:
        db.scalars(select(Endpoint).where(Endpoint.name == "kiosk-gone")).one().revoked_at = now
        old, new = now - timedelta(hours=2), now - timedelta(minutes=5)
        db.add(TestCall(endpoint_id=kiosk, at=old, grade="bad", figures="{}"))
        db.add(TestCall(endpoint_id=kiosk, at=new, grade="good", figures="{}"))

    services.unit_of_work(arrange)
    officer = court.users["custody_officer"]
    as_officer(services, officer, lambda db, o: desk.assign_room(db, o, officer_actor(court), court.hearing_a, kiosk))
    as_officer(
        services, officer, lambda db, o: desk.check_in(db, o, officer_actor(court), court.hearing_a, READY, now, CPH)
    )

    day = as_officer(services, officer, lambda db, o: desk.officer_day(db, o, now.astimezone(CPH).date(), CPH))
    assert [r.name for r in day.rooms] == ["kiosk-a", "kiosk-a2"]  # not B's, not the rig, not the revoked
    assert [h.summary["id"] for h in day.hearings] == [court.hearing_a]  # not B's hearing
    (only,) = day.hearings
    assert only.room == desk.Room(kiosk, "kiosk-a")
    assert only.test_call is not None and only.test_call["grade"] == "good"
    assert only.check_in is not None
    assert only.check_in["status"] == "ready" and only.check_in["officer"] == "Custody-Officer"
    assert only.check_in["note"] == "Ønsker tolk."
    assert datetime.fromisoformat(only.check_in["at"]).utcoffset() == now.astimezone(CPH).utcoffset()


def test_check_in_upserts_and_audits_each_change_with_the_officers_word(services: Services, court: Court_) -> None:
    officer = court.users["custody_officer"]
    actor = officer_actor(court)
    now = datetime.now(UTC)
    first = CheckInForm(False, False, CheckInStatus.IN_ROOM, "")
    as_officer(services, officer, lambda db, o: desk.check_in(db, o, actor, court.hearing_a, first, now, CPH))
    view = as_officer(services, officer, lambda db, o: desk.check_in(db, o, actor, court.hearing_a, READY, now, CPH))
    assert view["status"] == "ready" and view["name_confirmed"] and view["reference_confirmed"]
    rows = services.unit_of_work(lambda db: [(c.status, c.note) for c in db.scalars(select(CheckIn))])
    assert rows == [("ready", "Ønsker tolk.")]
    entries = [e for e in logged(services) if e.action == "custody.checked_in"]
    assert [(e.hearing_id, e.actor_id, e.payload) for e in entries] == [
        (
            court.hearing_a,
            officer,
            {"status": "in_room", "name_confirmed": False, "reference_confirmed": False, "note": ""},
        ),
        (
            court.hearing_a,
            officer,
            {"status": "ready", "name_confirmed": True, "reference_confirmed": True, "note": "Ønsker tolk."},
        ),
    ]


def test_another_facilitys_officer_reaches_nothing_and_changes_nothing(services: Services, court: Court_) -> None:
    kiosk_a = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    other = officer_b(services, court)
    actor = Actor("user", other, "custody_officer")
    now = datetime.now(UTC)
    before = len(logged(services))
    for work in (
        lambda db, o: desk.check_in(db, o, actor, court.hearing_a, READY, now, CPH),
        lambda db, o: desk.assign_room(db, o, actor, court.hearing_a, kiosk_a),
        lambda db, o: desk.assign_room(db, o, actor, court.hearing_a, None),
        lambda db, o: desk.assigned_room(db, o, court.hearing_a),
    ):
        with pytest.raises(PermissionDenied):
            as_officer(services, other, work)
    assert len(logged(services)) == before
    assert services.unit_of_work(lambda db: db.scalars(select(CheckIn)).all()) == []
    assert services.unit_of_work(lambda db: db.get_one(Hearing, court.hearing_a).custody_endpoint_id) is None
    # B's officer sees B's day and B's rooms only.
    day = as_officer(services, other, lambda db, o: desk.officer_day(db, o, now.astimezone(CPH).date(), CPH))
    assert [h.summary["id"] for h in day.hearings] == [court.hearing_b] and day.rooms == ()


@pytest.mark.parametrize("role", ["judge", "clerk", "auditor", "admin"])
def test_only_a_custody_officer_keeps_the_desk(services: Services, court: Court_, role: str) -> None:
    user = court.users[role]
    actor = Actor("user", user, role)
    with pytest.raises(PermissionDenied):
        as_officer(services, user, lambda db, o: desk.officer_day(db, o, datetime.now(UTC).date(), CPH))
    with pytest.raises(PermissionDenied):
        as_officer(
            services, user, lambda db, o: desk.check_in(db, o, actor, court.hearing_a, READY, datetime.now(UTC), CPH)
        )


def test_the_room_is_a_standing_custody_endpoint_of_the_hearings_facility(services: Services, court: Court_) -> None:
    officer = court.users["custody_officer"]
    actor = officer_actor(court)
    kiosk_b = enroll_device(services, "kiosk-b", EndpointKind.CUSTODY, "Facility B").endpoint_id
    rig = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").endpoint_id
    gone = enroll_device(services, "kiosk-gone", EndpointKind.CUSTODY, "Facility A").endpoint_id
    services.unit_of_work(lambda db: setattr(db.get_one(Endpoint, gone), "revoked_at", datetime.now(UTC)))
    before = len(logged(services))
    for endpoint_id in (kiosk_b, rig, gone, 999_999):
        with pytest.raises(UnknownRoom) as refused:
            as_officer(
                services, officer, lambda db, o, e=endpoint_id: desk.assign_room(db, o, actor, court.hearing_a, e)
            )
        assert refused.value.code == "unknown_room"
    assert len(logged(services)) == before

    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    assert as_officer(
        services, officer, lambda db, o: desk.assign_room(db, o, actor, court.hearing_a, kiosk)
    ) == desk.Room(kiosk, "kiosk-a")
    assert as_officer(services, officer, lambda db, o: desk.assigned_room(db, o, court.hearing_a)) == (
        kiosk,
        HearingState.SCHEDULED,
    )
    assert as_officer(services, officer, lambda db, o: desk.assign_room(db, o, actor, court.hearing_a, None)) is None
    entries = [e for e in logged(services) if e.action == "custody.room_assigned"]
    assert [e.payload for e in entries] == [
        {"endpoint_id": kiosk, "name": "kiosk-a"},
        {"endpoint_id": None, "name": None},
    ]
    with pytest.raises(NoRoomAssigned):
        as_officer(services, officer, lambda db, o: desk.assigned_room(db, o, court.hearing_a))


def test_nothing_changes_for_an_unknown_or_ended_hearing(services: Services, court: Court_) -> None:
    officer = court.users["custody_officer"]
    actor = officer_actor(court)
    now = datetime.now(UTC)
    with pytest.raises(HearingNotFound):
        as_officer(services, officer, lambda db, o: desk.check_in(db, o, actor, 999_999, READY, now, CPH))
    open_hearing(services, court.hearing_a, HearingState.CLOSED)
    before = len(logged(services))
    with pytest.raises(HearingEnded):
        as_officer(services, officer, lambda db, o: desk.check_in(db, o, actor, court.hearing_a, READY, now, CPH))
    with pytest.raises(HearingEnded):
        as_officer(services, officer, lambda db, o: desk.assign_room(db, o, actor, court.hearing_a, None))
    with pytest.raises(HearingEnded):
        as_officer(services, officer, lambda db, o: desk.assigned_room(db, o, court.hearing_a))
    assert len(logged(services)) == before
    assert services.unit_of_work(lambda db: db.scalars(select(CheckIn)).all()) == []
