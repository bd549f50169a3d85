"""The auditor's pages: unknown hearings are refused before anything is
written, refusals land in their hearing's trail, and the system's own events
have a view of their own."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from hearing.actors import SYSTEM
from hearing.audit import retention
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.db.models import AuditEntry, AuditKey
from hearing.docket.lifecycle import HearingState
from hearing.services import Services
from tests.conftest import Court_, csrf_token, logged, login_as, open_hearing

JSON = {"Accept": "application/json"}


def counts(services: Services) -> tuple[int | None, int | None]:
    """(audit entries, data keys): what a refusal must leave as it was."""

    def count(db: Session) -> tuple[int | None, int | None]:
        query = select(func.count())
        return db.scalar(query.select_from(AuditEntry)), db.scalar(query.select_from(AuditKey))

    return services.unit_of_work(count)


def test_the_audit_page_of_an_unknown_hearing_is_refused_before_anything_is_written(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["auditor"])
    before = counts(services)
    response = client.get("/audit/hearings/999999", headers=JSON)
    assert response.status_code == 404 and response.json()["error"] == "hearing_not_found"
    page = client.get("/audit/hearings/999999")
    assert page.status_code == 404 and "hearing_not_found" in page.text
    # No entry, no data key, and so no "hearing 999999" in the index.
    assert counts(services) == before
    index = client.get("/audit")
    assert index.status_code == 200 and "/audit/hearings/999999" not in index.text


def test_the_log_of_a_deleted_hearing_stays_readable(client: TestClient, services: Services, court: Court_) -> None:
    # The log outlives what it describes: entries under an id with no hearing row.
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.HEARING_OPENED, hearing_id=4242))
    login_as(client, services, court.users["auditor"])
    response = client.get("/audit/hearings/4242")
    assert response.status_code == 200
    assert [(e.action, e.hearing_id) for e in logged(services)][-1] == ("audit.read", 4242)


def test_a_refusal_on_a_hearing_is_in_that_hearings_trail(
    client: TestClient, services: Services, court: Court_
) -> None:
    # The judge of room A tries to open room B's hearing.
    login_as(client, services, court.users["judge"])
    token = csrf_token(client)
    refused = client.post(f"/hearings/{court.hearing_b}/transition", data={"action": "open", "csrf_token": token})
    assert refused.status_code == 403
    denied = logged(services)[-1]
    assert (denied.action, denied.hearing_id) == ("access.denied", court.hearing_b)
    client.cookies.clear()
    login_as(client, services, court.users["auditor"])
    page = client.get(f"/audit/hearings/{court.hearing_b}")
    assert page.status_code == 200
    assert f"Judge (judge) was refused POST /hearings/{court.hearing_b}/transition" in page.text


def test_a_refusal_on_a_shredded_hearing_is_a_system_entry(
    client: TestClient, services: Services, court: Court_
) -> None:
    hearing = court.hearing_a
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.HEARING_OPENED, hearing_id=hearing))
    open_hearing(services, hearing, HearingState.CLOSED)
    services.unit_of_work(lambda db: retention.shred(db, SYSTEM, hearing))
    login_as(client, services, court.users["auditor"])
    assert client.get(f"/hearings/{hearing}").status_code == 403
    denied = logged(services)[-1]
    # Nothing can be encrypted under the destroyed key; the payload still names the hearing.
    assert (denied.action, denied.hearing_id, (denied.payload or {})["target_hearing"]) == (
        "access.denied",
        None,
        hearing,
    )
