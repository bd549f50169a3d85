"""The auditor's pages: unknown hearings are refused before anything is
written, refusals land in their hearing's trail, and the system's own events
have a view of their own."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from hearing.actors import ANONYMOUS, SYSTEM, Actor
from hearing.audit import retention
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.db.models import AuditEntry, AuditKey
from hearing.docket.lifecycle import HearingState
from hearing.services import Services
from hearing.web.routing import CookieNames
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


def system_events(services: Services, court: Court_) -> None:
    """What an auditor looks for: failed sign-ins, a lockout, a refusal."""
    judge = Actor("user", court.users["judge"], "judge")

    def write(db: Session) -> None:
        append(db, ANONYMOUS, Action.USER_SIGN_IN_FAILED, username="mallory", reason="unknown_user")
        for _ in range(3):
            append(db, judge, Action.USER_SIGN_IN_FAILED, username="judge", reason="totp")
        append(db, judge, Action.USER_LOCKED, until="2026-12-01T08:45:00+00:00")

    services.unit_of_work(write)


MALLORY = "Someone not signed in failed to sign in as mallory (no such user)"


def sentences_on(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", item).strip() for item in re.findall(r"</time>(.*?)</li>", page, re.S)]


def test_the_auditor_reads_the_system_events_filtered_in_both_languages(
    client: TestClient, services: Services, court: Court_
) -> None:
    system_events(services, court)
    login_as(client, services, court.users["auditor"])
    assert client.get("/hearings").status_code == 403  # a refusal with no hearing: a system entry
    index = client.get("/audit")
    assert 'href="/audit/system"' in index.text
    everything = client.get("/audit/system")
    assert everything.status_code == 200
    said = sentences_on(everything.text)
    # Newest first: the refusal, the auditor's sign-in, the lockout, the failed sign-ins.
    assert said[:3] == [
        "Auditor (auditor) was refused GET /hearings",
        "Auditor (auditor) signed in",
        "Judge (judge) was locked out until 1 December 2026, 09:45",
    ]
    assert said[3:7] == [*["Judge (judge) failed to sign in as judge (wrong authenticator code)"] * 3, MALLORY]

    failures = client.get("/audit/system", params={"action": "user.sign_in_failed", "actor": "judge"})
    assert sentences_on(failures.text) == ["Judge (judge) failed to sign in as judge (wrong authenticator code)"] * 3
    anonymous = client.get("/audit/system", params={"actor": "anonymous"})
    assert len(sentences_on(anonymous.text)) == 1 and "mallory" in sentences_on(anonymous.text)[0]
    today = datetime.now(services.settings.timezone).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    assert client.get("/audit/system", params={"until": yesterday}).text.count("<time") == 0
    shown = client.get("/audit/system").text.count("<time")
    # Today is everything, and the reading just made too.
    assert (
        client.get("/audit/system", params={"since": today.isoformat(), "until": today.isoformat()}).text.count("<time")
        == shown + 1
    )

    client.cookies.set(CookieNames.for_scheme(True).language, "da")
    danish = client.get("/audit/system", params={"action": "user.locked"})
    assert '<html lang="da"' in danish.text and "Systemhændelser" in danish.text
    assert sentences_on(danish.text) == ["Judge (dommer) blev spærret for login indtil 1. december 2026 kl. 09.45"]

    # Every reading is itself in the log, with the filters it used.
    readings = [e for e in logged(services) if e.action == "audit.system_read"]
    assert [(e.hearing_id, e.actor_id) for e in readings] == [(None, court.users["auditor"])] * 7
    assert readings[0].payload == {"entries": len(said), "filters": {}}
    assert readings[1].payload == {"entries": 3, "filters": {"action": "user.sign_in_failed", "actor": "judge"}}
    assert readings[-1].payload == {"entries": 1, "filters": {"action": "user.locked"}}


def test_the_system_events_come_a_bounded_page_at_a_time(client: TestClient, services: Services, court: Court_) -> None:
    services.unit_of_work(
        lambda db: [append(db, SYSTEM, Action.USER_SIGNED_OUT, session_id=n) for n in range(1, 8)] and None
    )
    login_as(client, services, court.users["auditor"])
    seen: list[str] = []
    url: str | None = "/audit/system?action=user.signed_out&limit=3"
    pages = 0
    while url is not None:
        page = client.get(url)
        assert page.status_code == 200
        items = re.findall(r'<li value="(\d+)">', page.text)
        assert 1 <= len(items) <= 3
        seen += items
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = html.unescape(found.group(1)) if found else None
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 7
    assert [int(s) for s in seen] == sorted((int(s) for s in seen), reverse=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("since", "2026-13-01"),
        ("since", "yesterday"),
        ("since", "٢٠٢٦-01-01"),
        ("since", "0001-01-01"),
        ("until", "9999-12-31"),
        ("until", "2026-02-30"),
        ("action", "access.nope"),
        ("actor", "user:x"),
        ("actor", "device:0"),
        ("actor", f"user:{2**31}"),
        ("actor", "no such person!"),
        ("actor", "nobody-by-this-name"),
        ("limit", "0"),
        ("limit", "501"),
        ("limit", "²"),
        ("before", "-1"),
        ("before", str(2**64)),
    ],
)
def test_bad_filters_are_refused_and_change_nothing(
    client: TestClient, services: Services, court: Court_, field: str, value: str
) -> None:
    login_as(client, services, court.users["auditor"])
    before = counts(services)
    response = client.get("/audit/system", params={field: value}, headers=JSON)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_input"), response.text
    page = client.get("/audit/system", params={field: value})
    assert page.status_code == 400 and "invalid_input" in page.text
    assert counts(services) == before


def test_a_range_that_ends_before_it_starts_is_refused(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["auditor"])
    response = client.get("/audit/system", params={"since": "2026-12-02", "until": "2026-12-01"}, headers=JSON)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_input")
