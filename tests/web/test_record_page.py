"""The hearing's record, for a hearing taken through the product: opened,
the custody room admitted, the floor given, a mute, a consultation, a lost
link and its return, closed. Then the page and its JSON for those who may
read it, and a refusal (audited) for those who may not."""

from __future__ import annotations

import html
import http.server
import io
import threading
from pathlib import Path
from typing import Any

import pypdf
import pytest
from starlette.testclient import TestClient

from hearing.db.models import Hearing
from hearing.docket.lifecycle import HearingState
from hearing.errors import PrintingUnavailable
from hearing.services import Services
from hearing.web import media, printed
from hearing.web.routing import CookieNames
from tests.conftest import Court_, admit, csrf_token, custody_headers, logged, login_as, post_floor_command
from tests.waiting import wait_until

JSON = {"Accept": "application/json"}
# What the record of the conducted hearing says, in each language (page and PDF alike).
WORDS = {
    "da": ("Retsbog: retsmødets forløb", "Fortrolige samtaler", "gav ordet til sigtede (arresten)", "Varighed"),
    "en": ("The hearing's record", "Private consultations", "gave the floor to the detainee", "Duration"),
}


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
    for said in WORDS[lang]:
        assert said in text
    assert "Europe/Copenhagen" in text


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_record_as_a_pdf_a_in_the_viewer_s_language(
    client: TestClient, services: Services, court: Court_, conducted: int, lang: str
) -> None:
    as_role(client, services, court, "auditor", lang)
    page = client.get(f"/hearings/{conducted}/record")
    assert f'href="/hearings/{conducted}/record.pdf"' in page.text
    before = len(logged(services))
    response = client.get(f"/hearings/{conducted}/record.pdf")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    prefix = {"da": "retsbog", "en": "record"}[lang]
    assert response.headers["content-disposition"] == f'attachment; filename="{prefix}-SS-1-100-2026.pdf"'
    document = pypdf.PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in document.pages)
    for said in WORDS[lang]:
        assert said in " ".join(text.split()), said
    # What the page's print CSS hides is not in the case file's copy.
    assert "Sign out" not in text and "Log ud" not in text and "JSON" not in text
    # PDF/A-2a: archival, tagged, in the page's language.
    root = document.trailer["/Root"]
    assert root["/Lang"] == lang and "/StructTreeRoot" in root
    metadata = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="2"' in metadata and 'pdfaid:conformance="A"' in metadata
    # Made from the log, read as the page is: audited.
    assert [(e.action, e.hearing_id) for e in logged(services)[before:]] == [("audit.read", conducted)]


def test_one_pdf_is_made_at_a_time(
    client: TestClient, services: Services, court: Court_, conducted: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_role(client, services, court, "judge")
    with printed._making:  # another PDF is being made
        response = client.get(f"/hearings/{conducted}/record.pdf", headers=JSON)
    assert response.status_code == 503 and response.json()["error"] == "printing_busy"

    def missing() -> object:
        raise PrintingUnavailable()

    monkeypatch.setattr(printed, "_weasyprint", missing)
    response = client.get(f"/hearings/{conducted}/record.pdf", headers=JSON)
    assert response.status_code == 503 and response.json()["error"] == "printing_unavailable"


def test_a_pdf_of_a_page_fetches_nothing(tmp_path: Path) -> None:
    """A page that names other addresses (a stylesheet on the network and on
    disk, an image, a font) is laid out without them: nothing is fetched."""
    hits: list[str] = []

    class Listening(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b'p::after { content: "FETCHED" }')

        def log_message(self, *args: object) -> None:
            pass

    local = tmp_path / "local.css"
    local.write_text('p::before { content: "READ FROM DISK" }')
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listening) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        there = f"http://127.0.0.1:{server.server_address[1]}"
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
            f'<link rel="stylesheet" href="{there}/a.css"><link rel="stylesheet" href="{local.as_uri()}">'
            f'<style>@font-face {{ font-family: x; src: url("{there}/f.woff") }} p {{ font-family: x }}</style>'
            f'</head><body><img src="{there}/i.png" alt="i"><p>words</p></body></html>'
        )
        text = pypdf.PdfReader(io.BytesIO(printed.pdf(page))).pages[0].extract_text()
        server.shutdown()
    assert "words" in text and "FETCHED" not in text and "READ FROM DISK" not in text
    assert hits == []


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
    for path in (f"/hearings/{conducted}/record{kind}" for kind in ("", ".json", ".pdf")):
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
