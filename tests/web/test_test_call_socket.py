"""The test call's socket: a real aiortc endpoint loops its media through
the server and gets a recorded grade; bad, oversized and unauthorised input
changes nothing; a link that drops a fifth of its packets grades poor or bad."""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.actors import SYSTEM
from hearing.auth import devices
from hearing.config import Settings
from hearing.custody.testcall import KEYS, MAX_MESSAGE_BYTES
from hearing.db.models import TestCall
from hearing.docket.parties import EndpointKind
from hearing.media.loop_client import LoopClient, LoopClientError
from hearing.media.tracks import PatternTrack, ToneTrack
from hearing.services import Services
from tests.browser import LiveServer
from tests.conftest import Court_, enroll_device, logged, login_as
from tests.waiting import wait_until

PATH = "/ws/device/test-call"
SECONDS = 4.0


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # A shorter loop than the kiosk's 8 s: enough for RTCP to report a round trip.
    return Settings(data_dir=tmp_path, database_url=database_url, cookie_secure=True, test_call_seconds=SECONDS)


def device_headers(services: Services, name: str, kind: EndpointKind = EndpointKind.CUSTODY) -> dict[str, str]:
    site = "Room A" if kind.at_courtroom else "Facility A"
    return {"Authorization": f"Device {enroll_device(services, name, kind, site).token}"}


def rows(services: Services) -> int:
    return services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(TestCall)))


def url(server: LiveServer) -> str:
    return f"ws://127.0.0.1:{server.settings.port}{PATH}"


async def call(server: LiveServer, headers: dict[str, str], **options: Any) -> tuple[LoopClient, dict[str, Any]]:
    client = LoopClient(url(server), headers=headers, **options)
    camera, microphone = PatternTrack(1280, 720, 25), ToneTrack(440.0)
    try:
        result = await client.run(camera, microphone)
    finally:
        await client.close()
        camera.stop()
        microphone.stop()
    return client, result


# --- a real call ----------------------------------------------------------------------


def test_a_test_call_loops_the_media_back_and_is_recorded_and_audited(
    live_server: LiveServer, services: Services, court: Court_
) -> None:
    headers = device_headers(services, "kiosk-a")
    client, result = asyncio.run(call(live_server, headers))
    assert result["type"] == "result"
    # The picture came back at the size it was sent: forwarded, not re-encoded.
    assert client.first_frame_at is not None
    assert {(w, h) for _, w, h in client.frames} == {(1280, 720)}
    figures = result["figures"]
    assert set(figures) == set(KEYS)
    assert figures["width"] == 1280 and figures["height"] == 720
    assert figures["rtt_ms"] is not None and figures["rtt_ms"] < 100
    assert figures["loss_percent"] is not None and figures["loss_percent"] <= 1.0
    assert figures["audio_dbfs"] is not None and figures["audio_dbfs"] > -20  # the tone, heard back
    assert (result["grade"], result["reasons"]) == ("good", []), result

    def stored(db: Any) -> list[tuple[str, dict[str, Any]]]:
        return [(c.grade, json.loads(c.figures)) for c in db.scalars(select(TestCall))]

    assert services.unit_of_work(stored) == [("good", figures)]
    entries = [e for e in logged(services) if e.action == "endpoint.test_call"]
    assert len(entries) == 1
    assert entries[0].actor_kind == "device" and entries[0].hearing_id is None
    assert entries[0].payload is not None
    assert {k: entries[0].payload[k] for k in ("grade", "figures", "reasons")} == {
        "grade": "good",
        "figures": figures,
        "reasons": [],
    }


@pytest.mark.sqlite_only
def test_a_malformed_report_is_refused_and_a_good_one_still_counts(
    live_server: LiveServer, services: Services, court: Court_
) -> None:
    headers = device_headers(services, "kiosk-a")
    bad_reports: list[Any] = [
        {"type": "report", "width": 1280, "height": 720, "fps": 25},  # audio_dbfs missing
        {"type": "report", "width": 1280, "height": 720, "fps": 25, "audio_dbfs": 3},  # above 0 dBFS
        {"type": "report", "width": -1, "height": 720, "fps": 25, "audio_dbfs": -10},
        {"type": "report", "width": 1280.5, "height": 720, "fps": 25, "audio_dbfs": -10},
        {"type": "report", "width": True, "height": 720, "fps": 25, "audio_dbfs": -10},
        {"type": "report", "width": 1280, "height": 720, "fps": "25", "audio_dbfs": -10},
        {"type": "report", "width": 1280, "height": 720, "fps": 1e9, "audio_dbfs": -10},
        {"type": "report", "width": 1280, "height": 720, "fps": 25, "audio_dbfs": -10, "grade": "good"},
    ]

    async def steps() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        client = LoopClient(url(live_server), headers=headers)
        camera, microphone = PatternTrack(640, 360, 25), ToneTrack(440.0)
        refusals: list[dict[str, Any]] = []

        async def before_report() -> None:
            assert rows(services) == 0
            for bad in bad_reports:
                await client.send(bad)
                refusals.append(await client.next_message())

        try:
            result = await client.run(camera, microphone, before_report=before_report)
        finally:
            await client.close()
            camera.stop()
            microphone.stop()
        return refusals, result

    refusals, result = asyncio.run(steps())
    assert [r.get("error") for r in refusals] == ["malformed_message"] * len(bad_reports), refusals
    assert result["type"] == "result"
    assert rows(services) == 1


# --- refusals, without media ------------------------------------------------------------


def refusal(client: TestClient, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], int]:
    with client.websocket_connect(PATH, headers=headers or {}) as ws:
        message = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    return message, closed.value.code


@pytest.mark.sqlite_only
def test_only_custody_and_booth_kiosks_may_make_a_test_call(
    client: TestClient, services: Services, court: Court_
) -> None:
    assert refusal(client)[0]["error"] == "device_not_authorised"
    login_as(client, services, court.users["custody_officer"])
    message, code = refusal(client)  # a staff session is not a device
    assert (message["error"], code) == ("device_not_authorised", 4401)
    client.cookies.clear()
    rig = device_headers(services, "rig-a", EndpointKind.COURTROOM)
    message, code = refusal(client, rig)
    assert (message["error"], code) == ("permission_denied", 4403)
    denied = [e for e in logged(services) if e.action == "access.denied"]
    assert len(denied) == 1 and denied[0].actor_kind == "device"
    assert denied[0].payload is not None and denied[0].payload["path"] == PATH
    for name, kind in (("kiosk-a", EndpointKind.CUSTODY), ("booth-a", EndpointKind.BOOTH)):
        with client.websocket_connect(PATH, headers=device_headers(services, name, kind)) as ws:
            assert ws.receive_json() == {"type": "welcome", "seconds": SECONDS}
            ws.send_json({"type": "leave"})
    assert rows(services) == 0


@pytest.mark.sqlite_only
def test_a_revoked_device_is_refused_and_its_running_call_closed(
    client: TestClient, services: Services, court: Court_
) -> None:
    headers = device_headers(services, "kiosk-a")
    with client.websocket_connect(PATH, headers=headers) as ws:
        assert ws.receive_json()["type"] == "welcome"
        services.unit_of_work(lambda db: devices.revoke(db, SYSTEM, "kiosk-a", datetime.now(UTC)))
        # The socket watch looks every 2 s (settings.socket_recheck_seconds).
        assert ws.receive_json()["type"] == "revoked"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
    assert refusal(client, headers)[0]["error"] == "device_not_authorised"
    assert rows(services) == 0


@pytest.mark.sqlite_only
def test_a_second_test_call_of_the_same_endpoint_is_refused(
    client: TestClient, services: Services, court: Court_
) -> None:
    headers = device_headers(services, "kiosk-a")
    other = device_headers(services, "kiosk-a2")
    with client.websocket_connect(PATH, headers=headers) as first:
        assert first.receive_json()["type"] == "welcome"
        message, code = refusal(client, headers)
        assert (message["error"], code) == ("test_call_busy", 4409)
        with client.websocket_connect(PATH, headers=other) as second:  # another endpoint may
            assert second.receive_json()["type"] == "welcome"
            second.send_json({"type": "leave"})
        first.send_json({"type": "leave"})
    with client.websocket_connect(PATH, headers=headers) as again:  # once it ended, again
        assert again.receive_json()["type"] == "welcome"
        again.send_json({"type": "leave"})


@pytest.mark.sqlite_only
def test_bad_messages_get_stable_errors_and_record_nothing(
    client: TestClient, services: Services, court: Court_
) -> None:
    headers = device_headers(services, "kiosk-a")
    report = {"type": "report", "width": 1280, "height": 720, "fps": 25, "audio_dbfs": -12}
    cases: list[tuple[Any, str]] = [
        ("not json", "malformed_message"),
        ("[1, 2]", "malformed_message"),
        ('{"type": "report", "type": "report"}', "malformed_message"),
        (json.dumps({"type": "dance"}), "unknown_message"),
        (json.dumps({"type": "offer"}), "malformed_message"),
        (json.dumps({"type": "offer", "sdp": "hello"}), "bad_sdp"),
        (json.dumps({"type": "offer", "sdp": "v=0\r\n", "views": []}), "malformed_message"),
        (json.dumps({"type": "ping", "nonce": -1}), "malformed_message"),
        (json.dumps({"type": "ping", "nonce": 1.5}), "malformed_message"),
        (json.dumps({**report, "fps": float("nan")}), "malformed_message"),
        ("[" * 100 + "]" * 100, "malformed_message"),
        (json.dumps({"type": "ping", "nonce": 1, "pad": "x" * MAX_MESSAGE_BYTES}), "message_too_large"),
        # A well-formed report before the server asks for one is refused too.
        (json.dumps(report), "unexpected_message"),
        # An offer aiortc cannot use: refused, and the call may still be offered again.
        (json.dumps({"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}), "bad_sdp"),
    ]
    with client.websocket_connect(PATH, headers=headers) as ws:
        assert ws.receive_json()["type"] == "welcome"
        for raw, code in cases:
            ws.send_text(raw)
            answer = ws.receive_json()
            assert (answer["type"], answer.get("error")) == ("error", code), raw[:80]
        ws.send_json({"type": "ping", "nonce": 7})
        assert ws.receive_json() == {"type": "pong", "nonce": 7}  # still working
        ws.send_json({"type": "leave"})
    assert rows(services) == 0
    assert [e for e in logged(services) if e.action == "endpoint.test_call"] == []


# --- a lossy link ---------------------------------------------------------------------------


class LossyRelay(threading.Thread):
    """A userspace UDP relay on loopback that drops a share of the packets
    in each direction (netem is not available on these machines). The
    client sends to it instead of the server: the answer's candidates are
    rewritten to its port. Seeded: the same drops on every run."""

    def __init__(self, server_port: int, drop: float, seed: int = 11) -> None:
        super().__init__(daemon=True, name="lossy-relay")
        self.server = ("127.0.0.1", server_port)
        self.drop = drop
        self.random = random.Random(seed)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.client: tuple[str, int] | None = None
        self.passed = self.dropped = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if sender == self.server:
                target = self.client
            else:
                self.client, target = sender, self.server
            if target is None:
                continue
            if self.random.random() < self.drop:
                self.dropped += 1
                continue
            self.passed += 1
            self.sock.sendto(data, target)

    def stop(self) -> None:
        self._halt.set()
        self.join(2)
        self.sock.close()


CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ udp \d+ )127\.0\.0\.1 (\d+)( typ host.*)$", re.MULTILINE)


@pytest.fixture
def relay_for() -> Iterator[list[LossyRelay]]:
    made: list[LossyRelay] = []
    yield made
    for relay in made:
        relay.stop()


@pytest.mark.sqlite_only
def test_a_link_that_drops_a_fifth_of_its_packets_grades_poor_or_bad_for_loss(
    live_server: LiveServer, services: Services, court: Court_, relay_for: list[LossyRelay]
) -> None:
    def through_relay(sdp: str) -> str:
        ports = {int(m.group(2)) for m in CANDIDATE.finditer(sdp)}
        assert len(ports) == 1, sdp  # max-bundle, loopback only: one host candidate
        relay = LossyRelay(ports.pop(), drop=0.2)
        relay.start()
        relay_for.append(relay)
        return CANDIDATE.sub(lambda m: f"{m.group(1)}127.0.0.1 {relay.port}{m.group(3)}", sdp)

    headers = device_headers(services, "kiosk-a")
    try:
        _, result = asyncio.run(call(live_server, headers, answer_filter=through_relay))
    except LoopClientError as error:  # the loss may keep DTLS from ever completing
        pytest.fail(f"the lossy call did not complete: {error}")
    relay = relay_for[0]
    assert relay.dropped > 0.1 * (relay.passed + relay.dropped)  # the media did go through it
    assert result["grade"] in ("poor", "bad"), result
    assert "loss" in result["reasons"], result
    assert result["figures"]["loss_percent"] > 5.0, result
    wait_until(lambda: rows(services) == 1)
