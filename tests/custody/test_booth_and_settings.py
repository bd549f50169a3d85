"""The consultation booth as a device, the consultation's interpreter option,
and the court's pause-on-drop setting: good, malformed, oversized and
unauthorised input."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.db.models import Court, Hearing, Participant
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection, EndpointKind, ParticipantRole
from hearing.services import Services
from tests.conftest import Court_, csrf_token, enroll_device, logged, login_as, open_hearing


def as_device(token: str) -> dict[str, str]:
    return {"Authorization": f"Device {token}"}


def refusal(client: TestClient, path: str, headers: dict[str, str]) -> tuple[dict[str, Any], int]:
    with client.websocket_connect(path, headers=headers) as ws:
        message = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    return message, closed.value.code


def test_the_booth_cli_enrolls_at_a_courtroom_and_refuses_bad_input(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("device", "enroll", "--kind", "booth", "--name", "booth-3", "--site", "Retssal 3")
    assert code == 0 and "agent token" in out
    assert cli("device", "enroll", "--kind", "booth", "--name", "booth-x", "--site", "Arresthuset")[0] != 0
    assert cli("device", "enroll", "--kind", "booth", "--name", "booth-y", "--site", "Nowhere")[0] != 0
    assert cli("device", "enroll", "--kind", "booth", "--name", "b" * 65, "--site", "Retssal 3")[0] != 0


def test_a_booth_joins_its_courtrooms_hearing_as_the_booth_and_no_other(
    client: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a, HearingState.IN_SESSION)
    open_hearing(services, court.hearing_b, HearingState.IN_SESSION)
    booth_a = enroll_device(services, "booth-a", EndpointKind.BOOTH, "Room A").token
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media", headers=as_device(booth_a)) as ws:
        welcome = ws.receive_json()
        assert welcome["seat"] == "booth" and welcome["floor"]["admitted"] is False  # the judge admits it
        ws.send_json({"type": "leave"})
    # Courtroom B's hearing: neither seen nor joined, and the refusal is audited.
    denied_before = len([e for e in logged(services) if e.action == "access.denied"])
    message, code = refusal(client, f"/ws/hearings/{court.hearing_b}/media", as_device(booth_a))
    assert (message["error"], code) == ("permission_denied", 4403)
    assert client.get(f"/api/device/hearings/{court.hearing_b}", headers=as_device(booth_a)).status_code == 403
    listing = client.get("/api/device/hearings", headers=as_device(booth_a)).json()
    assert [h["id"] for h in listing["hearings"]] == [court.hearing_a]
    assert len([e for e in logged(services) if e.action == "access.denied"]) == denied_before + 2


def test_a_hearing_without_counsel_in_the_courtroom_has_no_booth_seat(
    client: TestClient, services: Services, court: Court_
) -> None:
    def counsel_to_custody(db: Any) -> None:
        for p in db.get_one(Hearing, court.hearing_a).participants:
            if p.role is ParticipantRole.DEFENCE_COUNSEL:
                p.connection = Connection.CUSTODY

    services.unit_of_work(counsel_to_custody)
    open_hearing(services, court.hearing_a, HearingState.IN_SESSION)
    booth = enroll_device(services, "booth-a", EndpointKind.BOOTH, "Room A").token
    message, code = refusal(client, f"/ws/hearings/{court.hearing_a}/media", as_device(booth))
    assert message["error"] == "no_booth_seat" and code == 4409


def transition(client: TestClient, hearing_id: int, **fields: str) -> Any:
    data = {"csrf_token": csrf_token(client, f"/hearings/{hearing_id}"), **fields}
    return client.post(f"/hearings/{hearing_id}/transition", data=data, headers={"Accept": "application/json"})


def add_interpreter(services: Services, hearing_id: int) -> None:
    services.unit_of_work(
        lambda db: db.add(
            Participant(
                hearing_id=hearing_id,
                role=ParticipantRole.INTERPRETER,
                display_name="Tolk",
                connection=Connection.REMOTE,
            )
        )
    )


def test_the_judge_includes_the_interpreter_in_the_consultation(
    client: TestClient, services: Services, court: Court_
) -> None:
    add_interpreter(services, court.hearing_a)
    open_hearing(services, court.hearing_a, HearingState.IN_SESSION)
    login_as(client, services, court.users["judge"])
    page = client.get(f"/hearings/{court.hearing_a}").text
    assert 'name="include_interpreter"' in page
    response = transition(client, court.hearing_a, action="begin_consultation", include_interpreter="on")
    assert response.status_code == 200, response.text
    started = [e for e in logged(services) if e.action == "consultation.started"][-1].payload or {}
    interpreter = next(m for m in started["members"] if str(m).startswith("interpreter-"))
    assert set(started["members"]) == {"custody", "booth", interpreter} and started["interpreter_included"] is True
    assert transition(client, court.hearing_a, action="end_consultation").status_code == 200
    ended = [e for e in logged(services) if e.action == "consultation.ended"][-1].payload or {}
    assert set(ended["members"]) == set(started["members"])


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"action": "begin_consultation", "include_interpreter": "yes please"}, "invalid_input"),
        ({"action": "begin_consultation", "include_interpreter": "on" * 3000}, "invalid_input"),
        ({"action": "pause", "include_interpreter": "on"}, "invalid_input"),
        ({"action": "begin_consultation", "include_interpreter": "on"}, "invalid_input"),  # no interpreter booked
    ],
)
def test_a_bad_interpreter_option_changes_nothing(
    client: TestClient, services: Services, court: Court_, fields: dict[str, str], error: str
) -> None:
    open_hearing(services, court.hearing_a, HearingState.IN_SESSION)
    login_as(client, services, court.users["judge"])
    page = client.get(f"/hearings/{court.hearing_a}").text
    assert 'name="include_interpreter"' not in page  # only where there is an interpreter
    before = len(logged(services))
    response = transition(client, court.hearing_a, **fields)
    assert response.status_code == 400 and response.json()["error"] == error
    assert len(logged(services)) == before
    assert services.unit_of_work(lambda db: db.get_one(Hearing, court.hearing_a).state) is HearingState.IN_SESSION


def test_another_courtrooms_judge_cannot_open_a_consultation(
    client: TestClient, services: Services, court: Court_
) -> None:
    add_interpreter(services, court.hearing_b)
    open_hearing(services, court.hearing_b, HearingState.IN_SESSION)
    login_as(client, services, court.users["judge"])  # courtroom A's judge
    response = client.post(
        f"/hearings/{court.hearing_b}/transition",
        data={
            "csrf_token": csrf_token(client, "/hearings"),
            "action": "begin_consultation",
            "include_interpreter": "on",
        },
        headers={"Accept": "application/json"},
    )
    assert response.status_code in (403, 404)
    assert services.unit_of_work(lambda db: db.get_one(Hearing, court.hearing_b).state) is HearingState.IN_SESSION
    assert [e for e in logged(services) if e.action == "access.denied"]


def test_the_pause_on_drop_setting_per_court(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("site", "pause-on-drop", "Byret", "off")
    assert code == 0 and "does not pause" in out
    code, _, err = cli("site", "pause-on-drop", "Nowhere", "off")
    assert code != 0 and "No court named Nowhere" in err
    assert cli("site", "pause-on-drop", "x" * 500, "on")[0] != 0
    assert cli("site", "pause-on-drop", "Byret\x00", "on")[0] != 0
    with pytest.raises(SystemExit):
        cli("site", "pause-on-drop", "Byret", "maybe")
    code, out, _ = cli("site", "pause-on-drop", "Byret", "on")
    assert code == 0 and "pauses" in out


def test_the_setting_defaults_to_pausing(services: Services, court: Court_) -> None:
    assert services.unit_of_work(lambda db: db.get_one(Court, court.court_id).pause_on_drop) is True
