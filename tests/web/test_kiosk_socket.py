"""The kiosk socket, `/ws/device`: the kiosk's heartbeat, its docket, the
console's requests; who may open it and what bad messages get."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from hearing.actors import SYSTEM
from hearing.auth import devices
from hearing.config import Settings
from hearing.custody import kiosk
from hearing.custody.presence import EndpointPresence
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from hearing.web import devices as device_routes
from tests.conftest import Court_, enroll_device, logged, login_as, open_hearing

RECHECK = 0.2


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, cookie_secure=True, socket_recheck_seconds=RECHECK)


def kiosk_at(services: Services, site: str, kind: EndpointKind = EndpointKind.CUSTODY, name: str = "kiosk-a") -> Any:
    creds = enroll_device(services, name, kind, site)
    return creds, {"Authorization": f"Device {creds.token}"}


def refused(client: TestClient, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], int]:
    with client.websocket_connect("/ws/device", headers=headers or {}) as ws:
        message = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    return message, closed.value.code


def leave(ws: WebSocketTestSession) -> None:
    """Leave, and wait until the server has closed (and written what it writes)."""
    ws.send_json({"type": "leave"})
    with pytest.raises(WebSocketDisconnect):
        while True:
            ws.receive_json()


def until(ws: WebSocketTestSession, kind: str) -> dict[str, Any]:
    for _ in range(50):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_the_welcome_lists_the_days_hearings_at_the_devices_own_site_only(
    client: TestClient, services: Services, court: Court_
) -> None:
    for site, kind, name, expected in [
        ("Facility A", EndpointKind.CUSTODY, "kiosk-a", court.hearing_a),
        ("Facility B", EndpointKind.CUSTODY, "kiosk-b", court.hearing_b),
        ("Room A", EndpointKind.BOOTH, "booth-a", court.hearing_a),
        ("Room B", EndpointKind.BOOTH, "booth-b", court.hearing_b),
    ]:
        _, headers = kiosk_at(services, site, kind, name)
        with client.websocket_connect("/ws/device", headers=headers) as ws:
            welcome = ws.receive_json()
            leave(ws)
        assert (welcome["type"], welcome["device"], welcome["kind"]) == ("welcome", name, kind.value)
        assert welcome["seat"] == {"custody": "custody", "booth": "booth"}[kind.value]
        assert [h["id"] for h in welcome["hearings"]] == [expected], name
        hearing = welcome["hearings"][0]
        assert set(hearing) == {
            "id",
            "case_number",
            "state",
            "scheduled_start",
            "scheduled_end",
            "local_start",
            "local_end",
            "court",
            "courtroom",
            "facility",
        }
        assert hearing["state"] == "scheduled"
        # No personal data on the kiosk's wire: no name, no reference.
        assert "detainee" not in json.dumps(welcome)
        # The same scope as the device API.
        api = client.get("/api/device/hearings", headers=headers).json()
        assert [h["id"] for h in api["hearings"]] == [expected]


def test_the_kiosk_learns_within_seconds_that_its_hearing_opened(
    client: TestClient, services: Services, court: Court_
) -> None:
    _, headers = kiosk_at(services, "Facility A")
    with client.websocket_connect("/ws/device", headers=headers) as ws:
        assert ws.receive_json()["hearings"][0]["state"] == "scheduled"
        started = time.monotonic()
        open_hearing(services, court.hearing_a)
        docket = until(ws, "docket")
        took = time.monotonic() - started
        assert [(h["id"], h["state"]) for h in docket["hearings"]] == [(court.hearing_a, "open")]
        print(f"kiosk told the hearing opened after {took * 1000:.0f} ms")
        assert took < device_routes.DOCKET_SECONDS + 1.5
        open_hearing(services, court.hearing_a, HearingState.IN_SESSION)
        assert until(ws, "docket")["hearings"][0]["state"] == "in_session"
        # Heartbeats in between do not repeat an unchanged docket.
        for nonce in range(3):
            ws.send_json({"type": "ping", "nonce": nonce})
            assert ws.receive_json() == {"type": "pong", "nonce": nonce}
        leave(ws)


def test_the_heartbeat_keeps_the_endpoint_online_and_closing_takes_it_offline(
    client: TestClient, services: Services, court: Court_
) -> None:
    now = [1000.0]
    presence = EndpointPresence(clock=lambda: now[0])
    client.app.state.endpoint_presence = presence  # type: ignore[attr-defined]
    changes: list[tuple[int, bool]] = []
    presence.watch(lambda endpoint, online: changes.append((endpoint, online)))
    creds, headers = kiosk_at(services, "Facility A")
    assert not presence.online(creds.endpoint_id)
    with client.websocket_connect("/ws/device", headers=headers) as ws:
        ws.receive_json()
        assert presence.online(creds.endpoint_id)
        now[0] += 4
        ws.send_json({"type": "ping", "nonce": 1})
        assert ws.receive_json() == {"type": "pong", "nonce": 1}
        now[0] += 4  # 8 s after it opened, 4 s after its last ping
        assert presence.online(creds.endpoint_id)
        now[0] += 2
        assert not presence.online(creds.endpoint_id)  # silent for 6 s: not answering
        ws.send_json({"type": "ping", "nonce": 2})
        ws.receive_json()
        assert presence.online(creds.endpoint_id)
        ws.send_json({"type": "leave"})
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    assert not presence.online(creds.endpoint_id)
    assert changes == [(creds.endpoint_id, True), (creds.endpoint_id, False)]


def test_the_console_reaches_the_kiosk_through_presence(client: TestClient, services: Services, court: Court_) -> None:
    creds, headers = kiosk_at(services, "Facility A")
    presence: EndpointPresence = client.app.state.endpoint_presence  # type: ignore[attr-defined]
    assert client.portal is not None
    assert client.portal.call(presence.tell, creds.endpoint_id, {"type": "test_call"}) is False
    with client.websocket_connect("/ws/device", headers=headers) as ws:
        ws.receive_json()
        for message in ({"type": "connect", "hearing": court.hearing_a}, {"type": "test_call"}):
            assert client.portal.call(presence.tell, creds.endpoint_id, message) is True
            assert ws.receive_json() == message
        # A newer page (a reload) replaces this one: it is told, and closed.
        with client.websocket_connect("/ws/device", headers=headers) as newer:
            assert newer.receive_json()["type"] == "welcome"
            assert ws.receive_json()["type"] == "replaced"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4409
            assert presence.online(creds.endpoint_id)
            assert client.portal.call(presence.tell, creds.endpoint_id, {"type": "test_call"}) is True
            assert newer.receive_json() == {"type": "test_call"}
            leave(newer)


def test_bad_messages_get_stable_errors_and_change_nothing(
    client: TestClient, services: Services, court: Court_
) -> None:
    creds, headers = kiosk_at(services, "Facility A")
    presence: EndpointPresence = client.app.state.endpoint_presence  # type: ignore[attr-defined]
    with client.websocket_connect("/ws/device", headers=headers) as ws:
        ws.receive_json()
        before = len(logged(services))
        cases = [
            ("not json", "malformed_message"),
            ("[1, 2]", "malformed_message"),
            (json.dumps({"type": 7}), "malformed_message"),
            (json.dumps({"type": "offer", "sdp": "v=0"}), "unknown_message"),
            (json.dumps({"type": "request", "speaker": "custody:detainee"}), "unknown_message"),
            (json.dumps({"type": "ping"}), "malformed_message"),
            (json.dumps({"type": "ping", "nonce": -1}), "malformed_message"),
            (json.dumps({"type": "ping", "nonce": True}), "malformed_message"),
            (json.dumps({"type": "ping", "nonce": 1, "extra": "x"}), "malformed_message"),
            (json.dumps({"type": "leave", "now": True}), "malformed_message"),
            ("[" * 40 + "]" * 40, "malformed_message"),
            (json.dumps({"type": "ping", "nonce": 1, "pad": "x" * kiosk.MAX_MESSAGE_BYTES}), "message_too_large"),
            ("x" * 1_000_000, "message_too_large"),
        ]
        for raw, code in cases:
            ws.send_text(raw)
            reply = ws.receive_json()
            assert (reply["type"], reply["error"]) == ("error", code), raw[:40]
        ws.send_bytes(b"\xff\x00")
        assert ws.receive_json()["error"] == "malformed_message"
        # The socket still works, the kiosk is still online, nothing was written.
        ws.send_json({"type": "ping", "nonce": 9})
        assert ws.receive_json() == {"type": "pong", "nonce": 9}
        assert presence.online(creds.endpoint_id)
        assert len(logged(services)) == before
        leave(ws)


def test_only_an_enrolled_device_opens_it(client: TestClient, services: Services, court: Court_) -> None:
    message, code = refused(client)
    assert (message["error"], code) == ("device_not_authorised", 4401)
    message, code = refused(client, {"Authorization": "Device not-a-token"})
    assert (message["error"], code) == ("device_not_authorised", 4401)
    for role in ("judge", "clerk", "custody_officer", "admin"):
        client.cookies.clear()
        login_as(client, services, court.users[role])
        message, code = refused(client)
        assert (message["error"], code) == ("device_not_authorised", 4401), role
    client.cookies.clear()
    _, headers = kiosk_at(services, "Facility A")
    message, code = refused(client, {**headers, "Origin": "https://evil.example"})
    assert (message["error"], code) == ("permission_denied", 4403)
    assert [e.action for e in logged(services)][-1] == "access.denied"


def test_a_device_of_another_site_cannot_join_the_hearing_and_is_audited(
    client: TestClient, services: Services, court: Court_
) -> None:
    """What the kiosk lists it may join; another site's hearing: 403, audited
    (the custody kiosk and the booth alike)."""
    open_hearing(services, court.hearing_a)
    others = [("Facility B", EndpointKind.CUSTODY, "kiosk-b"), ("Room B", EndpointKind.BOOTH, "booth-b")]
    for site, kind, name in others:
        creds, headers = kiosk_at(services, site, kind, name)
        with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media", headers=headers) as ws:
            assert ws.receive_json()["error"] == "permission_denied"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 4403
        denied = [e for e in logged(services) if e.action == "access.denied"][-1]
        assert (denied.actor_kind, denied.actor_id, denied.actor_role) == ("device", creds.endpoint_id, kind.value)


@pytest.mark.timeout(30)
def test_a_revoked_device_is_closed_4401(client: TestClient, services: Services, court: Court_) -> None:
    creds, headers = kiosk_at(services, "Facility A")
    presence: EndpointPresence = client.app.state.endpoint_presence  # type: ignore[attr-defined]
    with client.websocket_connect("/ws/device", headers=headers) as ws:
        ws.receive_json()
        started = time.monotonic()
        services.unit_of_work(lambda db: devices.revoke(db, SYSTEM, "kiosk-a", datetime.now(UTC)))
        last = until(ws, "revoked")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
        assert time.monotonic() - started < RECHECK + 3.0
        assert "revoked" in last["message"]
    assert not presence.online(creds.endpoint_id)
    message, code = refused(client, headers)
    assert (message["error"], code) == ("device_not_authorised", 4401)


def test_a_silent_kiosk_is_closed(
    client: TestClient, services: Services, court: Court_, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(device_routes, "KIOSK_LIVENESS_SECONDS", 0.5)
    creds, headers = kiosk_at(services, "Facility A")
    presence: EndpointPresence = client.app.state.endpoint_presence  # type: ignore[attr-defined]
    with client.websocket_connect("/ws/device", headers=headers) as ws:
        ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4408
    assert not presence.online(creds.endpoint_id)


def test_a_seat_is_told_the_hearing_state_the_recording_and_who_may_ask_to_speak(
    client: TestClient, services: Services, court: Court_
) -> None:
    """What the kiosk page draws from its media socket: a custody seat has
    the detainee to ask for, a booth nobody (so it shows no Ask to speak)."""
    h = court.hearing_a
    open_hearing(services, h, HearingState.IN_SESSION)
    _, custody = kiosk_at(services, "Facility A")
    _, booth = kiosk_at(services, "Room A", EndpointKind.BOOTH, "booth-a")
    with (
        client.websocket_connect(f"/ws/hearings/{h}/media", headers=custody) as custody_ws,
        client.websocket_connect(f"/ws/hearings/{h}/media", headers=booth) as booth_ws,
    ):
        welcome = custody_ws.receive_json()
        assert (welcome["seat"], welcome["hearing_state"], welcome["recording"]) == ("custody", "in_session", False)
        assert "custody:detainee" in welcome["speakers"]
        assert all(s.startswith("custody:") for s in welcome["speakers"])
        assert {"judge", "courtroom", "custody", "booth"} <= set(welcome["seats"])
        assert welcome["floor"]["hidden_from"] == []
        told = booth_ws.receive_json()
        assert (told["seat"], told["speakers"]) == ("booth", [])
        live = client.app.state.live_hearings.get(h)  # type: ignore[attr-defined]
        assert client.portal is not None
        client.portal.call(live.set_recording, True)
        for ws in (custody_ws, booth_ws):
            assert until(ws, "recording") == {"type": "recording", "recording": True}
        client.portal.call(live.lifecycle_moved, HearingState.PAUSED)
        for ws in (custody_ws, booth_ws):
            # The state, not the judge's transitions.
            assert until(ws, "hearing") == {"type": "hearing", "hearing_state": "paused"}
        for ws in (custody_ws, booth_ws):
            leave(ws)
