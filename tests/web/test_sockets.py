"""Sockets as docs/protocol.md says: one connection per seat, the seat's own
requests, bad offers and views, and what a receive-only seat is graded."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from hearing.docket.parties import EndpointKind
from hearing.media.mixer import SAMPLE_RATE
from hearing.services import Services
from tests.browser import LiveServer
from tests.conftest import Court_, admit, enroll_device, logged, login_as, open_hearing, session_cookie
from tests.media.peers import Peer
from tests.waiting import wait_until_async

pytestmark = pytest.mark.sqlite_only

SDP_WITHOUT_MEDIA = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def kiosk(services: Services) -> dict[str, str]:
    return {"Authorization": f"Device {enroll_device(services, 'kiosk-a', EndpointKind.CUSTODY, 'Facility A').token}"}


def leave(ws: WebSocketTestSession) -> None:
    """Leave, and wait for the server to close: it audits first."""
    ws.send_json({"type": "leave"})
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == 1000


OLDER_TONE, NEWER_TONE = 1950.0, 1150.0


def tones_in(frames: list[np.ndarray]) -> set[float]:
    """Which of the two kiosks' tones carry energy in these frames."""
    signal = np.concatenate(frames).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    bins = np.fft.rfftfreq(len(signal), 1 / SAMPLE_RATE)
    noise = float(np.median(spectrum))
    return {f for f in (OLDER_TONE, NEWER_TONE) if spectrum[np.argmin(np.abs(bins - f))] > noise * 100}


def test_a_newer_connection_replaces_the_seats_older_one(client: TestClient, services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_a)
    headers = {
        "Authorization": f"Device {enroll_device(services, 'kiosk-a', EndpointKind.CUSTODY, 'Facility A').token}"
    }
    path = f"/ws/hearings/{court.hearing_a}/media"
    with client.websocket_connect(path, headers=headers) as older:
        assert older.receive_json()["type"] == "welcome"
        with client.websocket_connect(path, headers=headers) as newer:
            assert newer.receive_json()["type"] == "welcome"
            assert older.receive_json()["type"] == "replaced"
            with pytest.raises(WebSocketDisconnect) as closed:
                older.receive_json()
            assert closed.value.code == 4409
            newer.send_json({"type": "ping", "nonce": 1})
            assert newer.receive_json() == {"type": "pong", "nonce": 1}  # the newer one stays
            live = client.app.state.live_hearings.get(court.hearing_a)
            assert live.connected == {"custody"} and live.seat_presence()["custody"]["present"] is True
            leave(newer)
    reasons = [(e.payload or {}).get("reason") for e in logged(services) if e.action == "participant.left"]
    assert reasons == ["replaced", "left"]


@pytest.mark.parametrize(
    ("offer", "code"),
    [
        ({"type": "offer", "sdp": "garbage"}, "bad_sdp"),
        ({"type": "offer", "sdp": SDP_WITHOUT_MEDIA}, "bad_sdp"),  # no audio or video section
        ({"type": "offer", "sdp": SDP_WITHOUT_MEDIA, "views": ["gallery"]}, "unknown_seat"),
        ({"type": "request", "speaker": "custody:prosecutor"}, "invalid_input"),  # no such speaker
        ({"type": "request", "speaker": "courtroom:prosecutor"}, "permission_denied"),  # another seat's
    ],
)
def test_bad_offers_views_and_speakers_get_their_documented_code(
    client: TestClient, services: Services, court: Court_, offer: dict[str, object], code: str
) -> None:
    open_hearing(services, court.hearing_a)
    admit(services, court, court.hearing_a)
    headers = {
        "Authorization": f"Device {enroll_device(services, 'kiosk-a', EndpointKind.CUSTODY, 'Facility A').token}"
    }
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media", headers=headers) as ws:
        ws.receive_json()
        ws.send_text(json.dumps(offer))
        reply = ws.receive_json()
        assert (reply["type"], reply["error"]) == ("error", code), reply
        ws.send_json({"type": "ping", "nonce": 2})
        assert ws.receive_json() == {"type": "pong", "nonce": 2}  # the socket stays open
        leave(ws)
    live = client.app.state.live_hearings.get(court.hearing_a)
    assert live.room.peers == {} and live.floor.queue == ()


def test_the_courtroom_rig_does_not_queue_its_own_people(client: TestClient, services: Services, court: Court_) -> None:
    """The courtroom's parties ask in the room, and the judge queues them from the panel."""
    open_hearing(services, court.hearing_a)
    token = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token
    before = len(logged(services))
    with client.websocket_connect(
        f"/ws/hearings/{court.hearing_a}/media", headers={"Authorization": f"Device {token}"}
    ) as ws:
        assert ws.receive_json()["seat"] == "courtroom"
        ws.send_json({"type": "request", "speaker": "courtroom:prosecutor"})
        assert ws.receive_json()["error"] == "permission_denied"
        leave(ws)
    actions = [e.action for e in logged(services)[before:]]
    assert actions == ["participant.joined", "access.denied", "participant.left"]
    assert client.app.state.live_hearings.get(court.hearing_a).floor.queue == ()


def test_deep_nesting_is_a_bad_message_not_a_dead_socket(client: TestClient, services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media") as ws:
        ws.receive_json()
        ws.send_text("[" * 5000 + "]" * 5000)
        assert ws.receive_json()["error"] == "malformed_message"
        leave(ws)


@pytest.mark.timeout(90)
def test_a_replaced_connection_leaves_the_newer_ones_media_alone_and_a_listener_is_not_gone(
    live_server: LiveServer, services: Services, court: Court_
) -> None:
    """The custody kiosk comes back on a new connection before the server has
    noticed the old one die: the new one's media flows, whatever the old one
    does on its way out. The judge's seat sends nothing (receive-only): it is
    graded on what its receiver reports, not as gone."""
    open_hearing(services, court.hearing_a)
    admit(services, court, court.hearing_a)
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{court.hearing_a}/media"
    custody = kiosk(services)
    bench = {"Cookie": f"hearing_session={session_cookie(services, court.users['judge'])}"}

    async def scenario() -> tuple[set[float], str]:
        judge = Peer("judge", listen=True)  # listens only
        older, newer = Peer("custody", tone=OLDER_TONE), Peer("custody", tone=NEWER_TONE)
        try:
            await judge.connect(url, bench)
            assert judge.client is not None
            events = judge.client.events
            await older.connect(url, custody)
            await newer.connect(url, custody)
            await older.close()  # its socket is already closed by the server; its end must not matter
            since = len(judge.heard)
            await wait_until_async(lambda: len(judge.heard) >= since + 60)
            judged = await wait_until_async(
                lambda: [e for e in events if e["type"] == "health" and e["seat"] == "judge"],
                describe=lambda: list(events)[-5:],
            )
            return tones_in([heard.pcm for heard in judge.heard[-25:]]), str(judged[-1]["grade"])
        finally:
            for peer in (judge, older, newer):
                await peer.close()

    tones, grade = asyncio.run(scenario())
    assert tones == {NEWER_TONE}  # the newer connection's tone, and not the older one's
    assert grade != "gone"
