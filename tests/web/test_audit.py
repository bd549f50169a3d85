"""The auditor's pages: unknown hearings are refused before anything is
written, refusals land in their hearing's trail, and the system's own events
have a view of their own."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from hearing.actors import SYSTEM
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.db.models import AuditEntry, AuditKey
from hearing.services import Services
from tests.conftest import Court_, logged, login_as

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
