"""presiding.seat_added / seat_removed before any floor is stored (issue 12,
pages): a live hearing's floor in memory was made from the docket at
version 0, so the change is stored as a version of its own."""

from __future__ import annotations

from typing import Any

from hearing.db.models import FloorRecord, Hearing, Participant
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection, ParticipantRole
from hearing.services import Services
from hearing.speaker_order import presiding
from tests.conftest import Court_, open_hearing


def add_interpreter(db: Any, hearing: Hearing) -> str:
    party = Participant(
        hearing=hearing, role=ParticipantRole.INTERPRETER, display_name="I", connection=Connection.REMOTE
    )
    db.add(party)
    db.flush()
    return f"interpreter-{party.id}"


def test_a_live_hearing_without_a_stored_floor_stores_the_change_as_version_one(
    services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a, HearingState.IN_SESSION)

    def add(db: Any) -> tuple[str, Any]:
        hearing = db.get_one(Hearing, court.hearing_a)
        seat = add_interpreter(db, hearing)
        return seat, presiding.seat_added(db, hearing, seat)

    seat, floor = services.unit_of_work(add)
    assert floor is not None and floor.version == 1
    assert seat in floor.seat_roles and seat not in floor.admitted
    stored = services.unit_of_work(lambda db: presiding.current(db, db.get_one(Hearing, court.hearing_a)))
    assert stored == floor

    def remove(db: Any) -> Any:
        hearing = db.get_one(Hearing, court.hearing_a)
        party = next(p for p in hearing.participants if p.role is ParticipantRole.INTERPRETER)
        hearing.participants.remove(party)
        db.delete(party)
        db.flush()
        return presiding.seat_removed(db, hearing, seat)

    after = services.unit_of_work(remove)
    assert after is not None and after.version == 2 and seat not in after.seat_roles


def test_a_hearing_not_in_progress_stores_nothing(services: Services, court: Court_) -> None:
    def add(db: Any) -> tuple[Any, Any]:
        hearing = db.get_one(Hearing, court.hearing_a)
        return presiding.seat_added(db, hearing, add_interpreter(db, hearing)), db.get(FloorRecord, hearing.id)

    floor, record = services.unit_of_work(add)
    assert floor is None and record is None  # the first floor is made from the docket when it opens
