"""The custody officer's console over HTTP: every route for every caller,
bad input, another facility's officer, CSRF, unknown hearings, and that a
refusal changes nothing; the kiosk requests through EndpointPresence; the
check-in reaching the panels' feed; the assigned room at the media socket."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.auth.roles import Role
from hearing.custody.checkin import NOTE_MAX
from hearing.custody.presence import EndpointPresence
from hearing.db.models import CheckIn, Hearing, TestCall
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from tests.conftest import Court_, _add_user, csrf_token, enroll_device, logged, login_as, open_hearing

ACTIONS = ("check-in", "room", "connect", "test-call")
GOOD = {"check-in": {"status": "in_room"}, "room": {"endpoint_id": ""}, "connect": {}, "test-call": {}}
JSON = {"Accept": "application/json"}


class Kiosk:
    """A kiosk page's channel, registered in process (the kiosk's own
    socket is another part's): what the console asks of it."""

    def __init__(self) -> None:
        self.told: list[dict[str, Any]] = []
        self.dismissed: list[str] = []

    def deliver(self, message: dict[str, Any]) -> None:
        self.told.append(message)

    def dismiss(self, reason: str) -> None:
        self.dismissed.append(reason)


def presence(client: TestClient) -> EndpointPresence:
    registry: EndpointPresence = client.app.state.endpoint_presence  # type: ignore[attr-defined]
    return registry


def as_officer(client: TestClient, services: Services, court: Court_) -> str:
    client.cookies.clear()
    login_as(client, services, court.users["custody_officer"])
    return csrf_token(client, "/custody")


def post(client: TestClient, hearing_id: int, action: str, data: dict[str, str], token: str | None, **kw: Any) -> Any:
    body = {**data, **({"csrf_token": token} if token is not None else {})}
    return client.post(f"/custody/hearings/{hearing_id}/{action}", data=body, **kw)


def stored(services: Services, hearing_id: int) -> tuple[Any, ...]:
    def load(db: Any) -> tuple[Any, ...]:
        hearing = db.get_one(Hearing, hearing_id)
        check = db.get(CheckIn, hearing_id)
        return hearing.custody_endpoint_id, (check.status, check.note) if check else None

    return services.unit_of_work(load)


def denials(services: Services) -> list[Any]:
    return [e for e in logged(services) if e.action == "access.denied"]


pytestmark = pytest.mark.sqlite_only


@pytest.mark.parametrize("role", [r.value for r in Role if r is not Role.CUSTODY_OFFICER])
def test_only_the_custody_officer_reaches_the_console(
    client: TestClient, services: Services, court: Court_, role: str
) -> None:
    login_as(client, services, court.users[role])
    token = csrf_token(client, "/hearings" if role in ("judge", "clerk") else "/signin")
    assert client.get("/custody").status_code == 403
    assert client.get("/api/custody/today").json()["error"] == "permission_denied"
    for action in ACTIONS:
        answer = post(client, court.hearing_a, action, GOOD[action], token, headers=JSON)
        assert (answer.status_code, answer.json()["error"]) == (403, "permission_denied"), action
    assert len(denials(services)) == 2 + len(ACTIONS)
    assert stored(services, court.hearing_a) == (None, None)


def test_anonymous_callers_and_devices_are_sent_to_sign_in(
    client: TestClient, services: Services, court: Court_
) -> None:
    assert client.get("/custody").headers["location"].startswith("/signin")
    assert client.get("/api/custody/today").json()["error"] == "not_authenticated"
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    answer = client.get("/api/custody/today", headers={"Authorization": f"Device {kiosk}"})
    assert answer.json()["error"] == "not_authenticated"
    answer = client.post(f"/custody/hearings/{court.hearing_a}/connect", headers=JSON)
    assert answer.json()["error"] == "not_authenticated"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_an_officer_of_another_facility_sees_nothing_and_changes_nothing(
    client: TestClient, services: Services, court: Court_
) -> None:
    kiosk_a = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    officer_b = services.unit_of_work(
        lambda db: _add_user(db, services.keys, "officer-b", Role.CUSTODY_OFFICER, None, court.facility_b)[0]
    )
    login_as(client, services, officer_b)
    token = csrf_token(client, "/custody")
    page = client.get("/custody")
    assert "SS 1-200/2026" in page.text and "SS 1-100/2026" not in page.text and "kiosk-a" not in page.text
    today = client.get("/api/custody/today").json()
    assert [h["id"] for h in today["hearings"]] == [court.hearing_b] and today["rooms"] == []
    fields = {**GOOD, "room": {"endpoint_id": str(kiosk_a)}, "check-in": {"status": "in_room", "note": "x"}}
    for action in ACTIONS:
        answer = post(client, court.hearing_a, action, fields[action], token, headers=JSON)
        assert (answer.status_code, answer.json()["error"]) == (403, "permission_denied"), action
    # B's officer cannot give B's hearing A's room either (one answer for every room not B's).
    answer = post(client, court.hearing_b, "room", {"endpoint_id": str(kiosk_a)}, token, headers=JSON)
    assert (answer.status_code, answer.json()["error"]) == (400, "unknown_room")
    refused = denials(services)
    assert [(e.hearing_id, e.actor_id, e.payload["path"]) for e in refused] == [  # type: ignore[index]
        (court.hearing_a, officer_b, f"/custody/hearings/{court.hearing_a}/{action}") for action in ACTIONS
    ]
    assert stored(services, court.hearing_a) == (None, None)
    assert stored(services, court.hearing_b) == (None, None)


def test_the_console_shows_the_day_and_the_api_its_status(
    client: TestClient, services: Services, court: Court_
) -> None:
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    token = as_officer(client, services, court)
    assert client.get("/", follow_redirects=False).headers["location"] == "/custody"
    page = client.get("/custody", headers={"Accept-Language": "da"})
    assert page.status_code == 200 and 'lang="da"' in page.text
    assert "SS 1-100/2026" in page.text and "Test Detainee" in page.text and "REF-1" in page.text
    assert "Dagens retsmøder" in page.text and "kiosk-a" in page.text
    assert "SS 1-200/2026" not in page.text
    english = client.get("/custody", headers={"Accept-Language": "en"})
    assert "Today&#39;s hearings" in english.text or "Today's hearings" in english.text

    status = client.get("/api/custody/today").json()["hearings"][0]
    assert status == {
        "id": court.hearing_a,
        "state": "scheduled",
        "room": None,
        "room_name": None,
        "kiosk_online": None,
        "kiosk_testing": False,
        "kiosk_connected": False,
        "test_call": None,
        "check_in": None,
    }
    assert "Test Detainee" not in json.dumps(client.get("/api/custody/today").json())  # status only

    assert post(client, court.hearing_a, "room", {"endpoint_id": str(kiosk)}, token).headers["location"] == (
        f"/custody#hearing-{court.hearing_a}"
    )
    channel = Kiosk()
    presence(client).connected(kiosk, channel)
    services.unit_of_work(lambda db: db.add(TestCall(endpoint_id=kiosk, grade="poor", figures="{}")))
    answer = post(
        client,
        court.hearing_a,
        "check-in",
        {"name_confirmed": "yes", "reference_confirmed": "yes", "status": "ready", "note": "Klar."},
        token,
        headers=JSON,
    )
    assert answer.status_code == 200 and answer.json()["check_in"]["status"] == "ready"
    status = client.get("/api/custody/today").json()["hearings"][0]
    assert (status["room"], status["room_name"], status["kiosk_online"]) == (kiosk, "kiosk-a", True)
    assert status["test_call"]["grade"] == "poor"
    assert status["check_in"]["officer"] == "Custody-Officer" and status["check_in"]["note"] == "Klar."
    presence(client).disconnected(kiosk, channel)
    assert client.get("/api/custody/today").json()["hearings"][0]["kiosk_online"] is False


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_bad_input_gets_a_stable_code_and_changes_nothing(
    client: TestClient, services: Services, court: Court_
) -> None:
    token = as_officer(client, services, court)
    h = court.hearing_a
    cases: list[tuple[str, dict[str, str], str, int]] = [
        ("check-in", {}, "invalid_input", 400),
        ("check-in", {"status": "done"}, "invalid_input", 400),
        ("check-in", {"status": "ready"}, "check_in_unconfirmed", 400),
        ("check-in", {"status": "ready", "name_confirmed": "yes"}, "check_in_unconfirmed", 400),
        ("check-in", {"status": "in_room", "name_confirmed": "maybe"}, "invalid_input", 400),
        ("check-in", {"status": "in_room", "note": "x" * (NOTE_MAX + 1)}, "invalid_input", 400),
        ("check-in", {"status": "in_room", "note": "x" * 5000}, "invalid_input", 400),
        ("check-in", {"status": "in_room", "note": "evil\u202eeton"}, "invalid_input", 400),
        ("check-in", {"status": "in_room", "note": "nul\x00"}, "invalid_input", 400),
        ("check-in", {"status": "in_room", "officer_id": "1"}, "invalid_input", 400),
        ("room", {"endpoint_id": "abc"}, "invalid_input", 400),
        ("room", {"endpoint_id": "-1"}, "invalid_input", 400),
        ("room", {"endpoint_id": "9" * 30}, "unknown_room", 400),
        ("room", {"endpoint_id": "999999"}, "unknown_room", 400),
        ("room", {"endpoint_id": "²"}, "invalid_input", 400),
        ("connect", {}, "no_room_assigned", 409),
        ("test-call", {}, "no_room_assigned", 409),
    ]
    for action, data, code, status in cases:
        answer = post(client, h, action, data, token, headers=JSON)
        assert (answer.status_code, answer.json()["error"]) == (status, code), (action, data)
    # A page for a person, never raw JSON.
    page = post(client, h, "check-in", {"status": "ready"}, token)
    assert page.status_code == 400 and "check_in_unconfirmed" in page.text and "<html" in page.text
    # Not a form, a file, a repeated field.
    assert post(client, h, "check-in", {}, None, content=b"{}", headers={**JSON, "Content-Type": "application/json"})
    answer = client.post(
        f"/custody/hearings/{h}/check-in",
        files={"note": ("a.txt", b"x")},
        data={"csrf_token": token, "status": "in_room"},
        headers=JSON,
    )
    assert answer.status_code == 400
    raw = f"csrf_token={token}&status=in_room&status=ready".encode()
    answer = client.post(
        f"/custody/hearings/{h}/check-in",
        content=raw,
        headers={**JSON, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_input")
    answer = client.post(
        f"/custody/hearings/{h}/check-in",
        content=b"x=" + b"y" * 2_000_000,
        headers={**JSON, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code in (400, 413)
    assert stored(services, h) == (None, None)
    assert [e for e in logged(services) if e.action.startswith("custody.")] == []


def test_every_form_needs_its_csrf_token(client: TestClient, services: Services, court: Court_) -> None:
    token = as_officer(client, services, court)
    for action in ACTIONS:
        for bad in (None, "0" * 64, token[:-1] + ("0" if token[-1] != "0" else "1"), "ä" * 64):
            answer = post(client, court.hearing_a, action, GOOD[action], bad, headers=JSON)
            # A form of no fields at all is no form (no body): refused before the token.
            expected = (400, "invalid_input") if bad is None and not GOOD[action] else (403, "csrf_rejected")
            assert (answer.status_code, answer.json()["error"]) == expected, (action, bad)
    assert stored(services, court.hearing_a) == (None, None)


def test_unknown_and_ended_hearings(client: TestClient, services: Services, court: Court_) -> None:
    token = as_officer(client, services, court)
    for action in ACTIONS:
        answer = post(client, 999_999, action, GOOD[action], token, headers=JSON)
        assert (answer.status_code, answer.json()["error"]) == (404, "hearing_not_found"), action
        assert client.post(f"/custody/hearings/{'9' * 10}/{action}", headers=JSON).status_code == 404
    open_hearing(services, court.hearing_a, HearingState.CLOSED)
    for action in ACTIONS:
        answer = post(client, court.hearing_a, action, GOOD[action], token, headers=JSON)
        assert (answer.status_code, answer.json()["error"]) == (409, "hearing_ended"), action
    assert stored(services, court.hearing_a) == (None, None)


def test_connect_and_test_call_ask_the_assigned_kiosk_or_say_why_not(
    client: TestClient, services: Services, court: Court_
) -> None:
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    token = as_officer(client, services, court)
    h = court.hearing_a
    assert post(client, h, "room", {"endpoint_id": str(kiosk)}, token).status_code == 303
    # Offline: said in words, with its code.
    answer = post(client, h, "test-call", {}, token, headers=JSON)
    assert (answer.status_code, answer.json()["error"]) == (409, "kiosk_offline")
    channel = Kiosk()
    presence(client).connected(kiosk, channel)
    answer = post(client, h, "test-call", {}, token, headers=JSON)
    assert answer.json() == {"told": "test_call", "endpoint": kiosk}
    # The hearing is not open yet: nothing to connect to.
    answer = post(client, h, "connect", {}, token, headers=JSON)
    assert (answer.status_code, answer.json()["error"]) == (409, "hearing_not_open")
    open_hearing(services, h)
    answer = post(client, h, "connect", {}, token, headers=JSON)
    assert answer.json() == {"told": "connect", "endpoint": kiosk}
    assert post(client, h, "connect", {}, token).headers["location"] == f"/custody#hearing-{h}"
    assert channel.told == [{"type": "test_call"}, {"type": "connect", "hearing": h}] + [
        {"type": "connect", "hearing": h}
    ]
    presence(client).disconnected(kiosk, channel)
    answer = post(client, h, "connect", {}, token, headers=JSON)
    assert (answer.status_code, answer.json()["error"]) == (409, "kiosk_offline")


def test_the_check_in_reaches_the_panels_feed_and_the_hearing_page(
    client: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    judge = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    login_as(judge, services, court.users["judge"])
    assert judge.get(f"/hearings/{h}/floor").json()["check_in"] is None
    with judge.websocket_connect(f"/ws/hearings/{h}/panel") as feed:
        assert feed.receive_json()["check_in"] is None
        token = as_officer(client, services, court)
        data = {"name_confirmed": "yes", "reference_confirmed": "yes", "status": "ready", "note": "Klar til retten."}
        assert post(client, h, "check-in", data, token).status_code == 303
        message = feed.receive_json()
        while message["type"] != "check_in":
            message = feed.receive_json()
        assert message["check_in"]["status"] == "ready" and message["check_in"]["note"] == "Klar til retten."
    snapshot = judge.get(f"/hearings/{h}/floor").json()["check_in"]
    assert snapshot["status"] == "ready" and snapshot["officer"] == "Custody-Officer"
    page = judge.get(f"/hearings/{h}", headers={"Accept-Language": "en"}).text
    assert "checkin-ready" in page and "Klar til retten." in page and "name and reference confirmed" in page
    docket = judge.get("/hearings", headers={"Accept-Language": "en"}).text
    assert "checkin-ready" in docket


def test_the_officer_sees_no_panel_and_no_judges_controls(
    client: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    as_officer(client, services, court)
    page = client.get(f"/hearings/{court.hearing_a}", headers={"Accept-Language": "en"}).text
    assert "data-panel" not in page and "Drag to reorder" not in page and "/transition" not in page
    assert 'href="/custody"' in page
    client.cookies.clear()
    login_as(client, services, court.users["clerk"])
    assert "data-panel" in client.get(f"/hearings/{court.hearing_a}").text  # the clerk still follows


def test_only_the_assigned_room_takes_the_custody_seat(client: TestClient, services: Services, court: Court_) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    first = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    second = enroll_device(services, "kiosk-a2", EndpointKind.CUSTODY, "Facility A")
    token = as_officer(client, services, court)
    assert post(client, h, "room", {"endpoint_id": str(first.endpoint_id)}, token).status_code == 303
    client.cookies.clear()
    path = f"/ws/hearings/{h}/media"
    with client.websocket_connect(path, headers={"Authorization": f"Device {second.token}"}) as ws:
        message = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert (message["error"], closed.value.code) == ("permission_denied", 4403)
    refused = denials(services)
    assert [(e.actor_kind, e.actor_id, e.hearing_id) for e in refused] == [("device", second.endpoint_id, h)]
    with client.websocket_connect(path, headers={"Authorization": f"Device {first.token}"}) as ws:
        assert ws.receive_json()["seat"] == "custody"
        ws.send_json({"type": "leave"})
    # No assignment: any kiosk of the facility may take the seat (as before).
    token = as_officer(client, services, court)
    assert post(client, h, "room", {"endpoint_id": ""}, token).status_code == 303
    client.cookies.clear()
    with client.websocket_connect(path, headers={"Authorization": f"Device {second.token}"}) as ws:
        assert ws.receive_json()["seat"] == "custody"
        ws.send_json({"type": "leave"})
    assert services.unit_of_work(lambda db: db.scalars(select(CheckIn)).all()) == []
