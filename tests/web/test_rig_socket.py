"""The courtroom rig's messages on the media socket, through the real app:
only the courtroom rig may send them, malformed and oversized ones are
refused with their stable code and change nothing (no audit entry, no panel
told), and valid ones reach the judge's panels and the floor snapshot."""

from __future__ import annotations

import base64
from typing import Any

from starlette.testclient import TestClient

from hearing.docket.parties import EndpointKind
from hearing.live.hearing import LiveHearing
from hearing.media.signaling import MAX_MESSAGE_BYTES
from hearing.services import Services
from tests.conftest import Court_, admit, custody_headers, enroll_device, logged, login_as, open_hearing

JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(200)).decode()
RIG_TYPES = {"rig", "rig_levels", "preview"}


def _camera(camera_id: str, seat: str, da: str, en: str, state: str = "live") -> dict[str, Any]:
    reason = "cannot open" if state == "unavailable" else None
    return {"id": camera_id, "seat": seat, "label": {"da": da, "en": en}, "state": state, "reason": reason}


def rig_report(witness: str = "live") -> dict[str, Any]:
    return {
        "type": "rig",
        "cameras": [
            _camera("cam-judge", "judge", "Dommer", "Judge"),
            _camera("cam-witness", "witness", "Vidne", "Witness", witness),
        ],
        "program": {"camera": "cam-judge", "layout": "speaker_strip", "reason": "voice"},
    }


class Panel:
    """A judge's panel connection on the live hearing: what it was told."""

    def __init__(self) -> None:
        self.told: list[dict[str, Any]] = []
        self.dismissed: list[str] = []

    def deliver(self, message: dict[str, Any]) -> None:
        self.told.append(message)

    def dismiss(self, reason: str) -> None:
        self.dismissed.append(reason)

    def rig_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.told if m.get("type") in RIG_TYPES]


def until_pong(ws: Any, nonce: int) -> list[dict[str, Any]]:
    """What the socket says up to the pong: messages are handled in order."""
    ws.send_json({"type": "ping", "nonce": nonce})
    said = []
    while (message := ws.receive_json()) != {"type": "pong", "nonce": nonce}:
        said.append(message)
    return said


def errors(said: list[dict[str, Any]]) -> list[str]:
    return [m["error"] for m in said if m["type"] == "error"]


def live(client: TestClient, hearing_id: int) -> LiveHearing:
    found = client.app.state.live_hearings.get(hearing_id)  # type: ignore[attr-defined]
    assert found is not None
    return found  # type: ignore[no-any-return]


def camera_entries(services: Services) -> list[str]:
    return [e.action for e in logged(services) if e.action.startswith("camera.")]


def test_only_the_courtroom_rig_may_report_cameras(client: TestClient, services: Services, court: Court_) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    admit(services, court, h)
    with client.websocket_connect(f"/ws/hearings/{h}/media", headers=custody_headers(services)) as ws:
        assert ws.receive_json()["seat"] == "custody"
        panel = Panel()
        live(client, h).panel_opened(panel)
        for message in (
            rig_report("unavailable"),
            {"type": "levels", "levels": {"judge": -20.0}},
            {"type": "preview", "camera": "cam-judge", "jpeg": JPEG},
        ):
            ws.send_json(message)
            reply = ws.receive_json()
            assert (reply["type"], reply["error"]) == ("error", "not_rig"), message["type"]
        # The socket stays open: a ping still pongs.
        assert errors(until_pong(ws, 1)) == []
        ws.send_json({"type": "leave"})
    assert panel.rig_messages() == [] and camera_entries(services) == []
    assert live(client, h).rig.message() is None


def test_the_rigs_bad_messages_are_refused_and_change_nothing(
    client: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    token = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token
    with client.websocket_connect(f"/ws/hearings/{h}/media", headers={"Authorization": f"Device {token}"}) as ws:
        assert ws.receive_json()["seat"] == "courtroom"
        panel = Panel()
        live(client, h).panel_opened(panel)
        duplicate = rig_report("unavailable")
        duplicate["cameras"][1]["id"] = "cam-judge"
        cases: list[tuple[Any, str]] = [
            ({**rig_report("unavailable"), "url": "rtsp://user:pass@cam/stream"}, "malformed_message"),
            (duplicate, "malformed_message"),
            ({**rig_report("unavailable"), "cameras": []}, "malformed_message"),
            ({"type": "levels", "levels": {"judge": 5}}, "malformed_message"),
            ({"type": "levels", "levels": {"judge": True}}, "malformed_message"),
            ({"type": "preview", "camera": "cam-judge", "jpeg": "iVBORw0KGgo="}, "malformed_message"),  # a PNG
            ({"type": "preview", "camera": "cam-judge", "jpeg": "!!"}, "malformed_message"),
            ({**rig_report("unavailable"), "pad": "x" * MAX_MESSAGE_BYTES}, "message_too_large"),
        ]
        for message, code in cases:
            ws.send_json(message)
            reply = ws.receive_json()
            assert (reply["type"], reply["error"]) == ("error", code), str(message)[:80]
        assert errors(until_pong(ws, 1)) == []
        ws.send_json({"type": "leave"})
    assert panel.rig_messages() == [] and camera_entries(services) == []
    assert live(client, h).rig.message() is None


def test_the_rigs_reports_reach_the_panels_and_the_snapshot(
    client: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    token = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token
    panel = Panel()
    with client.websocket_connect(f"/ws/hearings/{h}/media", headers={"Authorization": f"Device {token}"}) as ws:
        assert ws.receive_json()["seat"] == "courtroom"
        live(client, h).panel_opened(panel)
        ws.send_json(rig_report("unavailable"))
        ws.send_json({"type": "levels", "levels": {"judge": -20.04, "witness": None}})
        ws.send_json({"type": "preview", "camera": "cam-witness", "jpeg": JPEG})
        ws.send_json({"type": "preview", "camera": "program", "jpeg": JPEG})
        assert errors(until_pong(ws, 1)) == []
        told = panel.rig_messages()
        assert [m["type"] for m in told] == ["rig", "rig_levels", "preview", "preview"]
        assert told[0]["connected"] is True and told[0]["program"] == rig_report()["program"]
        assert [c["state"] for c in told[0]["cameras"]] == ["live", "unavailable"]
        assert told[1]["levels"] == {"judge": -20.0, "witness": None}
        assert told[2] == {"type": "preview", "camera": "cam-witness", "jpeg": JPEG}
        assert told[3]["camera"] == "program"
        # The camera that failed is audited once.
        assert camera_entries(services) == ["camera.unavailable"]

        login_as(client, services, court.users["judge"])
        snapshot = client.get(f"/hearings/{h}/floor", headers={"Accept": "application/json"}).json()
        assert snapshot["rig"]["connected"] is True
        assert [c["id"] for c in snapshot["rig"]["cameras"]] == ["cam-judge", "cam-witness"]
        assert snapshot["rig"]["program"]["camera"] == "cam-judge"
        ws.send_json({"type": "leave"})
    # The rig is gone: the panels are told, its cameras kept, no program.
    last = panel.rig_messages()[-1]
    gone = {k: last[k] for k in ("type", "connected", "program")}
    assert gone == {"type": "rig", "connected": False, "program": None}
    assert [c["id"] for c in last["cameras"]] == ["cam-judge", "cam-witness"]
    assert not live(client, h).rig.has_camera("cam-judge")
