"""The media socket: who may join, what bad messages get, and real media."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.docket.parties import EndpointKind
from hearing.media.client import MediaClient, MediaClientError
from hearing.media.mixer import SAMPLE_RATE
from hearing.media.signaling import MAX_MESSAGE_BYTES
from hearing.media.tracks import ToneTrack, to_mono
from hearing.services import Services
from tests.browser import LiveServer
from tests.conftest import Court_, admit, enroll_device, logged, login_as, open_hearing, session_cookie

SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def enroll(services: Services, name: str, kind: EndpointKind, site: str) -> str:
    return enroll_device(services, name, kind, site).token


def refusal(client: TestClient, path: str, headers: dict[str, str] | None = None) -> tuple[dict[str, object], int]:
    with client.websocket_connect(path, headers=headers or {}) as ws:
        message = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    return message, closed.value.code


def test_anonymous_and_unauthorised_callers_are_refused(client: TestClient, services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_a)
    path = f"/ws/hearings/{court.hearing_a}/media"
    message, code = refusal(client, path)
    assert (message["error"], code) == ("not_authenticated", 4401)
    message, code = refusal(client, path, {"Authorization": "Device not-a-token"})
    assert (message["error"], code) == ("device_not_authorised", 4401)
    for role in ("clerk", "custody_officer", "auditor", "admin"):
        client.cookies.clear()
        login_as(client, services, court.users[role])
        message, code = refusal(client, path)
        assert (message["error"], code) == ("permission_denied", 4403), role
    client.cookies.clear()
    login_as(client, services, court.users["judge"])
    message, code = refusal(client, f"/ws/hearings/{court.hearing_b}/media")  # another courtroom
    assert (message["error"], code) == ("permission_denied", 4403)
    kiosk_b = enroll(services, "kiosk-b", EndpointKind.CUSTODY, "Facility B")
    message, code = refusal(client, path, {"Authorization": f"Device {kiosk_b}"})
    assert (message["error"], code) == ("permission_denied", 4403)
    message, code = refusal(client, "/ws/hearings/9999/media")
    assert (message["error"], code) == ("hearing_not_found", 4404)
    denied = [e for e in logged(services) if e.action == "access.denied"]
    assert len(denied) == 6


def test_a_socket_opened_from_another_site_is_refused(client: TestClient, services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    path = f"/ws/hearings/{court.hearing_a}/media"
    message, code = refusal(client, path, {"Origin": "https://evil.example"})
    assert (message["error"], code) == ("permission_denied", 4403)
    with client.websocket_connect(path, headers={"Origin": "https://testserver"}) as ws:
        assert ws.receive_json()["type"] == "welcome"
        ws.send_json({"type": "leave"})


def test_a_hearing_that_is_not_open_cannot_be_joined(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["judge"])
    message, code = refusal(client, f"/ws/hearings/{court.hearing_a}/media")
    assert (message["error"], code) == ("hearing_not_open", 4409)


def test_bad_messages_get_errors_and_leave_the_socket_working(
    client: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media") as ws:
        welcome = ws.receive_json()
        assert {k: welcome[k] for k in ("type", "seat", "hearing")} == {
            "type": "welcome",
            "seat": "judge",
            "hearing": court.hearing_a,
        }
        assert welcome["floor"]["admitted"] is True and welcome["floor"]["version"] == 0
        cases = [
            ("not json", "malformed_message"),
            (json.dumps({"type": "explode"}), "unknown_message"),
            ("x" * (MAX_MESSAGE_BYTES + 1), "message_too_large"),
            (json.dumps({"type": "answer", "sdp": SDP}), "unexpected_message"),
            (json.dumps({"type": "offer", "sdp": SDP + "m=garbage\r\n"}), "bad_sdp"),
            (json.dumps({"type": "candidate", "candidate": "candidate:nonsense", "sdpMid": "0"}), "bad_candidate"),
        ]
        for raw, code in cases:
            ws.send_text(raw)
            reply = ws.receive_json()
            assert (reply["type"], reply["error"]) == ("error", code), raw[:40]
        ws.send_bytes(b"\xff\x00")
        assert ws.receive_json()["error"] == "malformed_message"
        ws.send_json({"type": "ping", "nonce": 42})
        assert ws.receive_json() == {"type": "pong", "nonce": 42}
        ws.send_json({"type": "leave"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1000
    actions = [(e.action, (e.payload or {}).get("reason")) for e in logged(services)]
    assert ("participant.joined", None) in actions and ("participant.left", "left") in actions


def test_silence_past_the_liveness_timeout_closes_the_socket(
    client: TestClient, services: Services, court: Court_, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hearing.web import media

    monkeypatch.setattr(media, "LIVENESS_SECONDS", 0.3)
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media") as ws:
        ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4408
    left = [e for e in logged(services) if e.action == "participant.left"]
    assert left and left[-1].payload == {"seat": "judge", "reason": "timeout"}


TONES = {"judge": 450.0, "courtroom": 1150.0, "custody": 1950.0}


def tones_in(frames: list[np.ndarray]) -> set[str]:
    signal = np.concatenate(frames).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    bins = np.fft.rfftfreq(len(signal), 1 / SAMPLE_RATE)
    energy = {seat: spectrum[np.argmin(np.abs(bins - f))] for seat, f in TONES.items()}
    loudest, noise = max(energy.values()), float(np.median(spectrum))
    return {seat for seat, e in energy.items() if e > loudest / 10 and e > noise * 100}


@pytest.mark.timeout(90)
def test_three_seats_hear_each_other_through_the_live_server(
    live_server: LiveServer, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    admit(services, court, court.hearing_a)
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{court.hearing_a}/media"
    credentials = {
        "judge": {"Cookie": f"hearing_session={session_cookie(services, court.users['judge'])}"},
        "courtroom": {"Authorization": f"Device {enroll(services, 'rig-a', EndpointKind.COURTROOM, 'Room A')}"},
        "custody": {"Authorization": f"Device {enroll(services, 'kiosk-a', EndpointKind.CUSTODY, 'Facility A')}"},
    }

    async def scenario() -> dict[str, set[str]]:
        heard: dict[str, list[np.ndarray]] = {seat: [] for seat in TONES}
        clients: dict[str, MediaClient] = {}
        readers = []

        async def record(seat: str, client: MediaClient) -> None:
            while not client.tracks:
                await asyncio.sleep(0.01)
            track = client.tracks[0]
            while True:
                heard[seat].append(to_mono(await track.recv()))  # type: ignore[arg-type]

        try:
            for seat, headers in credentials.items():
                client = MediaClient(url, headers=headers)
                await client.connect([ToneTrack(TONES[seat])])
                assert client.seat == seat
                clients[seat] = client
                readers.append(asyncio.create_task(record(seat, client)))
            deadline = time.monotonic() + 30
            while any(len(frames) < 75 for frames in heard.values()):
                assert time.monotonic() < deadline, {s: len(f) for s, f in heard.items()}
                await asyncio.sleep(0.05)
            return {seat: tones_in(frames[-25:]) for seat, frames in heard.items()}
        finally:
            for task in readers:
                task.cancel()
            for client in clients.values():
                await client.close()

    result = asyncio.run(scenario())
    assert result == {seat: set(TONES) - {seat} for seat in TONES}


@pytest.mark.timeout(60)
def test_the_client_reports_refusals(live_server: LiveServer, services: Services, court: Court_) -> None:
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{court.hearing_a}/media"

    async def scenario() -> str:
        client = MediaClient(url)
        try:
            await client.connect([ToneTrack(440.0)])
        except MediaClientError as exc:
            return exc.code
        finally:
            await client.close()
        return "connected"

    assert asyncio.run(scenario()) == "not_authenticated"


@pytest.mark.timeout(90)
def test_health_reaches_the_bench_and_a_returning_seat_is_a_reconnect(
    live_server: LiveServer, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{court.hearing_a}/media"
    judge_headers = {"Cookie": f"hearing_session={session_cookie(services, court.users['judge'])}"}
    custody_headers = {"Authorization": f"Device {enroll(services, 'kiosk-a', EndpointKind.CUSTODY, 'Facility A')}"}

    async def scenario() -> tuple[list[dict[str, object]], float]:
        judge = MediaClient(url, headers=judge_headers)
        custody = MediaClient(url, headers=custody_headers)
        await judge.connect([ToneTrack(450.0)])
        await custody.connect([ToneTrack(1150.0)])
        deadline = time.monotonic() + 15
        while not {e.get("seat") for e in judge.events if e["type"] == "health"} >= {"judge", "custody"}:
            assert time.monotonic() < deadline, list(judge.events)[-5:]
            await asyncio.sleep(0.1)
        # Custody drops off without a word and comes back.
        dropped = time.monotonic()
        assert custody._socket is not None
        custody._socket.transport.abort()  # type: ignore[attr-defined]
        await custody.connection.close()
        room = live_server.app.state.live_hearings.get(court.hearing_a).room
        while "custody" in room.peers:
            await asyncio.sleep(0.05)
        noticed = time.monotonic() - dropped
        again = MediaClient(url, headers=custody_headers)
        await again.connect([ToneTrack(1150.0)])
        await asyncio.sleep(0.5)
        events = list(judge.events)
        for client in (judge, again):
            await client.close()
        return events, noticed

    events, noticed = asyncio.run(scenario())
    health = [e for e in events if e["type"] == "health" and e["seat"] == "custody"]
    assert health and health[-1]["grade"] == "good" and health[-1]["loss_percent"] == 0
    assert any(e["type"] == "level" and e["seat"] == "custody" and e["speaking"] for e in events)
    assert noticed < 5.0
    joins = [e for e in logged(services) if e.action == "participant.joined" and (e.payload or {})["seat"] == "custody"]
    assert [(j.payload or {}).get("reconnected", False) for j in joins] == [False, True]
    lefts = [e.payload for e in logged(services) if e.action == "participant.left"]
    assert {"seat": "custody", "reason": "disconnected"} in lefts
