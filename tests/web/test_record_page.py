"""The hearing's record, for a hearing taken through the product: opened,
the custody room admitted, the floor given, a mute, a consultation, a lost
link and its return, closed. Then the page and its JSON for those who may
read it, and a refusal (audited) for those who may not."""

from __future__ import annotations

import html
from typing import Any

import pytest
from starlette.testclient import TestClient

from hearing.db.models import Hearing
from hearing.docket.lifecycle import HearingState
from hearing.services import Services
from hearing.web import media
from hearing.web.routing import CookieNames
from tests.conftest import Court_, admit, csrf_token, custody_headers, logged, login_as, post_floor_command
from tests.waiting import wait_until

JSON = {"Accept": "application/json"}


def transition(client: TestClient, hearing_id: int, action: str) -> None:
    response = client.post(
        f"/hearings/{hearing_id}/transition", data={"action": action, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303, response.text


def floor(client: TestClient, hearing_id: int, body: dict[str, Any]) -> None:
    response = post_floor_command(client, hearing_id, body, csrf_token(client))
    assert response.status_code == 200, response.text


def conduct(client: TestClient, services: Services, court: Court_, monkeypatch: pytest.MonkeyPatch) -> int:
    """Hearing A, from opening to close, by the judge's own controls."""
    h = court.hearing_a
    login_as(client, services, court.users["judge"])
    transition(client, h, "open")
    kiosk = custody_headers(services)
    path = f"/ws/hearings/{h}/media"
    with client.websocket_connect(path, headers=kiosk) as ws:
        assert ws.receive_json()["type"] == "welcome"
        ws.send_json({"type": "leave"})
    admit(services, court, h)
    transition(client, h, "start")
    floor(client, h, {"action": "grant", "speaker": "custody:detainee"})
    floor(client, h, {"action": "mute", "seat": "custody"})
    floor(client, h, {"action": "unmute", "seat": "custody"})
    floor(client, h, {"action": "take_back"})
    transition(client, h, "begin_consultation")
    transition(client, h, "end_consultation")
    # The custody room's link falls silent (lost, not left), then comes back.
    monkeypatch.setattr(media, "LIVENESS_SECONDS", 0.3)

    def count(action: str) -> int:
        return len([e for e in logged(services) if e.action == action])

    with client.websocket_connect(path, headers=kiosk) as ws:
        assert ws.receive_json()["type"] == "welcome"
        wait_until(lambda: count("hearing.interrupted") == 1)
    monkeypatch.setattr(media, "LIVENESS_SECONDS", 5.0)
    with client.websocket_connect(path, headers=kiosk) as ws:
        assert ws.receive_json()["type"] == "welcome"
        wait_until(lambda: count("hearing.link_restored") == 1)
        ws.send_json({"type": "leave"})
    transition(client, h, "resume")
    transition(client, h, "close")
    assert services.unit_of_work(lambda db: db.get_one(Hearing, h).state) is HearingState.CLOSED
    return h


@pytest.fixture
def conducted(client: TestClient, services: Services, court: Court_, monkeypatch: pytest.MonkeyPatch) -> int:
    h = conduct(client, services, court, monkeypatch)
    client.cookies.clear()
    return h


def as_role(client: TestClient, services: Services, court: Court_, role: str, lang: str = "en") -> None:
    client.cookies.clear()
    login_as(client, services, court.users[role])
    client.cookies.set(CookieNames.for_scheme(secure=True).language, lang)


@pytest.mark.parametrize("role", ["judge", "clerk", "auditor"])
def test_the_record_as_json_for_those_who_may_read_it(
    client: TestClient, services: Services, court: Court_, conducted: int, role: str
) -> None:
    as_role(client, services, court, role)
    before = len(logged(services))
    response = client.get(f"/hearings/{conducted}/record.json")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"hearing", "timezone", "events", "spans"}
    assert data["hearing"] == {"id": conducted, "case_number": "SS 1-100/2026"}
    actions = [e["action"] for e in data["events"]]
    assert actions[0] == "hearing.opened" and actions[-1] == "hearing.closed"
    for action in ("lobby.admitted", "floor.granted", "floor.muted", "consultation.started", "hearing.interrupted"):
        assert action in actions
    # The audit trail's own entries are not the case file's.
    assert "audit.read" not in actions and "access.denied" not in actions
    kinds = {s["kind"]: s for s in data["spans"]}
    assert kinds["floor"]["speaker"] == "custody:detainee" and kinds["floor"]["end"] is not None
    assert kinds["muted"]["seat"] == "custody"
    assert kinds["consultation"]["end"] is not None
    gap = kinds["interruption"]
    assert gap["seat"] == "custody" and gap["seconds"] >= 0 and "duration_seconds" in gap["details"]
    states = [s["details"]["state"] for s in data["spans"] if s["kind"] == "state"]
    assert states == ["open", "in_session", "consultation", "in_session", "paused", "in_session"]
    # Reading the record is reading the log: audited, in the hearing's trail.
    read = logged(services)[before:]
    assert [(e.action, e.hearing_id, e.actor_id) for e in read] == [("audit.read", conducted, court.users[role])]


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_page_reads_in_the_viewer_s_language(
    client: TestClient, services: Services, court: Court_, conducted: int, lang: str
) -> None:
    as_role(client, services, court, "clerk", lang)
    page = client.get(f"/hearings/{conducted}/record")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f'<html lang="{lang}">' in text
    words = {
        "da": ("Retsbog: retsmødets forløb", "Fortrolige samtaler", "gav ordet til sigtede (arresten)", "Varighed"),
        "en": ("The hearing's record", "Private consultations", "gave the floor to the detainee", "Duration"),
    }[lang]
    for said in words:
        assert said in text
    assert "Europe/Copenhagen" in text


def test_the_hearing_page_links_to_its_record_for_the_judge(
    client: TestClient, services: Services, court: Court_
) -> None:
    as_role(client, services, court, "judge")
    page = client.get(f"/hearings/{court.hearing_a}")
    assert f'href="/hearings/{court.hearing_a}/record"' in page.text
    as_role(client, services, court, "custody_officer")
    page = client.get(f"/hearings/{court.hearing_a}")
    assert page.status_code == 200 and "/record" not in page.text


@pytest.mark.parametrize("role", ["custody_officer", "admin"])
def test_others_are_refused_and_the_refusal_is_audited(
    client: TestClient, services: Services, court: Court_, conducted: int, role: str
) -> None:
    as_role(client, services, court, role)
    for path in (f"/hearings/{conducted}/record", f"/hearings/{conducted}/record.json"):
        before = len(logged(services))
        response = client.get(path, headers=JSON)
        assert response.status_code == 403 and response.json()["error"] == "permission_denied"
        new = logged(services)[before:]
        assert [(e.action, e.hearing_id, e.actor_id) for e in new] == [("access.denied", conducted, court.users[role])]
        assert new[0].payload is not None and new[0].payload["path"] == path


def test_a_judge_of_another_courtroom_is_refused(client: TestClient, services: Services, court: Court_) -> None:
    as_role(client, services, court, "judge")
    before = len(logged(services))
    response = client.get(f"/hearings/{court.hearing_b}/record.json", headers=JSON)
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    assert [(e.action, e.hearing_id) for e in logged(services)[before:]] == [("access.denied", court.hearing_b)]


def test_an_unknown_hearing_is_not_found_and_nothing_is_read(
    client: TestClient, services: Services, court: Court_
) -> None:
    as_role(client, services, court, "auditor")
    before = len(logged(services))
    response = client.get("/hearings/999999/record.json", headers=JSON)
    assert response.status_code == 404 and response.json()["error"] == "hearing_not_found"
    assert len(logged(services)) == before


def test_a_hearing_never_opened_has_an_empty_record(client: TestClient, services: Services, court: Court_) -> None:
    # Booked by the fixture without the (audited) booking form: no entries yet,
    # but the hearing exists, so its (empty) record can be read.
    as_role(client, services, court, "clerk")
    response = client.get(f"/hearings/{court.hearing_a}/record")
    assert response.status_code == 200
    assert "No events." in response.text
