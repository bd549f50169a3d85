"""A flooding endpoint: its floor commands are paced per seat (no
transaction, no audit entry, the socket stays open), and its repeated
identical refusals are counted in one entry instead of appended one by one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from hearing.live.registry import LiveHearings
from hearing.services import Services
from hearing.web.ratelimit import SlidingWindow
from tests.conftest import (
    Court_,
    admit,
    csrf_token,
    custody_headers,
    logged,
    login_as,
    open_hearing,
    post_floor_command,
)

OWN = {"type": "request", "speaker": "custody:detainee"}
WITHDRAW = {"type": "withdraw", "speaker": "custody:detainee"}
OTHERS = {"type": "request", "speaker": "courtroom:prosecutor"}


class Clock:
    """The live hearing's monotonic clock, moved by the test: the pacing is
    then exact whatever the machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(client: TestClient) -> Clock:
    clock = Clock()
    client.app.state.live_hearings = LiveHearings(clock=clock)  # type: ignore[attr-defined]
    return clock


def until_pong(ws: WebSocketTestSession, nonce: int) -> list[dict[str, Any]]:
    ws.send_json({"type": "ping", "nonce": nonce})
    seen = []
    while (message := ws.receive_json()) != {"type": "pong", "nonce": nonce}:
        seen.append(message)
    return seen


def leave(ws: WebSocketTestSession) -> None:
    ws.send_json({"type": "leave"})
    with pytest.raises(WebSocketDisconnect):
        while True:
            ws.receive_json()


def test_a_flooding_kiosk_is_paced(client: TestClient, services: Services, court: Court_, clock: Clock) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    admit(services, court, h)
    headers = custody_headers(services)
    login_as(client, services, court.users["judge"])
    with (
        client.websocket_connect(f"/ws/hearings/{h}/panel") as panel,
        client.websocket_connect(f"/ws/hearings/{h}/media", headers=headers) as media,
    ):
        assert panel.receive_json()["type"] == "snapshot"
        assert media.receive_json()["type"] == "welcome"
        before = len(logged(services))
        cycle = [OWN, WITHDRAW, OTHERS]
        for n in range(400):
            media.send_json(cycle[n % 3])
        seen = until_pong(media, 1)  # still open, still answering
        errors = Counter(m["error"] for m in seen if m["type"] == "error")
        assert errors == {"rate_limited": 395, "permission_denied": 1}
        # The burst of 5: two requests, two withdrawals, one refusal.
        new = [e.action for e in logged(services)[before:]]
        assert new == ["floor.requested", "floor.withdrawn", "access.denied", "floor.requested", "floor.withdrawn"]
        # The panel: four floor updates, then the judge's own marker.
        token = csrf_token(client, "/hearings")
        marker = post_floor_command(client, h, {"action": "mode", "mode": "controlled"}, token)
        assert marker.status_code == 200
        pushes = []
        while (message := panel.receive_json()).get("version") != marker.json()["version"]:
            pushes.append(message["type"])
        assert pushes.count("floor") == 4
        # A second later the bucket has a token again: a real request goes through.
        clock.now += 1.0
        media.send_json(OWN)
        floor = [m for m in until_pong(media, 2) if m["type"] == "floor"]
        assert floor and floor[-1]["queued"] == ["custody:detainee"]
        leave(media)
    assert [e.action for e in logged(services)[before:]].count("floor.requested") == 3


def test_repeated_refusals_are_counted_in_one_entry(
    client: TestClient, services: Services, court: Court_, clock: Clock
) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    admit(services, court, h)
    headers = custody_headers(services)
    with client.websocket_connect(f"/ws/hearings/{h}/media", headers=headers) as media:
        assert media.receive_json()["type"] == "welcome"
        before = len(logged(services))
        for _ in range(10):
            media.send_json(OTHERS)
            assert media.receive_json()["error"] == "permission_denied"
            clock.now += 1.0  # each one paced through: only the counting holds them back
        assert [e.action for e in logged(services)[before:]] == ["access.denied"]
        # The window closes: the count is appended at the next message.
        clock.now += 60.0
        until_pong(media, 1)
        entries = logged(services)[before:]
        assert [e.action for e in entries] == ["access.denied", "access.denied_repeated"]
        summary = entries[-1].payload or {}
        assert summary["repeated"] == 9 and summary["seat"] == "custody" and summary["reason"] == "permission_denied"
        assert summary["target_hearing"] == h
        # A new window: the first is appended, the next three are counted
        # and appended when the socket ends.
        for _ in range(4):
            media.send_json(OTHERS)
            assert media.receive_json()["error"] == "permission_denied"
            clock.now += 1.0
        leave(media)
    entries = logged(services)[before:]
    assert [e.action for e in entries] == [
        "access.denied",
        "access.denied_repeated",
        "access.denied",
        "access.denied_repeated",
        "participant.left",
    ]
    assert (entries[3].payload or {})["repeated"] == 3
    counted = [(e.payload or {})["repeated"] for e in entries if e.action == "access.denied_repeated"]
    assert [e.action for e in entries].count("access.denied") + sum(counted) == 14  # type: ignore[arg-type]


def test_a_reconnect_storm_is_refused_at_the_handshake_and_writes_nothing(
    client: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    admit(services, court, h)
    headers = custody_headers(services)
    client.app.state.connection_limiter = SlidingWindow(3)  # type: ignore[attr-defined]
    for _ in range(3):
        with client.websocket_connect(f"/ws/hearings/{h}/media", headers=headers) as media:
            assert media.receive_json()["type"] == "welcome"
            leave(media)
    before = len(logged(services))
    for _ in range(20):
        with client.websocket_connect(f"/ws/hearings/{h}/media", headers=headers) as media:
            assert media.receive_json()["error"] == "rate_limited"
            with pytest.raises(WebSocketDisconnect) as closed:
                media.receive_json()
            assert closed.value.code == 4429
    # Twenty refused connections: no participant.joined/left, no entry at all.
    assert len(logged(services)) == before
    # Another identity is not held back by this one's storm.
    login_as(client, services, court.users["judge"])
    with client.websocket_connect(f"/ws/hearings/{h}/media") as judge:
        assert judge.receive_json()["type"] == "welcome"
        leave(judge)
