from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from hearing.app import create_app
from hearing.config import Settings
from hearing.db.models import AuditEntry, Hearing, Participant
from hearing.docket.lifecycle import HearingState, Transition
from hearing.services import Services
from tests.conftest import Court_, Logged, add_hearing, csrf_token, logged, login_as

CPH = ZoneInfo("Europe/Copenhagen")


def count(services: Services, model: type) -> int:
    return services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(model)))


def audit(services: Services) -> list[Logged]:
    return logged(services)


def booking_form(court: Court_, **overrides: str) -> dict[str, str]:
    start = (datetime.now(CPH) + timedelta(days=1)).replace(hour=9, minute=30, second=0, microsecond=0)
    form = {
        "case_number": "SS 2-4711/2026",
        "kind": "remand_extension",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "minutes": "30",
        "courtroom_id": str(court.courtroom_a),
        "facility_id": str(court.facility_a),
        "detainee_name": "Jens Hansen",
        "detainee_reference": "VF-77",
        "interpreter_language": "Polish",
        "prosecutor": "Anklager Friis",
        "defence_counsel": "Advokat Vang",
        "defence_connection": "custody",
    }
    form.update(overrides)
    return form


def test_clerk_books_a_hearing_and_the_judge_sees_it(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["clerk"])
    form = booking_form(court)
    response = client.post("/hearings", data={"csrf_token": csrf_token(client, "/hearings/new"), **form})
    assert response.status_code == 303
    hearing_id = int(response.headers["location"].rsplit("/", 1)[1])
    hearing = services.unit_of_work(lambda db: db.get(Hearing, hearing_id))
    assert hearing.state is HearingState.SCHEDULED
    assert hearing.scheduled_start.astimezone(CPH).strftime("%Y-%m-%dT%H:%M") == form["start"]
    assert hearing.scheduled_end - hearing.scheduled_start == timedelta(minutes=30)
    roles = services.unit_of_work(
        lambda db: sorted(
            p.role.value for p in db.scalars(select(Participant).where(Participant.hearing_id == hearing_id))
        )
    )
    assert roles == ["defence_counsel", "detainee", "interpreter", "prosecutor"]
    entry = audit(services)[-1]
    assert entry.action == "hearing.booked" and entry.hearing_id == hearing_id
    assert entry.actor_kind == "user" and entry.actor_id == court.users["clerk"]
    assert "Jens Hansen" not in str(entry.payload)

    client.cookies.clear()
    login_as(client, services, court.users["judge"])
    day = form["start"][:10]
    docket = client.get(f"/hearings?day={day}")
    assert docket.status_code == 200 and "SS 2-4711/2026" in docket.text
    client.cookies.clear()
    login_as(client, services, court.users["custody_officer"])
    assert "SS 2-4711/2026" in client.get(f"/hearings?day={day}").text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"case_number": ""}, "Case number is required"),
        ({"case_number": "<script>"}, "case number"),
        ({"start": "tomorrow"}, "start time"),
        ({"start": "2026-02-30T10:00"}, "start time"),
        ({"minutes": "0"}, "lasts"),
        ({"minutes": "-5"}, "must be a number"),
        ({"minutes": "9999999999"}, "at most"),
        ({"courtroom_id": "999"}, "No such courtroom"),
        ({"facility_id": "abc"}, "must be a number"),
        ({"kind": "trial_by_combat"}, "Unknown kind"),
        ({"defence_connection": "carrier pigeon"}, "Unknown defence connection"),
        ({"detainee_name": "x" * 201}, "at most 200"),
        ({"detainee_name": "line\nbreak"}, "control characters"),
    ],
)
def test_malformed_booking_is_refused_and_changes_nothing(
    client: TestClient, services: Services, court: Court_, overrides: dict[str, str], message: str
) -> None:
    login_as(client, services, court.users["clerk"])
    before = (count(services, Hearing), count(services, AuditEntry))
    response = client.post(
        "/hearings", data={"csrf_token": csrf_token(client, "/hearings/new"), **booking_form(court, **overrides)}
    )
    assert response.status_code in (400, 404)
    assert message.lower() in response.text.lower()
    assert (count(services, Hearing), count(services, AuditEntry)) == before


def test_double_booking_a_courtroom_is_a_conflict(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["clerk"])
    form = booking_form(court)
    assert client.post("/hearings", data={"csrf_token": csrf_token(client, "/hearings/new"), **form}).status_code == 303
    start = datetime.fromisoformat(form["start"]) + timedelta(minutes=15)
    clash = booking_form(court, start=start.strftime("%Y-%m-%dT%H:%M"), case_number="SS 2-4712/2026")
    response = client.post("/hearings", data={"csrf_token": csrf_token(client, "/hearings/new"), **clash})
    assert response.status_code == 409 and "already has hearing" in response.text
    # The other courtroom is free at that time.
    free = dict(clash, courtroom_id=str(court.courtroom_b))
    assert client.post("/hearings", data={"csrf_token": csrf_token(client, "/hearings/new"), **free}).status_code == 303


def test_docket_and_hearing_page_show_the_courts_local_time(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["clerk"])
    form = booking_form(court)  # 09:30 tomorrow, Copenhagen time, 30 minutes
    response = client.post("/hearings", data={"csrf_token": csrf_token(client, "/hearings/new"), **form})
    hearing_id = int(response.headers["location"].rsplit("/", 1)[1])
    day = form["start"][:10]
    docket = client.get(f"/hearings?day={day}")
    assert docket.status_code == 200
    row = docket.text[docket.text.index("<tbody>") : docket.text.index("</tbody>")]
    assert "09:30–10:00" in row and f'href="/hearings/{hearing_id}"' in row and "Jens Hansen" in row
    assert "SS 1-100/2026" not in row  # today's hearing is on another day
    page = client.get(f"/hearings/{hearing_id}")
    assert page.status_code == 200
    assert "09:30–10:00" in page.text and "Polish" in page.text and "VF-77" in page.text


def transition(client: TestClient, hearing_id: int, action: str, accept: str = "text/html") -> object:
    return client.post(
        f"/hearings/{hearing_id}/transition",
        data={"csrf_token": csrf_token(client, f"/hearings/{hearing_id}"), "action": action},
        headers={"Accept": accept},
    )


def test_judge_runs_the_hearing_and_every_step_is_audited(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["judge"])
    page = client.get(f"/hearings/{court.hearing_a}")
    assert 'value="open"' in page.text and 'value="convert_to_physical"' in page.text
    steps = [
        ("open", "hearing.opened"),
        ("start", "hearing.started"),
        ("pause", "hearing.paused"),
        ("resume", "hearing.resumed"),
        ("begin_consultation", "consultation.started"),
        ("end_consultation", "consultation.ended"),
        ("close", "hearing.closed"),
    ]
    for action, audited in steps:
        before = len(audit(services))
        assert transition(client, court.hearing_a, action).status_code == 303
        entries = audit(services)[before:]
        assert [e.action for e in entries] == [audited]
        assert entries[0].hearing_id == court.hearing_a
        assert entries[0].actor_id == court.users["judge"]
    assert services.unit_of_work(lambda db: db.get(Hearing, court.hearing_a).state) is HearingState.CLOSED


def test_invalid_transition_is_409_and_changes_nothing(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["judge"])
    before = len(audit(services))
    response = transition(client, court.hearing_a, "pause", accept="application/json")
    assert response.status_code == 409
    assert response.json()["error"] == "invalid_transition"
    assert services.unit_of_work(lambda db: db.get(Hearing, court.hearing_a).state) is HearingState.SCHEDULED
    assert len(audit(services)) == before
    html = transition(client, court.hearing_a, "pause")
    assert html.status_code == 409 and "invalid_transition" in html.text


def test_convert_to_physical_from_session(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["judge"])
    for action in ("open", "start", "convert_to_physical"):
        assert transition(client, court.hearing_a, action).status_code == 303
    assert audit(services)[-1].action == "hearing.converted_to_physical"
    assert transition(client, court.hearing_a, "open").status_code == 409


def test_judge_cannot_run_another_courtrooms_hearing(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["judge"])
    response = client.post(
        f"/hearings/{court.hearing_b}/transition",
        data={"csrf_token": csrf_token(client, "/hearings"), "action": "open"},
    )
    assert response.status_code == 403
    assert services.unit_of_work(lambda db: db.get(Hearing, court.hearing_b).state) is HearingState.SCHEDULED
    assert audit(services)[-1].action == "access.denied"
    assert client.get(f"/hearings/{court.hearing_b}").status_code == 403


@pytest.mark.parametrize("action", ["", "explode", "OPEN", "open\x00"])
def test_unknown_actions_are_refused(client: TestClient, services: Services, court: Court_, action: str) -> None:
    login_as(client, services, court.users["judge"])
    response = transition(client, court.hearing_a, action, accept="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_input"


def test_missing_hearing_is_404(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["judge"])
    response = client.get("/hearings/99999", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json()["error"] == "hearing_not_found"


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "2026-1-1", "x" * 300, "20261123"])
def test_bad_day_parameter(client: TestClient, services: Services, court: Court_, day: str) -> None:
    login_as(client, services, court.users["clerk"])
    response = client.get(f"/hearings?day={day}")
    assert response.status_code == 400 and "2026-11-23" in response.text


def test_every_transition_has_an_audit_action() -> None:
    from hearing.docket.proceedings import AUDIT_ACTION

    assert set(AUDIT_ACTION) == set(Transition)


def later_hearing(services: Services, court: Court_, start: datetime, case: str = "SS 1-300/2026") -> int:
    return services.unit_of_work(lambda db: add_hearing(db, court.courtroom_a, court.facility_a, start, case))


def test_opening_hours_before_the_slot_is_too_early(client: TestClient, services: Services, court: Court_) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    hearing_id = later_hearing(services, court, start)
    login_as(client, services, court.users["judge"])
    before = len(audit(services))
    response = transition(client, hearing_id, "open", accept="application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "too_early"
    assert f"{(start - timedelta(minutes=30)).astimezone(CPH):%Y-%m-%d %H:%M} (Europe/Copenhagen)" in body["message"]
    # A person gets the page, with the code to quote.
    page = transition(client, hearing_id, "open")
    assert page.status_code == 409 and "too_early" in page.text and "Europe/Copenhagen" in page.text
    assert services.unit_of_work(lambda db: db.get(Hearing, hearing_id).state) is HearingState.SCHEDULED
    assert len(audit(services)) == before


def test_the_routes_window_is_the_setting(settings: Settings, services: Services, court: Court_) -> None:
    start = datetime.now(UTC) + timedelta(minutes=90)
    hearing_id = later_hearing(services, court, start)
    generous = Services.from_settings(settings.replace(open_early_minutes=120))
    try:
        with TestClient(create_app(settings, generous), base_url="https://testserver", follow_redirects=False) as http:
            login_as(http, generous, court.users["judge"])
            assert transition(http, hearing_id, "open").status_code == 303
    finally:
        generous.close()
    assert services.unit_of_work(lambda db: db.get(Hearing, hearing_id).state) is HearingState.OPEN


def test_opening_a_second_hearing_in_a_busy_courtroom_is_refused(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["judge"])
    assert transition(client, court.hearing_a, "open").status_code == 303
    assert transition(client, court.hearing_a, "start").status_code == 303
    hearing_id = later_hearing(services, court, datetime.now(UTC) + timedelta(minutes=20))
    before = len(audit(services))
    response = transition(client, hearing_id, "open", accept="application/json")
    assert response.status_code == 409
    assert response.json()["error"] == "courtroom_busy"
    assert "SS 1-100/2026 (in session)" in response.json()["message"]
    page = transition(client, hearing_id, "open")
    assert page.status_code == 409 and "courtroom_busy" in page.text
    assert services.unit_of_work(lambda db: db.get(Hearing, hearing_id).state) is HearingState.SCHEDULED
    assert len(audit(services)) == before
    # The judge can still choose a physical hearing for the waiting one.
    assert transition(client, hearing_id, "convert_to_physical").status_code == 303
