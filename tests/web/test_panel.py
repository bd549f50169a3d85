"""The speaker-order panel over HTTP and its live feed: commands, refusals,
snapshots, versions, and the endpoints' requests to speak."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.db.models import Hearing
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.web.panel import MAX_COMMAND_BYTES
from tests.conftest import Court_, csrf_token, custody_headers, logged, login_as, open_hearing, post_floor_command


def command(client: TestClient, hearing_id: int, body: Any, *, token: str | None = None) -> Any:
    return post_floor_command(client, hearing_id, body, token if token is not None else csrf_token(client))


def version(services: Services, hearing_id: int) -> int:
    return services.unit_of_work(lambda db: presiding.current(db, db.get_one(Hearing, hearing_id)).version)


@pytest.fixture
def judge(client: TestClient, services: Services, court: Court_) -> TestClient:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    return client


def test_the_judge_runs_the_floor_and_every_change_is_audited(
    judge: TestClient, services: Services, court: Court_
) -> None:
    h = court.hearing_a
    steps = [
        ({"action": "admit", "seat": "custody"}, "lobby.admitted"),
        ({"action": "mode", "mode": "controlled"}, "floor.mode_changed"),
        ({"action": "request", "speaker": "courtroom:prosecutor"}, "floor.requested"),
        ({"action": "request", "speaker": "custody:detainee"}, "floor.requested"),
        ({"action": "reorder", "speaker": "custody:detainee", "position": 0}, "floor.queue_reordered"),
        ({"action": "grant"}, "floor.granted"),
        ({"action": "take_back"}, "floor.taken_back"),
        ({"action": "hide", "source": "custody", "receiver": "courtroom", "medium": "video"}, "floor.hidden"),
        ({"action": "mute", "seat": "custody"}, "floor.muted"),
    ]
    for number, (body, action) in enumerate(steps, start=1):
        before = len(logged(services))
        response = command(judge, h, body)
        assert response.status_code == 200, response.text
        assert response.json()["version"] == number
        new = logged(services)[before:]
        assert [(e.action, e.hearing_id, e.actor_id) for e in new] == [(action, h, court.users["judge"])]
        assert new[0].payload is not None and new[0].payload["version"] == number
    floor = services.unit_of_work(lambda db: presiding.current(db, db.get_one(Hearing, h)))
    assert floor.admitted >= {"custody"} and floor.holder is None and floor.muted == {"custody"}
    assert [r.speaker for r in floor.queue] == ["courtroom:prosecutor"]
    snapshot = judge.get(f"/hearings/{h}/floor", headers={"Accept": "application/json"}).json()
    assert snapshot["type"] == "snapshot" and snapshot["version"] == len(steps)
    assert snapshot["floor"] == floor.to_json()
    assert snapshot["hearing_state"] == "open"
    # Who sits where follows the docket: counsel is booked in the courtroom (and
    # confers from the court's booth), the prosecutor too.
    assert snapshot["people"] == {
        "courtroom": [
            {"role": "prosecutor", "name": "Test Prosecutor"},
            {"role": "defence_counsel", "name": "Test Counsel"},
        ],
        "custody": [{"role": "detainee", "name": "Test Detainee"}],
        "booth": [{"role": "defence_counsel", "name": "Test Counsel"}],
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("not json", 400, "invalid_input"),
        ([1, 2], 400, "invalid_input"),
        ({"action": "explode"}, 400, "invalid_input"),
        ({"action": "grant", "speaker": 7}, 400, "invalid_input"),
        ({"action": "grant", "speaker": "x" * 65}, 400, "invalid_input"),
        ({"action": "grant", "keep_previous": "yes"}, 400, "invalid_input"),
        ({"action": "mute"}, 400, "invalid_input"),
        ({"action": "mute", "seat": "custody", "extra": 1}, 400, "invalid_input"),
        ({"action": "mode", "mode": "chaos"}, 400, "invalid_input"),
        ({"action": "reorder", "speaker": "custody:detainee", "position": -1}, 400, "invalid_input"),
        ({"action": "hide", "source": "custody", "receiver": "courtroom", "medium": "smell"}, 400, "invalid_input"),
        ({"action": "request", "speaker": "gallery:observer"}, 400, "invalid_input"),
        ({"action": "grant"}, 409, "queue_empty"),
        ({"action": "take_back"}, 409, "no_floor"),
        ({"action": "mute", "seat": "judge"}, 409, "judge_not_affected"),
        ({"action": "mute", "seat": "courtroom"}, 409, "judge_not_affected"),
        ({"action": "request", "speaker": "custody:detainee"}, 409, "not_admitted"),
        ({"action": "deny", "seat": "courtroom"}, 409, "not_waiting"),
        ({"action": "deny", "seat": "custody"}, 409, "not_waiting"),  # in the lobby, but not connected
        ({"action": "mode", "mode": "open", "version": 5}, 409, "stale_version"),
        ("x" * (MAX_COMMAND_BYTES + 1), 400, "invalid_input"),
    ],
)
def test_bad_commands_get_a_stable_error_and_change_nothing(
    judge: TestClient, services: Services, court: Court_, body: Any, status: int, code: str
) -> None:
    before = len(logged(services))
    response = command(judge, court.hearing_a, body)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert version(services, court.hearing_a) == 0
    assert len(logged(services)) == before


@pytest.mark.sqlite_only
def test_commands_need_the_csrf_token_and_json(judge: TestClient, services: Services, court: Court_) -> None:
    h = court.hearing_a
    assert command(judge, h, {"action": "admit", "seat": "custody"}, token="0" * 64).json()["error"] == "csrf_rejected"
    token = csrf_token(judge, f"/hearings/{h}")
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    form = judge.post(f"/hearings/{h}/floor", data={"action": "mute_all"}, headers=headers)
    assert form.status_code == 400 and form.json()["error"] == "invalid_input"
    assert version(services, h) == 0


@pytest.mark.parametrize("role", ["clerk", "custody_officer", "auditor", "admin"])
def test_only_the_judge_acts_and_refusals_are_audited(
    client: TestClient, services: Services, court: Court_, role: str
) -> None:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users[role])
    before = len(logged(services))
    response = command(client, court.hearing_a, {"action": "admit", "seat": "custody"}, token="0" * 64)
    assert (response.status_code, response.json()["error"]) == (403, "permission_denied")
    new = logged(services)[before:]
    assert [(e.action, e.actor_id) for e in new] == [("access.denied", court.users[role])]
    assert version(services, court.hearing_a) == 0


def test_a_judge_of_another_courtroom_is_refused(client: TestClient, services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_b)
    login_as(client, services, court.users["judge"])  # the judge sits in Room A; hearing B is in Room B
    before = len(logged(services))
    response = command(client, court.hearing_b, {"action": "admit", "seat": "custody"})
    assert (response.status_code, response.json()["error"]) == (403, "permission_denied")
    assert [e.action for e in logged(services)[before:]] == ["access.denied"]
    assert version(services, court.hearing_b) == 0


def test_a_hearing_that_is_not_live_has_no_floor_to_change(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["judge"])  # hearing A is still scheduled
    response = command(client, court.hearing_a, {"action": "admit", "seat": "custody"})
    assert (response.status_code, response.json()["error"]) == (409, "hearing_not_open")


@pytest.mark.sqlite_only
def test_two_panels_see_the_same_versions_and_a_custody_request_arrives(
    client: TestClient, services: Services, court: Court_
) -> None:
    """The judge's and the clerk's panels follow one hearing; the custody
    endpoint waits in the lobby, is admitted, and asks to speak."""
    h = court.hearing_a
    open_hearing(services, h)
    kiosk = custody_headers(services)
    login_as(client, services, court.users["clerk"])
    with client.websocket_connect(f"/ws/hearings/{h}/panel") as clerk_feed:
        assert clerk_feed.receive_json()["type"] == "snapshot"
        login_as(client, services, court.users["judge"])
        with client.websocket_connect(f"/ws/hearings/{h}/panel") as judge_feed:
            first = judge_feed.receive_json()
            assert (first["type"], first["version"], first["seats"]) == ("snapshot", 0, {})
            client.cookies.clear()
            with client.websocket_connect(f"/ws/hearings/{h}/media", headers=kiosk) as custody:
                welcome = custody.receive_json()
                assert welcome["floor"]["admitted"] is False
                for feed in (judge_feed, clerk_feed):
                    assert next_of(feed, "presence")["seats"]["custody"]["present"] is True
                custody.send_json({"type": "request", "speaker": "custody:detainee"})
                assert custody.receive_json()["error"] == "not_admitted"

                login_as(client, services, court.users["judge"])
                assert command(client, h, {"action": "admit", "seat": "custody"}).status_code == 200
                assert custody.receive_json() == {**welcome["floor"], "version": 1, "admitted": True}
                # Let in, it is heard: who hears it is news (issue 12).
                assert custody.receive_json()["heard_by"] == {"custody": ["courtroom", "judge"]}
                custody.send_json({"type": "request", "speaker": "custody:detainee"})
                assert custody.receive_json()["queued"] == ["custody:detainee"]
                for feed in (judge_feed, clerk_feed):
                    updates = [next_of(feed, "floor"), next_of(feed, "floor")]
                    assert [u["version"] for u in updates] == [1, 2]
                    assert updates[1]["floor"]["queue"] == [{"speaker": "custody:detainee", "priority": False}]

                # An endpoint speaks only for its own people, and only asks.
                before = len(logged(services))
                custody.send_json({"type": "request", "speaker": "courtroom:prosecutor"})
                assert custody.receive_json()["error"] == "permission_denied"
                custody.send_json({"type": "withdraw", "speaker": "custody:detainee"})
                assert custody.receive_json()["queued"] == []
                actions = [e.action for e in logged(services)[before:]]
                assert actions == ["access.denied", "floor.withdrawn"]
                custody.send_json({"type": "leave"})


def next_of(feed: Any, kind: str) -> dict[str, Any]:
    """The next message of one kind (health and level reports may come between)."""
    for _ in range(50):
        message: dict[str, Any] = feed.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


@pytest.mark.sqlite_only
def test_a_waiting_seat_turned_away_is_disconnected(client: TestClient, services: Services, court: Court_) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    with client.websocket_connect(f"/ws/hearings/{h}/media", headers=custody_headers(services)) as custody:
        assert custody.receive_json()["floor"]["admitted"] is False
        login_as(client, services, court.users["judge"])
        response = command(client, h, {"action": "deny", "seat": "custody"})
        assert response.status_code == 200 and response.json()["version"] == 0
        assert custody.receive_json()["type"] == "denied"
        with pytest.raises(WebSocketDisconnect) as closed:
            custody.receive_json()
        assert closed.value.code == 4403
    entries = logged(services)
    assert [e.action for e in entries if e.action.startswith("lobby.")] == ["lobby.denied"]
    assert [e.payload for e in entries if e.action == "participant.left"][-1] == {"seat": "custody", "reason": "denied"}


@pytest.mark.sqlite_only
def test_ending_the_hearing_disconnects_the_endpoints(client: TestClient, services: Services, court: Court_) -> None:
    h = court.hearing_a
    open_hearing(services, h)
    with client.websocket_connect(f"/ws/hearings/{h}/media", headers=custody_headers(services)) as custody:
        custody.receive_json()
        login_as(client, services, court.users["judge"])
        token = csrf_token(client, f"/hearings/{h}")
        response = client.post(f"/hearings/{h}/transition", data={"csrf_token": token, "action": "close"})
        assert response.status_code == 303
        assert custody.receive_json()["type"] == "ended"
        with pytest.raises(WebSocketDisconnect) as closed:
            custody.receive_json()
        assert closed.value.code == 1000
    assert client.app.state.live_hearings.get(h) is None


@pytest.mark.sqlite_only
def test_the_panel_feed_refuses_strangers_and_other_sites(
    client: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_b)
    login_as(client, services, court.users["custody_officer"])  # of Facility A; hearing B is at Facility B
    with client.websocket_connect(f"/ws/hearings/{court.hearing_b}/panel") as feed:
        assert feed.receive_json()["error"] in {"not_found", "hearing_not_found", "permission_denied"}
        with pytest.raises(WebSocketDisconnect):
            feed.receive_json()
    login_as(client, services, court.users["judge"])
    with client.websocket_connect(
        f"/ws/hearings/{court.hearing_a}/panel", headers={"Origin": "https://evil.example"}
    ) as feed:
        assert feed.receive_json()["error"] == "permission_denied"


def test_a_private_consultation_cuts_the_custody_facility_off_until_it_ends(
    client: TestClient, services: Services, court: Court_
) -> None:
    """The lifecycle's consultation reaches the media at once: no one in the
    court hears or sees the custody facility, and it receives nothing."""
    h = court.hearing_a
    open_hearing(services, h)
    with client.websocket_connect(f"/ws/hearings/{h}/media", headers=custody_headers(services)) as custody:
        custody.receive_json()
        login_as(client, services, court.users["judge"])
        assert command(client, h, {"action": "admit", "seat": "custody"}).status_code == 200
        assert custody.receive_json()["admitted"] is True
        assert custody.receive_json()["type"] == "interpretation"  # who hears it now (issue 12)
        room = client.app.state.live_hearings.get(h).room
        assert room.routes["judge"].hears("custody") and room.routes["custody"].hears("judge")
        token = csrf_token(client, f"/hearings/{h}")
        headers = {"Accept": "application/json"}
        for action in ("start", "begin_consultation"):
            moved = client.post(
                f"/hearings/{h}/transition", data={"csrf_token": token, "action": action}, headers=headers
            )
            assert moved.status_code == 200, moved.text
        assert moved.json() == {"state": "consultation", "transitions": ["end_consultation", "convert_to_physical"]}
        # The seat is told the lifecycle too (its screen says so), without the judge's transitions.
        assert custody.receive_json() == {"type": "hearing", "hearing_state": "in_session"}
        assert custody.receive_json()["consultation"] is True
        assert custody.receive_json()["heard_by"] == {"custody": []}  # nobody in the court
        assert custody.receive_json() == {"type": "hearing", "hearing_state": "consultation"}
        assert not any(r.hears("custody") or "custody" in r.video for s, r in room.routes.items() if s != "custody")
        assert room.routes["custody"].audio == () and room.routes["custody"].video == ()
        client.post(
            f"/hearings/{h}/transition", data={"csrf_token": token, "action": "end_consultation"}, headers=headers
        )
        assert custody.receive_json()["consultation"] is False
        assert custody.receive_json()["heard_by"] == {"custody": ["courtroom", "judge"]}
        assert custody.receive_json() == {"type": "hearing", "hearing_state": "in_session"}
        assert room.routes["judge"].hears("custody") and room.routes["custody"].hears("judge")
        custody.send_json({"type": "leave"})
    started = [e for e in logged(services) if e.action == "consultation.started"]
    assert started[-1].payload == {
        "from_state": "in_session",
        "to_state": "consultation",
        "members": ["booth", "custody"],
    }


@pytest.mark.parametrize(
    "body",
    [
        # Which action? Python's json keeps the last; other parsers the first.
        '{"action": "mute", "seat": "custody", "action": "mute_all"}',
        # UTF-8 only: the standard library would guess UTF-16 from the bytes.
        '{"action": "mute_all"}'.encode("utf-16"),
        "[" * 1000 + "]" * 1000,
        '{"action": "mute_all", "version": NaN}',
    ],
)
def test_a_command_is_strict_json(judge: TestClient, services: Services, court: Court_, body: str | bytes) -> None:
    before = len(logged(services))
    response = command(judge, court.hearing_a, body)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_input")
    assert "not JSON" in response.json()["message"]
    assert version(services, court.hearing_a) == 0
    assert len(logged(services)) == before
