"""The test call's kiosk page, and the newest test call on the staff's
hearing page (grade in words, time in court time, the figures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from hearing.actors import Actor
from hearing.custody import calls
from hearing.custody.testcall import Figures, Grade, Reason
from hearing.db.models import Hearing
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from hearing.web.routing import CookieNames
from tests.conftest import Court_, enroll_device, logged, login_as

FIGURES = Figures(rtt_ms=12.5, loss_percent=0.4, jitter_ms=3.0, width=1280, height=720, fps=25.0, audio_dbfs=-14.0)


def record(services: Services, endpoint_id: int, grade: Grade, at: datetime, figures: Figures = FIGURES) -> None:
    kiosk = Actor("device", endpoint_id, "custody")
    reasons = () if grade is Grade.GOOD else (Reason.LOSS,)
    services.unit_of_work(lambda db: calls.record(db, kiosk, endpoint_id, figures, grade, reasons, at))


def summary(client: TestClient, hearing_id: int) -> str:
    page = client.get(f"/hearings/{hearing_id}")
    assert page.status_code == 200
    start = page.text.index('data-role="test-call-summary"')
    return page.text[start : page.text.index("</section>", start)]


def test_the_hearing_page_shows_the_custody_rooms_newest_test_call(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["clerk"])
    client.cookies.set(CookieNames.for_scheme(secure=True).language, "da")
    assert "Der er ikke foretaget noget prøveopkald." in summary(client, court.hearing_a)
    room_1 = enroll_device(services, "kiosk-a1", EndpointKind.CUSTODY, "Facility A").endpoint_id
    room_2 = enroll_device(services, "kiosk-a2", EndpointKind.CUSTODY, "Facility A").endpoint_id
    elsewhere = enroll_device(services, "kiosk-b", EndpointKind.CUSTODY, "Facility B").endpoint_id
    morning = datetime(2026, 12, 1, 8, 5, tzinfo=UTC)  # 09:05 in Copenhagen
    record(services, room_1, Grade.POOR, morning)
    record(services, room_2, Grade.GOOD, morning + timedelta(minutes=10))
    record(services, elsewhere, Grade.BAD, morning + timedelta(minutes=20))  # facility B: never shown at A
    # No room assigned: the newest of the facility's custody endpoints.
    shown = summary(client, court.hearing_a)
    assert 'data-grade="good"' in shown and ">god<" in shown
    assert "01.12.2026 09:15" in shown and "kiosk-a2" in shown
    assert "12.5 ms" in shown and "1280×720, 25.0 fps" in shown and "-14.0 dBFS" in shown
    # The hearing's assigned room: its own newest, whatever the others did since.
    services.unit_of_work(lambda db: setattr(db.get_one(Hearing, court.hearing_a), "custody_endpoint_id", room_1))
    shown = summary(client, court.hearing_a)
    assert 'data-grade="poor"' in shown and "01.12.2026 09:05" in shown and "kiosk-a1" in shown
    client.cookies.set(CookieNames.for_scheme(secure=True).language, "en")
    assert ">poor<" in summary(client, court.hearing_a)


def test_unmeasured_figures_are_said_so(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["judge"])
    client.cookies.set(CookieNames.for_scheme(secure=True).language, "en")
    room = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    record(services, room, Grade.BAD, datetime.now(UTC), Figures())
    shown = summary(client, court.hearing_a)
    assert 'data-grade="bad"' in shown and shown.count("not measured") == 5


@pytest.mark.sqlite_only
def test_the_kiosk_page_is_danish_first_and_for_custody_and_booth_kiosks_only(
    client: TestClient, services: Services, court: Court_
) -> None:
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    booth = enroll_device(services, "booth-a", EndpointKind.BOOTH, "Room A").token
    rig = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token
    # Danish even where the browser asks for English: the kiosk is the detainee's.
    page = client.get("/device/test-call?auto=1", headers={"Authorization": f"Device {kiosk}", "Accept-Language": "en"})
    assert page.status_code == 200
    assert '<html lang="da">' in page.text and "Prøveopkald" in page.text and 'data-auto="true"' in page.text
    assert 'href="/device"' in page.text  # the one way out
    client.cookies.set(CookieNames.for_scheme(secure=True).language, "en")
    page = client.get("/device/test-call", headers={"Authorization": f"Device {booth}"})
    assert page.status_code == 200 and '<html lang="en">' in page.text and 'data-auto="false"' in page.text
    refused = client.get("/device/test-call", headers={"Authorization": f"Device {rig}", "Accept": "application/json"})
    assert (refused.status_code, refused.json()["error"]) == (403, "permission_denied")
    assert [e.actor_kind for e in logged(services) if e.action == "access.denied"] == ["device"]
    login_as(client, services, court.users["custody_officer"])
    page = client.get("/device/test-call", headers={"Accept": "application/json"})
    assert (page.status_code, page.json()["error"]) == (401, "device_not_authorised")
