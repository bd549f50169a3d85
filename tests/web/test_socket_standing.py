"""Open sockets follow their identity: a revoked device, an ended, expired,
disabled staff session loses its sockets within the recheck interval (at
once for a sign-out here), with a reason and a close code. A guessing
lockout does not: it refuses new sign-ins only."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from hearing.actors import SYSTEM
from hearing.app import create_app
from hearing.auth import devices, users
from hearing.config import Settings
from hearing.db.models import StaffSession, StaffUser
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from tests.conftest import (
    PASSWORD,
    Court_,
    admit,
    csrf_token,
    current_code,
    enroll_device,
    logged,
    login_as,
    open_hearing,
)

RECHECK = 0.2
# The watcher's interval, a transaction, and the thread hops of a loaded
# 2-core machine running the suite in two workers.
PROMPTLY = RECHECK + 3.0
ENDINGS = {"revoked", "signed_out", "session_ended", "disabled"}
ENDINGS |= {"remote_ended"}  # issue 12, gateway: a remote party's session ended


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, cookie_secure=True, socket_recheck_seconds=RECHECK)


def ending(ws: WebSocketTestSession, seen: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any], int, float]:
    """Read until the server says why it closes: the last message, the close
    code, and how long it took."""
    started = time.monotonic()
    while True:
        message = ws.receive_json()
        if seen is not None:
            seen.append(message)
        if message["type"] in ENDINGS:
            break
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    return message, closed.value.code, time.monotonic() - started


def presence(panel: WebSocketTestSession, *, custody: bool) -> None:
    """Read the panel's feed until it shows the custody seat so (or the test times out)."""
    while True:
        message = panel.receive_json()
        # The panel's handshake may finish after the seat joined: then its
        # snapshot shows the seat, and no presence message follows.
        if (
            message["type"] in ("snapshot", "presence")
            and message["seats"].get("custody", {}).get("present") is custody
        ):
            return


def left(services: Services) -> list[dict[str, object] | None]:
    return [e.payload for e in logged(services) if e.action == "participant.left"]


@contextlib.contextmanager
def judge_in_hearing(
    client: TestClient, services: Services, court: Court_
) -> Iterator[tuple[WebSocketTestSession, WebSocketTestSession]]:
    """The judge signed in, with the hearing's panel feed and media socket open."""
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    h = court.hearing_a
    with (
        client.websocket_connect(f"/ws/hearings/{h}/panel") as panel,
        client.websocket_connect(f"/ws/hearings/{h}/media") as media,
    ):
        assert panel.receive_json()["type"] == "snapshot"
        assert media.receive_json()["type"] == "welcome"
        yield panel, media


def kiosk(services: Services, name: str = "kiosk-a") -> tuple[dict[str, str], devices.DeviceCredentials]:
    creds = enroll_device(services, name, EndpointKind.CUSTODY, "Facility A")
    return {"Authorization": f"Device {creds.token}"}, creds


@pytest.mark.timeout(30)
@pytest.mark.parametrize("how", ["revoke", "reissue"])
def test_a_revoked_device_loses_its_seat_within_the_interval(
    client: TestClient, services: Services, court: Court_, how: str
) -> None:
    open_hearing(services, court.hearing_a)
    admit(services, court, court.hearing_a)
    headers, _ = kiosk(services)
    login_as(client, services, court.users["judge"])
    h = court.hearing_a
    with (
        client.websocket_connect(f"/ws/hearings/{h}/panel") as panel,
        client.websocket_connect(f"/ws/hearings/{h}/media", headers=headers) as media,
    ):
        assert media.receive_json()["type"] == "welcome"
        presence(panel, custody=True)
        # The operator, in another process: only the database says so.
        if how == "revoke":
            services.unit_of_work(lambda db: devices.revoke(db, SYSTEM, "kiosk-a", datetime.now(UTC)))
        else:
            services.unit_of_work(lambda db: devices.reissue(db, services.keys, SYSTEM, "kiosk-a", datetime.now(UTC)))
        message, code, took = ending(media)
        assert (message["type"], code) == ("revoked", 4401)
        assert took < PROMPTLY
        presence(panel, custody=False)
    assert left(services)[-1] == {"seat": "custody", "reason": "revoked"}
    snapshot = client.get(f"/hearings/{h}/floor", headers={"Accept": "application/json"}).json()
    assert snapshot["seats"]["custody"]["present"] is False


def test_a_floor_request_rechecks_its_sender_in_its_own_transaction(
    settings: Settings, services: Services, court: Court_
) -> None:
    """Nothing slips through between two rechecks: the watcher here never runs."""
    open_hearing(services, court.hearing_a)
    admit(services, court, court.hearing_a)
    headers, _ = kiosk(services)
    app = create_app(settings.replace(socket_recheck_seconds=60), services)
    with (
        TestClient(app, base_url="https://testserver") as client,
        client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media", headers=headers) as media,
    ):
        assert media.receive_json()["type"] == "welcome"
        services.unit_of_work(lambda db: devices.revoke(db, SYSTEM, "kiosk-a", datetime.now(UTC)))
        before = len(logged(services))
        media.send_json({"type": "request", "speaker": "custody:detainee"})
        message, code, _ = ending(media)
        assert (message["type"], code) == ("revoked", 4401)
    new = [(e.action, e.payload) for e in logged(services)[before:]]
    assert new == [("participant.left", {"seat": "custody", "reason": "revoked"})]


def test_sign_out_here_closes_the_judges_sockets_at_once(settings: Settings, services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_a)
    h = court.hearing_a
    app = create_app(settings.replace(socket_recheck_seconds=60), services)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        login_as(client, services, court.users["judge"])
        with (
            client.websocket_connect(f"/ws/hearings/{h}/panel") as panel,
            client.websocket_connect(f"/ws/hearings/{h}/media") as media,
        ):
            assert panel.receive_json()["type"] == "snapshot"
            assert media.receive_json()["type"] == "welcome"
            token = csrf_token(client, "/hearings")
            assert client.post("/signout", data={"csrf_token": token}).status_code == 303
            for ws in (media, panel):
                message, code, took = ending(ws)
                assert (message["type"], code) == ("signed_out", 4401)
                assert took < PROMPTLY
    assert left(services)[-1] == {"seat": "judge", "reason": "signed_out"}


def _age_sessions(services: Services, **ago: timedelta) -> None:
    def age(db: Any) -> None:
        for record in db.scalars(select(StaffSession)):
            for column, delta in ago.items():
                setattr(record, column, datetime.now(UTC) - delta)

    services.unit_of_work(age)


@pytest.mark.parametrize(
    "ago",
    [{"last_seen_at": timedelta(minutes=31)}, {"created_at": timedelta(hours=13)}],
    ids=["idle", "absolute"],
)
def test_an_expired_session_loses_its_panel(
    client: TestClient, services: Services, court: Court_, ago: dict[str, timedelta]
) -> None:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["clerk"])
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/panel") as panel:
        assert panel.receive_json()["type"] == "snapshot"
        _age_sessions(services, **ago)
        message, code, took = ending(panel)
        assert (message["type"], code) == ("session_ended", 4401)
        assert took < PROMPTLY


def test_the_judges_session_past_its_absolute_age_loses_the_media_socket(
    client: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media") as media:
        assert media.receive_json()["type"] == "welcome"
        _age_sessions(services, created_at=timedelta(hours=13))
        message, code, _ = ending(media)
        assert (message["type"], code) == ("session_ended", 4401)
    assert left(services)[-1] == {"seat": "judge", "reason": "session_ended"}


def test_a_judge_in_a_hearing_is_not_idle(client: TestClient, services: Services, court: Court_) -> None:
    """A live media link is the judge at work: it keeps the session from
    going idle (the panel feed alone, which sends nothing, does not)."""
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    with client.websocket_connect(f"/ws/hearings/{court.hearing_a}/media") as media:
        assert media.receive_json()["type"] == "welcome"
        _age_sessions(services, last_seen_at=timedelta(minutes=29))

        def seen(db: Any) -> datetime:
            return db.scalar(select(StaffSession.last_seen_at))

        deadline = time.monotonic() + PROMPTLY
        while datetime.now(UTC) - services.unit_of_work(seen) > timedelta(minutes=1):
            assert time.monotonic() < deadline, "the watcher did not keep the session alive"
            time.sleep(0.05)
        media.send_json({"type": "ping", "nonce": 1})
        assert media.receive_json() == {"type": "pong", "nonce": 1}


def test_disabling_a_user_closes_every_socket_of_theirs(client: TestClient, services: Services, court: Court_) -> None:
    with judge_in_hearing(client, services, court) as (panel, media):
        services.unit_of_work(lambda db: users.disable_user(db, SYSTEM, "judge", datetime.now(UTC)))
        for ws in (media, panel):
            message, code, took = ending(ws)
            assert (message["type"], code) == ("disabled", 4401)
            assert took < PROMPTLY
    assert left(services)[-1] == {"seat": "judge", "reason": "disabled"}
    sessions = services.unit_of_work(lambda db: db.scalars(select(StaffSession.ended_at)).all())
    assert sessions and all(ended is not None for ended in sessions)


def still_here(media: WebSocketTestSession, nonce: int) -> None:
    """A ping answered: the socket was not closed meanwhile."""
    media.send_json({"type": "ping", "nonce": nonce})
    while (message := media.receive_json())["type"] != "pong":
        assert message["type"] not in {"error", *ENDINGS}, message
    assert message["nonce"] == nonce


def test_a_guessing_lockout_does_not_cut_the_judge_off(client: TestClient, services: Services, court: Court_) -> None:
    with judge_in_hearing(client, services, court) as (panel, media):
        # Five wrong passwords from a stranger's browser lock the account...
        other = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
        token = csrf_token(other)
        for attempt in range(5):
            fields = {"username": "judge", "password": "not the password!", "code": "123456", "csrf_token": token}
            assert other.post("/signin", data=fields).status_code == 401
            still_here(media, attempt)  # and the link's liveness kept
        assert services.unit_of_work(lambda db: db.get_one(StaffUser, court.users["judge"]).locked_until) is not None
        # ...and the judge, signed in before, stays in the hearing: several
        # rechecks later the link still answers and the pages still open.
        time.sleep(RECHECK * 5)
        still_here(media, 99)
        assert client.get("/hearings").status_code == 200
    assert "locked" not in {(p or {}).get("reason") for p in left(services)}
    # A new sign-in, even with the right password and code, waits out the lockout.
    code = current_code(court.secrets["judge"])
    fields = {"username": "judge", "password": PASSWORD, "code": code, "csrf_token": csrf_token(other)}
    assert other.post("/signin", data=fields).status_code == 401


@pytest.mark.sqlite_only
def test_every_ending_has_its_words_in_the_audit_log() -> None:
    from hearing.audit.sentences import DEPARTURES
    from hearing.web.errors import SOCKET_ENDINGS

    assert set(SOCKET_ENDINGS) <= set(DEPARTURES)
    assert {reason for reason, (_, code) in SOCKET_ENDINGS.items() if code == 4401} == ENDINGS
