from __future__ import annotations

import json
import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from hearing.actors import SYSTEM
from hearing.auth import devices
from hearing.clock import utcnow
from hearing.db.models import Endpoint, Hearing
from hearing.docket.parties import EndpointKind
from hearing.errors import AlreadyExists, InvalidInput, NotFound
from hearing.services import Services
from tests.conftest import Court_, enroll_device, logged

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def as_device(token: str) -> dict[str, str]:
    return {"Authorization": f"Device {token}"}


def test_a_device_reaches_only_its_own_sites_hearings(client: TestClient, services: Services, court: Court_) -> None:
    kiosk_a = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    rig_b = enroll_device(services, "rig-b", EndpointKind.COURTROOM, "Room B")

    own = client.get(f"/api/device/hearings/{court.hearing_a}", headers=as_device(kiosk_a.token))
    assert own.status_code == 200 and own.json()["case_number"] == "SS 1-100/2026"
    other = client.get(f"/api/device/hearings/{court.hearing_b}", headers=as_device(kiosk_a.token))
    assert other.status_code == 403 and other.json()["error"] == "permission_denied"

    assert client.get(f"/api/device/hearings/{court.hearing_b}", headers=as_device(rig_b.token)).status_code == 200
    assert client.get(f"/api/device/hearings/{court.hearing_a}", headers=as_device(rig_b.token)).status_code == 403

    listing = client.get("/api/device/hearings", headers=as_device(kiosk_a.token)).json()
    assert [h["id"] for h in listing["hearings"]] == [court.hearing_a]

    refusals = [e for e in logged(services) if e.action == "access.denied"]
    assert len(refusals) == 2 and all(r.actor_kind == "device" for r in refusals)


def test_revoked_and_unknown_tokens_are_refused_alike(client: TestClient, services: Services, court: Court_) -> None:
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    assert client.get("/api/device/hearings", headers=as_device(kiosk.token)).status_code == 200
    services.unit_of_work(lambda db: devices.revoke(db, SYSTEM, "kiosk-a", utcnow()))
    revoked = client.get("/api/device/hearings", headers=as_device(kiosk.token))
    unknown = client.get("/api/device/hearings", headers=as_device("A" * 43))
    assert revoked.status_code == unknown.status_code == 401
    assert (
        revoked.json()
        == unknown.json()
        == {
            "error": "device_not_authorised",
            "message": "This device is not authorised.",
        }
    )


@pytest.mark.sqlite_only
def test_malformed_device_credentials(client: TestClient, court: Court_) -> None:
    for header in [b"Device", b"Device ", b"Bearer abc", b"Device " + b"x" * 500, "Device æøå".encode()]:
        response = client.get("/api/device/hearings", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_tokens_are_stored_only_as_keyed_hashes(services: Services, court: Court_) -> None:
    creds = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    endpoint = services.unit_of_work(lambda db: db.scalar(select(Endpoint)))
    assert creds.token.encode() not in endpoint.token_hash
    assert len(endpoint.token_hash) == 32
    assert endpoint.token_hash == devices.token_hash(services.keys, creds.token)


def test_kiosk_enrollment_link_works_once_and_sets_a_device_cookie(
    client: TestClient, services: Services, court: Court_
) -> None:
    creds = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    page = client.get(f"/device/enroll?code={creds.enrollment_code}")
    assert page.status_code == 200
    token = CSRF.search(page.text).group(1)
    # Showing the page used nothing up: the agent token still works.
    assert client.get("/api/device/hearings", headers=as_device(creds.token)).status_code == 200

    done = client.post("/device/enroll", data={"csrf_token": token, "code": creds.enrollment_code})
    assert done.status_code == 200
    cookie = done.headers["set-cookie"]
    assert "hearing_device=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "Max-Age=" in cookie
    kiosk = client.get("/device")
    assert kiosk.status_code == 200 and "kiosk-a" in kiosk.text
    assert client.get("/api/device/hearings").status_code == 200
    # One device, one credential: the printed agent token is retired.
    assert client.get("/api/device/hearings", headers=as_device(creds.token)).status_code == 401

    again = client.post("/device/enroll", data={"csrf_token": token, "code": creds.enrollment_code})
    assert again.status_code == 401 and "device_not_authorised" in again.text


def test_enrollment_validates_its_input(services: Services, court: Court_) -> None:
    enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    with pytest.raises(AlreadyExists):
        enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    with pytest.raises(NotFound):
        enroll_device(services, "kiosk-z", EndpointKind.CUSTODY, "Nowhere")
    with pytest.raises(NotFound):
        enroll_device(services, "rig-z", EndpointKind.COURTROOM, "Facility A")
    for bad in ["", " leading", "x" * 65, "semi;colon", "new\nline"]:
        with pytest.raises(InvalidInput):
            enroll_device(services, bad, EndpointKind.CUSTODY, "Facility A")


def test_a_hearing_as_a_device_reads_it(client: TestClient, services: Services, court: Court_) -> None:
    """The shape docs/protocol.md promises: UTC times, and no personal data."""
    rig = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A")
    hearing = services.unit_of_work(lambda db: db.get_one(Hearing, court.hearing_a))
    expected = {
        "id": court.hearing_a,
        "case_number": "SS 1-100/2026",
        "state": "scheduled",
        "scheduled_start": hearing.scheduled_start.astimezone(UTC).isoformat(),
        "scheduled_end": hearing.scheduled_end.astimezone(UTC).isoformat(),
        "courtroom": "Room A",
        "facility": "Facility A",
    }
    assert expected["scheduled_start"].endswith("+00:00")
    one = client.get(f"/api/device/hearings/{court.hearing_a}", headers=as_device(rig.token))
    assert one.status_code == 200 and one.json() == expected
    listing = client.get("/api/device/hearings", headers=as_device(rig.token))
    assert listing.json() == {"device": "rig-a", "hearings": [expected]}


def test_the_kiosk_shows_todays_hearings_in_court_time(client: TestClient, services: Services, court: Court_) -> None:
    kiosk = enroll_device(services, "kiosk-b", EndpointKind.CUSTODY, "Facility B")
    hearing = services.unit_of_work(lambda db: db.get_one(Hearing, court.hearing_b))
    page = client.get("/device", headers=as_device(kiosk.token))
    local = hearing.scheduled_start.astimezone(ZoneInfo("Europe/Copenhagen"))
    assert page.status_code == 200
    # The kiosk page (kiosk.js draws it) carries its site's docket, in court time.
    docket = json.loads(re.search(r'data-role="docket">(.*?)</script>', page.text).group(1))  # type: ignore[union-attr]
    assert [(h["case_number"], h["local_start"], h["state"]) for h in docket["hearings"]] == [
        ("SS 1-200/2026", f"{local:%H:%M}", "scheduled")
    ]
    assert "SS 1-100/2026" not in page.text
    # Full screen, Danish until someone chooses, nothing that navigates away.
    assert '<html lang="da">' in page.text and "<a " not in page.text and "<nav" not in page.text
