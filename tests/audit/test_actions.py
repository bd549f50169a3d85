"""Every audit action, produced by the real route or command that records it.

Each scenario drives one operation through HTTP (the TestClient) or the CLI
and compares the entries that operation appended, and only those, with the
exact expected list: action, hearing, actor kind, actor id (or, for the
system actor, its role). Key payload fields are checked too. A second table
drives refused or invalid operations and checks that they append nothing
(or, where the refusal is audited, exactly its access.denied entry).
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing import demo
from hearing.audit import sentences
from hearing.audit.actions import Action
from hearing.cli import main
from hearing.config import Settings
from hearing.db.models import (
    AuditCheckpoint,
    AuditKey,
    Court,
    Courtroom,
    CustodyFacility,
    Endpoint,
    Hearing,
    StaffSession,
    StaffUser,
)
from hearing.docket.lifecycle import FINAL_STATES, HearingState
from hearing.services import Services
from hearing.speaker_order import presiding
from tests.conftest import (
    PASSWORD,
    Court_,
    Logged,
    add_unconfirmed_user,
    csrf_token,
    current_code,
    logged,
    login_as,
    open_hearing,
    post_floor_command,
    reveal_authenticator,
)

CPH = ZoneInfo("Europe/Copenhagen")
REPO = Path(__file__).resolve().parents[2]

Shape = tuple[str, int | None, str, int | str | None]


def shape(entry: Logged) -> Shape:
    """(action, hearing, actor kind, actor id, or the role of an id-less actor)."""
    who = entry.actor_id if entry.actor_id is not None else entry.actor_role
    return (entry.action, entry.hearing_id, entry.actor_kind, who)


def operator(action: Action, hearing_id: int | None = None) -> Shape:
    return (action.value, hearing_id, "system", "operator")


def by_demo(action: Action) -> Shape:
    return (action.value, None, "system", "demo")


def user(action: Action, user_id: int, hearing_id: int | None = None) -> Shape:
    return (action.value, hearing_id, "user", user_id)


# --- the environment every scenario runs in ----------------------------------


@dataclasses.dataclass
class Env:
    """The fixtures, built lazily: the demo scenarios need an empty database
    (the demo migrates it), everything else the seeded court."""

    request: pytest.FixtureRequest
    settings: Settings
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    opened: list[Services] = dataclasses.field(default_factory=list)

    @functools.cached_property
    def services(self) -> Services:
        svc: Services = self.request.getfixturevalue("services")
        return svc

    @functools.cached_property
    def court(self) -> Court_:
        court: Court_ = self.request.getfixturevalue("court")
        return court

    @functools.cached_property
    def client(self) -> TestClient:
        self.court  # noqa: B018 (the court first: the app's services are the fixture's)
        client: TestClient = self.request.getfixturevalue("client")
        return client

    def fresh_services(self) -> Services:
        """Services that load the key files as they are now (after a KEK rotation, say)."""
        svc = Services.from_settings(self.settings)
        self.opened.append(svc)
        return svc

    def log(self, svc: Services | None = None) -> list[Logged]:
        return logged(svc or self.services)

    def appended(self, operation: Callable[[], Any], svc: Services | None = None) -> list[Logged]:
        """The entries that `operation`, and nothing before it, appended."""
        before = len(self.log(svc))
        operation()
        return self.log(svc)[before:]

    def cli(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            code = main(list(args))
        finally:
            # main() points the root logger at this test's captured stderr.
            root.handlers[:], root.level = handlers, level
        out, err = self.capsys.readouterr()
        return code, out, err

    def cli_ok(self, *args: str, stdin: str = "") -> str:
        code, out, err = self.cli(*args, stdin=stdin)
        assert code == 0, err
        return out

    def sign_in_as(self, role: str) -> int:
        """A session for the court's user with this role (appends user.signed_in)."""
        self.client.cookies.clear()
        user_id = self.court.users[role]
        login_as(self.client, self.services, user_id)
        return user_id

    def transition(self, hearing_id: int, action: str, *, csrf: bool = True) -> Any:
        data = {"action": action}
        if csrf:
            data["csrf_token"] = csrf_token(self.client)
        return self.client.post(f"/hearings/{hearing_id}/transition", data=data)

    def drive(self, hearing_id: int, *actions: str) -> None:
        for action in actions:
            response = self.transition(hearing_id, action)
            assert response.status_code == 303, response.text

    def state(self, hearing_id: int) -> HearingState:
        return self.services.unit_of_work(lambda db: db.get_one(Hearing, hearing_id).state)

    def hearings(self) -> int:
        return self.services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(Hearing)) or 0)

    def latest_session(self, user_id: int) -> int:
        return self.services.unit_of_work(
            lambda db: db.scalars(select(func.max(StaffSession.id)).where(StaffSession.user_id == user_id)).one()
        )

    def id_named(self, model: Any, name: str) -> int:
        return self.services.unit_of_work(lambda db: db.scalars(select(model.id).where(model.name == name)).one())

    def enroll_device(self, name: str, kind: str, site: str) -> tuple[int, str, str]:
        """CLI enrollment: (endpoint id, agent token, kiosk enrollment code)."""
        out = self.cli_ok("device", "enroll", "--kind", kind, "--name", name, "--site", site)
        token = re.search(r"agent token:\s+(\S+)", out)
        code = re.search(r"/device/enroll\?code=(\S+)", out)
        assert token and code, out
        return self.id_named(Endpoint, name), token.group(1), code.group(1)

    def redeem_kiosk_code(self, code: str) -> Any:
        token = csrf_token(self.client, f"/device/enroll?code={code}")
        return self.client.post("/device/enroll", data={"csrf_token": token, "code": code})

    def open_hearing(self, hearing_id: int) -> None:
        """Straight to a live state (the floor takes commands only then), unaudited."""
        open_hearing(self.services, hearing_id)

    def floor_command(self, hearing_id: int, body: Any, token: str) -> Any:
        """The judge's panel posts a command (a dict as JSON, a str as it is)."""
        return post_floor_command(self.client, hearing_id, body, token)

    def floor_version(self, hearing_id: int) -> int:
        return self.services.unit_of_work(lambda db: presiding.current(db, db.get_one(Hearing, hearing_id)).version)

    def custody_kiosk(self) -> tuple[int, dict[str, str]]:
        """A custody endpoint at Facility A (hearing A's): its id and its auth header."""
        endpoint_id, token, _ = self.enroll_device("kiosk-a", "custody", "Facility A")
        return endpoint_id, {"Authorization": f"Device {token}"}


@pytest.fixture
def env(
    request: pytest.FixtureRequest,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    # The CLI reads the same data directory (keys) and database as the fixtures.
    monkeypatch.setenv("HEARING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HEARING_DATABASE_URL", settings.database_url)
    environment = Env(request, settings, tmp_path, monkeypatch, capsys)
    yield environment
    for svc in environment.opened:
        svc.close()


def post_signin(client: TestClient, username: str, password: str, code: str, *, csrf: bool = True) -> Any:
    data = {"username": username, "password": password, "code": code, "next": "/hearings"}
    if csrf:
        data["csrf_token"] = csrf_token(client)
    return client.post("/signin", data=data)


def booking_form(court: Court_, start: datetime, **overrides: str) -> dict[str, str]:
    form = {
        "case_number": "SS 2-4711/2026",
        "kind": "remand_extension",
        "start": start.astimezone(CPH).strftime("%Y-%m-%dT%H:%M"),
        "minutes": "30",
        "courtroom_id": str(court.courtroom_a),
        "facility_id": str(court.facility_a),
        "detainee_name": "Jens Hansen",
        "detainee_reference": "VF-77",
        "prosecutor": "Anklager Friis",
        "defence_counsel": "Advokat Vang",
    }
    form.update(overrides)
    return form


def tomorrow_at(hour: int, minute: int) -> datetime:
    return (datetime.now(CPH) + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)


# --- scenarios: one operation, the exact entries it appends --------------------


@dataclasses.dataclass(frozen=True)
class Scenario:
    action: Action
    run: Callable[[Env], list[Logged]]
    # False: the scenario needs an empty database (the demo migrates its own).
    seeded: bool = True


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    action: Action, variant: str = "", *, seeded: bool = True
) -> Callable[[Callable[[Env], list[Logged]]], Callable[..., Any]]:
    def register(run: Callable[[Env], list[Logged]]) -> Callable[[Env], list[Logged]]:
        scenario_id = f"{action.value}:{variant}" if variant else action.value
        assert scenario_id not in SCENARIOS, scenario_id
        SCENARIOS[scenario_id] = Scenario(action, run, seeded)
        return run

    return register


@scenario(Action.SITE_ADDED, "courtroom-of-existing-court")
def _site_added_courtroom(env: Env) -> list[Logged]:
    new = env.appended(lambda: env.cli_ok("site", "add", "courtroom", "Room C", "--court", "Test Court"))
    assert [shape(e) for e in new] == [operator(Action.SITE_ADDED)]
    assert new[0].payload == {"site": "courtroom", "site_id": env.id_named(Courtroom, "Room C"), "name": "Room C"}
    return new


@scenario(Action.SITE_ADDED, "courtroom-of-new-court")
def _site_added_court_and_courtroom(env: Env) -> list[Logged]:
    new = env.appended(lambda: env.cli_ok("site", "add", "courtroom", "Sal 1", "--court", "Landsret"))
    assert [shape(e) for e in new] == [operator(Action.SITE_ADDED), operator(Action.SITE_ADDED)]
    assert [e.payload for e in new] == [
        {"site": "court", "site_id": env.id_named(Court, "Landsret"), "name": "Landsret"},
        {"site": "courtroom", "site_id": env.id_named(Courtroom, "Sal 1"), "name": "Sal 1"},
    ]
    return new


@scenario(Action.SITE_ADDED, "facility")
def _site_added_facility(env: Env) -> list[Logged]:
    new = env.appended(lambda: env.cli_ok("site", "add", "facility", "Facility C"))
    assert [shape(e) for e in new] == [operator(Action.SITE_ADDED)]
    facility = env.id_named(CustodyFacility, "Facility C")
    assert new[0].payload == {"site": "custody_facility", "site_id": facility, "name": "Facility C"}
    return new


@scenario(Action.USER_CREATED)
def _user_created(env: Env) -> list[Logged]:
    outputs: list[str] = []
    args = ["user", "add", "--username", "anne", "--name", "Anne Holm", "--role", "judge", "--courtroom", "Room A"]
    new = env.appended(lambda: outputs.append(env.cli_ok(*args)))
    user_id = env.services.unit_of_work(lambda db: db.scalar(select(StaffUser.id).where(StaffUser.username == "anne")))
    assert [shape(e) for e in new] == [operator(Action.USER_CREATED)]
    assert new[0].payload is not None and set(new[0].payload) == {
        "user_id",
        "username",
        "role",
        "enrolment_code_expires_at",
    }
    assert {k: new[0].payload[k] for k in ("user_id", "username", "role")} == {
        "user_id": user_id,
        "username": "anne",
        "role": "judge",
    }
    password = re.search(r"password \(shown once\): (\S+)", outputs[0])
    code = re.search(r"enrolment code \(shown once; [^)]*\): (\S+)", outputs[0])
    assert password and code
    assert password.group(1) not in json.dumps(new[0].payload) and code.group(1) not in json.dumps(new[0].payload)
    return new


@scenario(Action.USER_TOTP_RESET)
def _user_totp_reset(env: Env) -> list[Logged]:
    outputs: list[str] = []
    new = env.appended(lambda: outputs.append(env.cli_ok("user", "reset-totp", "clerk")))
    assert [shape(e) for e in new] == [operator(Action.USER_TOTP_RESET)]
    assert new[0].payload is not None and set(new[0].payload) == {"user_id", "username", "enrolment_code_expires_at"}
    assert new[0].payload["user_id"] == env.court.users["clerk"] and new[0].payload["username"] == "clerk"
    code = re.search(r"enrolment code \(shown once; [^)]*\): (\S+)", outputs[0])
    assert code and code.group(1) not in json.dumps(new[0].payload)
    return new


def _demo_rerun(env: Env) -> list[Logged]:
    """The demo's second run resets every account and reissues every device."""
    first: list[str] = []
    demo.prepare(env.settings, out=first.append)
    svc = env.fresh_services()
    seeded = [shape(e) for e in env.log(svc)]
    assert seeded == (
        [by_demo(Action.SITE_ADDED)] * 3
        + [by_demo(Action.USER_CREATED)] * len(demo.ACCOUNTS)
        + [by_demo(Action.DEVICE_ENROLLED)] * len(demo.DEVICES)
        + [(Action.HEARING_BOOKED.value, seeded[-1][1], "system", "demo")]
    )
    again: list[str] = []
    new = env.appended(lambda: demo.prepare(env.settings, out=again.append), svc)
    expected = []
    for _ in demo.ACCOUNTS:
        expected += [by_demo(Action.USER_PASSWORD_RESET), by_demo(Action.USER_TOTP_RESET)]
    expected += [by_demo(Action.DEVICE_REISSUED)] * len(demo.DEVICES)
    assert [shape(e) for e in new] == expected
    # Nothing printed once (passwords, TOTP secrets, tokens, links) is in the log.
    printed = re.findall(r"(?:password|secret|token|code=)\s*(\S{10,})", "\n".join(again))
    assert len(printed) >= 2 * len(demo.ACCOUNTS) + 2 * len(demo.DEVICES)
    payloads = json.dumps([e.payload for e in new])
    assert not [value for value in printed if value in payloads]
    return new


@scenario(Action.USER_PASSWORD_RESET, "demo-rerun", seeded=False)
def _user_password_reset(env: Env) -> list[Logged]:
    new = _demo_rerun(env)
    resets = [e for e in new if e.action == Action.USER_PASSWORD_RESET]
    assert [e.payload["username"] for e in resets if e.payload] == [a[0] for a in demo.ACCOUNTS]
    assert all(e.payload and set(e.payload) == {"user_id", "username"} for e in resets)
    return new


@scenario(Action.DEVICE_REISSUED, "demo-rerun", seeded=False)
def _device_reissued(env: Env) -> list[Logged]:
    new = _demo_rerun(env)
    reissued = [e for e in new if e.action == Action.DEVICE_REISSUED]
    assert [e.payload["name"] for e in reissued if e.payload] == [d[0] for d in demo.DEVICES]
    assert all(e.payload and set(e.payload) == {"endpoint_id", "name", "reactivated"} for e in reissued)
    assert not any(e.payload and e.payload["reactivated"] for e in reissued)
    return new


@scenario(Action.USER_TOTP_CONFIRMED)
def _user_totp_confirmed(env: Env) -> list[Logged]:
    enrolment = add_unconfirmed_user(env.services, "newclerk")
    responses: list[Any] = []

    password_step = post_signin(env.client, "newclerk", PASSWORD, "")
    assert password_step.status_code == 303
    _, ticket, token = reveal_authenticator(env.client, password_step.headers["location"], enrolment.enrolment_code)

    def first_sign_in() -> None:
        code = current_code(enrolment.totp_secret)
        responses.append(env.client.post("/signin/enrol", data={"csrf_token": token, "ticket": ticket, "code": code}))

    new = env.appended(first_sign_in)
    assert responses[0].status_code == 303
    uid = enrolment.user_id
    assert [shape(e) for e in new] == [user(Action.USER_TOTP_CONFIRMED, uid), user(Action.USER_SIGNED_IN, uid)]
    assert new[0].payload == {}
    assert new[1].payload == {"session_id": env.latest_session(uid)}
    return new


@scenario(Action.USER_ENROLMENT_CODE_USED)
def _user_enrolment_code_used(env: Env) -> list[Logged]:
    enrolment = add_unconfirmed_user(env.services, "newclerk")
    password_step = post_signin(env.client, "newclerk", PASSWORD, "")
    pages: list[Any] = []
    new = env.appended(
        lambda: pages.append(
            reveal_authenticator(env.client, password_step.headers["location"], enrolment.enrolment_code)[0]
        )
    )
    assert pages[0].status_code == 200 and enrolment.totp_secret in pages[0].text
    assert [shape(e) for e in new] == [user(Action.USER_ENROLMENT_CODE_USED, enrolment.user_id)]
    assert new[0].payload == {}
    return new


@scenario(Action.USER_SIGNED_IN)
def _user_signed_in(env: Env) -> list[Logged]:
    responses: list[Any] = []
    new = env.appended(
        lambda: responses.append(post_signin(env.client, "judge", PASSWORD, current_code(env.court.secrets["judge"])))
    )
    assert responses[0].status_code == 303 and responses[0].headers["location"] == "/hearings"
    judge = env.court.users["judge"]
    assert [shape(e) for e in new] == [user(Action.USER_SIGNED_IN, judge)]
    assert new[0].actor_role == "judge"
    assert new[0].payload == {"session_id": env.latest_session(judge)}
    return new


def _failed_sign_in(env: Env, username: str, password: str, code: str) -> list[Logged]:
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(post_signin(env.client, username, password, code)))
    assert responses[0].status_code == 401
    assert [e.action for e in new][:1] == [Action.USER_SIGN_IN_FAILED.value]
    assert password not in json.dumps([e.payload for e in new])
    return new


@scenario(Action.USER_SIGN_IN_FAILED, "wrong-password")
def _sign_in_failed_password(env: Env) -> list[Logged]:
    new = _failed_sign_in(env, "judge", "not the password at all", current_code(env.court.secrets["judge"]))
    assert [shape(e) for e in new] == [user(Action.USER_SIGN_IN_FAILED, env.court.users["judge"])]
    assert new[0].payload == {"username": "judge", "reason": "password"}
    return new


@scenario(Action.USER_SIGN_IN_FAILED, "wrong-code")
def _sign_in_failed_totp(env: Env) -> list[Logged]:
    wrong = f"{(int(current_code(env.court.secrets['judge'])) + 500_000) % 1_000_000:06d}"
    new = _failed_sign_in(env, "judge", PASSWORD, wrong)
    assert [shape(e) for e in new] == [user(Action.USER_SIGN_IN_FAILED, env.court.users["judge"])]
    assert new[0].payload == {"username": "judge", "reason": "totp"}
    return new


@scenario(Action.USER_SIGN_IN_FAILED, "unknown-user")
def _sign_in_failed_unknown(env: Env) -> list[Logged]:
    new = _failed_sign_in(env, "nobody", PASSWORD, "123456")
    assert [shape(e) for e in new] == [(Action.USER_SIGN_IN_FAILED.value, None, "anonymous", None)]
    assert new[0].payload == {"username": "nobody", "reason": "unknown_user"}
    return new


@scenario(Action.USER_SIGN_IN_FAILED, "locked-account")
def _sign_in_failed_locked(env: Env) -> list[Logged]:
    for _ in range(5):
        assert post_signin(env.client, "judge", "not the password at all", "").status_code == 401
    # Even the right password and code are refused while locked; no new lockout.
    new = _failed_sign_in(env, "judge", PASSWORD, current_code(env.court.secrets["judge"]))
    assert [shape(e) for e in new] == [user(Action.USER_SIGN_IN_FAILED, env.court.users["judge"])]
    assert new[0].payload == {"username": "judge", "reason": "locked"}
    return new


@scenario(Action.USER_SIGN_IN_FAILED, "wrong-enrolment-code")
def _sign_in_failed_enrolment(env: Env) -> list[Logged]:
    enrolment = add_unconfirmed_user(env.services, "newclerk")
    password_step = post_signin(env.client, "newclerk", PASSWORD, "")
    _, ticket, token = reveal_authenticator(env.client, password_step.headers["location"], enrolment.enrolment_code)
    wrong = f"{(int(current_code(enrolment.totp_secret)) + 500_000) % 1_000_000:06d}"
    responses: list[Any] = []
    new = env.appended(
        lambda: responses.append(
            env.client.post("/signin/enrol", data={"csrf_token": token, "ticket": ticket, "code": wrong})
        )
    )
    assert responses[0].status_code == 401
    assert [shape(e) for e in new] == [user(Action.USER_SIGN_IN_FAILED, enrolment.user_id)]
    assert new[0].payload == {"username": "newclerk", "reason": "totp"}
    return new


@scenario(Action.USER_LOCKED, "fifth-failure")
def _user_locked(env: Env) -> list[Logged]:
    for _ in range(4):
        assert post_signin(env.client, "judge", "not the password at all", "").status_code == 401
    new = _failed_sign_in(env, "judge", "not the password at all", "")
    judge = env.court.users["judge"]
    assert [shape(e) for e in new] == [user(Action.USER_SIGN_IN_FAILED, judge), user(Action.USER_LOCKED, judge)]
    assert new[0].payload == {"username": "judge", "reason": "password"}
    assert new[1].payload is not None and set(new[1].payload) == {"until"}
    until = datetime.fromisoformat(str(new[1].payload["until"]))
    assert timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
    return new


@scenario(Action.USER_SIGNED_OUT)
def _user_signed_out(env: Env) -> list[Logged]:
    judge = env.sign_in_as("judge")
    session_id = env.latest_session(judge)
    token = csrf_token(env.client)
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(env.client.post("/signout", data={"csrf_token": token})))
    assert responses[0].status_code == 303 and responses[0].headers["location"] == "/signin"
    assert [shape(e) for e in new] == [user(Action.USER_SIGNED_OUT, judge)]
    assert new[0].payload == {"session_id": session_id}
    return new


@scenario(Action.DEVICE_ENROLLED)
def _device_enrolled(env: Env) -> list[Logged]:
    found: list[tuple[int, str, str]] = []
    new = env.appended(lambda: found.append(env.enroll_device("kiosk-a", "custody", "Facility A")))
    endpoint_id, token, code = found[0]
    assert [shape(e) for e in new] == [operator(Action.DEVICE_ENROLLED)]
    assert new[0].payload == {"endpoint_id": endpoint_id, "name": "kiosk-a", "kind": "custody", "site": "Facility A"}
    assert token not in json.dumps(new[0].payload) and code not in json.dumps(new[0].payload)
    return new


@scenario(Action.DEVICE_KIOSK_ENROLLED)
def _device_kiosk_enrolled(env: Env) -> list[Logged]:
    endpoint_id, _, code = env.enroll_device("kiosk-a", "custody", "Facility A")
    token = csrf_token(env.client, f"/device/enroll?code={code}")
    responses: list[Any] = []
    new = env.appended(
        lambda: responses.append(env.client.post("/device/enroll", data={"csrf_token": token, "code": code}))
    )
    assert responses[0].status_code == 200 and "hearing_device=" in responses[0].headers["set-cookie"]
    assert [shape(e) for e in new] == [(Action.DEVICE_KIOSK_ENROLLED.value, None, "device", endpoint_id)]
    assert new[0].actor_role == "custody"
    assert new[0].payload == {"endpoint_id": endpoint_id}
    return new


@scenario(Action.DEVICE_REVOKED)
def _device_revoked(env: Env) -> list[Logged]:
    endpoint_id, _, _ = env.enroll_device("rig-a", "courtroom", "Room A")
    new = env.appended(lambda: env.cli_ok("device", "revoke", "rig-a"))
    assert [shape(e) for e in new] == [operator(Action.DEVICE_REVOKED)]
    assert new[0].payload == {"endpoint_id": endpoint_id, "name": "rig-a"}
    return new


@scenario(Action.ACCESS_DENIED, "judge-posts-to-other-courtroom")
def _access_denied_judge(env: Env) -> list[Logged]:
    judge = env.sign_in_as("judge")
    hearing_b = env.court.hearing_b
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(env.transition(hearing_b, "open")))
    assert responses[0].status_code == 403
    assert env.state(hearing_b) is HearingState.SCHEDULED
    # In the refused hearing's own trail, and named in the payload too.
    assert [shape(e) for e in new] == [user(Action.ACCESS_DENIED, judge, hearing_b)]
    path = f"/hearings/{hearing_b}/transition"
    assert new[0].payload == {"method": "POST", "path": path, "target_hearing": hearing_b}
    return new


@scenario(Action.ACCESS_DENIED, "device-reads-other-site")
def _access_denied_device(env: Env) -> list[Logged]:
    endpoint_id, token, _ = env.enroll_device("kiosk-a", "custody", "Facility A")
    hearing_b = env.court.hearing_b
    responses: list[Any] = []
    headers = {"Authorization": f"Device {token}"}
    new = env.appended(lambda: responses.append(env.client.get(f"/api/device/hearings/{hearing_b}", headers=headers)))
    assert responses[0].status_code == 403 and responses[0].json()["error"] == "permission_denied"
    assert [shape(e) for e in new] == [(Action.ACCESS_DENIED.value, hearing_b, "device", endpoint_id)]
    path = f"/api/device/hearings/{hearing_b}"
    assert new[0].payload == {"method": "GET", "path": path, "target_hearing": hearing_b}
    return new


def _media_socket(env: Env, hearing_id: int) -> list[Any]:
    """Join the hearing's media socket as the signed-in user and leave again."""
    replies: list[Any] = []
    with env.client.websocket_connect(f"/ws/hearings/{hearing_id}/media") as ws:
        replies.append(ws.receive_json())
        if replies[0]["type"] == "welcome":
            ws.send_json({"type": "leave"})
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    return replies


@scenario(Action.ACCESS_DENIED, "clerk-joins-media")
def _access_denied_media(env: Env) -> list[Logged]:
    clerk = env.sign_in_as("clerk")
    hearing = env.court.hearing_a
    replies: list[Any] = []
    new = env.appended(lambda: replies.extend(_media_socket(env, hearing)))
    assert replies[0]["error"] == "permission_denied"
    assert [shape(e) for e in new] == [user(Action.ACCESS_DENIED, clerk, hearing)]
    path = f"/ws/hearings/{hearing}/media"
    assert new[0].payload == {"method": "WEBSOCKET", "path": path, "target_hearing": hearing}
    return new


def _judge_joins_and_leaves(env: Env) -> list[Logged]:
    judge = env.sign_in_as("judge")
    hearing = env.court.hearing_a
    env.open_hearing(hearing)
    replies: list[Any] = []
    new = env.appended(lambda: replies.extend(_media_socket(env, hearing)))
    assert (replies[0]["type"], replies[0]["seat"], replies[0]["hearing"]) == ("welcome", "judge", hearing)
    assert [shape(e) for e in new] == [
        user(Action.PARTICIPANT_JOINED, judge, hearing),
        user(Action.PARTICIPANT_LEFT, judge, hearing),
    ]
    assert [e.payload for e in new] == [{"seat": "judge"}, {"seat": "judge", "reason": "left"}]
    return new


scenario(Action.PARTICIPANT_JOINED)(_judge_joins_and_leaves)
scenario(Action.PARTICIPANT_LEFT)(_judge_joins_and_leaves)


# issue 11, the test call
@scenario(Action.ENDPOINT_TEST_CALL)
def _kiosk_makes_a_test_call(env: Env) -> list[Logged]:
    import asyncio

    from hearing.docket.parties import EndpointKind
    from hearing.media.loop_client import LoopClient
    from hearing.media.tracks import PatternTrack, ToneTrack
    from tests.browser import LiveServer
    from tests.conftest import enroll_device

    env.court  # noqa: B018 (the seeded court)
    kiosk = enroll_device(env.services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    server = LiveServer(env.settings.replace(test_call_seconds=3.0), env.services)
    server.start()

    async def call() -> dict[str, Any]:
        client = LoopClient(
            f"ws://127.0.0.1:{server.settings.port}/ws/device/test-call",
            headers={"Authorization": f"Device {kiosk.token}"},
        )
        camera, microphone = PatternTrack(640, 360, 25), ToneTrack(440.0)
        try:
            return await client.run(camera, microphone)
        finally:
            await client.close()
            camera.stop()
            microphone.stop()

    results: list[dict[str, Any]] = []
    try:
        new = env.appended(lambda: results.append(asyncio.run(call())))
    finally:
        server.stop()
    endpoint_id = kiosk.endpoint_id
    assert [shape(e) for e in new] == [(Action.ENDPOINT_TEST_CALL.value, None, "device", endpoint_id)]
    payload = new[0].payload
    assert payload is not None
    assert (payload["grade"], payload["figures"], payload["reasons"]) == (
        results[0]["grade"],
        results[0]["figures"],
        results[0]["reasons"],
    )
    return new


@scenario(Action.ACCESS_DENIED, "role-without-permission")
def _access_denied_role(env: Env) -> list[Logged]:
    auditor = env.sign_in_as("auditor")
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(env.client.get("/hearings")))
    assert responses[0].status_code == 403
    assert [shape(e) for e in new] == [user(Action.ACCESS_DENIED, auditor)]
    assert new[0].payload == {"method": "GET", "path": "/hearings", "target_hearing": None}
    return new


@scenario(Action.ACCESS_DENIED, "unknown-hearing")
def _access_denied_unknown_hearing(env: Env) -> list[Logged]:
    auditor = env.sign_in_as("auditor")
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(env.client.get("/hearings/999999")))
    assert responses[0].status_code == 403
    # No hearing to file it under: a system entry, and no data key for 999999.
    assert [shape(e) for e in new] == [user(Action.ACCESS_DENIED, auditor)]
    assert new[0].payload == {"method": "GET", "path": "/hearings/999999", "target_hearing": 999999}
    assert "hearing:999999" not in env.services.unit_of_work(lambda db: set(db.scalars(select(AuditKey.scope))))
    return new


@scenario(Action.HEARING_BOOKED, "web")
def _hearing_booked_web(env: Env) -> list[Logged]:
    clerk = env.sign_in_as("clerk")
    form = booking_form(env.court, tomorrow_at(9, 30))
    token = csrf_token(env.client, "/hearings/new")
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(env.client.post("/hearings", data={"csrf_token": token, **form})))
    assert responses[0].status_code == 303
    hearing_id = int(responses[0].headers["location"].rsplit("/", 1)[1])
    assert [shape(e) for e in new] == [user(Action.HEARING_BOOKED, clerk, hearing_id)]
    payload = new[0].payload
    assert payload is not None
    assert set(payload) == {"case_number", "courtroom_id", "facility_id", "start", "end"}
    assert payload["case_number"] == "SS 2-4711/2026"
    assert (payload["courtroom_id"], payload["facility_id"]) == (env.court.courtroom_a, env.court.facility_a)
    start = datetime.fromisoformat(str(payload["start"]))
    assert start == tomorrow_at(9, 30)
    assert datetime.fromisoformat(str(payload["end"])) - start == timedelta(minutes=30)
    # The case, never the detainee: personal data stays in the hearing record.
    for personal in ("Jens Hansen", "VF-77", "Friis", "Vang"):
        assert personal not in json.dumps(payload)
    return new


@scenario(Action.HEARING_BOOKED, "cli-schedule")
def _hearing_booked_cli(env: Env) -> list[Logged]:
    start = tomorrow_at(10, 0).strftime("%Y-%m-%dT%H:%M")
    args = ["schedule", "--case", "SS 1-300/2026", "--courtroom", "Room B", "--facility", "Facility B"]
    args += ["--start", start, "--detainee-name", "Jens Hansen", "--detainee-ref", "VF-78"]
    outputs: list[str] = []
    new = env.appended(lambda: outputs.append(env.cli_ok(*args)))
    booked = re.search(r"hearing (\d+) booked", outputs[0])
    assert booked
    assert [shape(e) for e in new] == [operator(Action.HEARING_BOOKED, int(booked.group(1)))]
    assert new[0].payload is not None and new[0].payload["case_number"] == "SS 1-300/2026"
    assert "Jens Hansen" not in json.dumps(new[0].payload) and "VF-78" not in json.dumps(new[0].payload)
    return new


# (action, transitions that reach the source state, the transition, from, to)
LIFECYCLE = [
    (Action.HEARING_OPENED, [], "open", "scheduled", "open"),
    (Action.HEARING_STARTED, ["open"], "start", "open", "in_session"),
    (Action.HEARING_PAUSED, ["open", "start"], "pause", "in_session", "paused"),
    (Action.HEARING_RESUMED, ["open", "start", "pause"], "resume", "paused", "in_session"),
    (Action.CONSULTATION_STARTED, ["open", "start"], "begin_consultation", "in_session", "consultation"),
    (
        Action.CONSULTATION_ENDED,
        ["open", "start", "begin_consultation"],
        "end_consultation",
        "consultation",
        "in_session",
    ),
    (Action.HEARING_ADJOURNED, ["open", "start", "pause"], "adjourn", "paused", "adjourned"),
    (Action.HEARING_CLOSED, ["open", "start"], "close", "in_session", "closed"),
    (
        Action.HEARING_CONVERTED_TO_PHYSICAL,
        ["open", "start", "begin_consultation"],
        "convert_to_physical",
        "consultation",
        "converted_to_physical",
    ),
]


def _lifecycle_scenario(action: Action, setup: list[str], chosen: str, source: str, target: str) -> None:
    @scenario(action, "judge")
    def run(env: Env) -> list[Logged]:
        judge = env.sign_in_as("judge")
        hearing = env.court.hearing_a
        env.drive(hearing, *setup)
        responses: list[Any] = []
        new = env.appended(lambda: responses.append(env.transition(hearing, chosen)))
        assert responses[0].status_code == 303 and responses[0].headers["location"] == f"/hearings/{hearing}"
        assert [shape(e) for e in new] == [user(action, judge, hearing)]
        assert new[0].actor_role == "judge"
        # A consultation's entries say who conferred (invariant 2).
        consultation = action in (Action.CONSULTATION_STARTED, Action.CONSULTATION_ENDED)
        members = {"members": ["booth", "custody"]} if consultation else {}
        assert new[0].payload == {"from_state": source, "to_state": target, **members}
        assert env.state(hearing) == HearingState(target)
        if HearingState(target) in FINAL_STATES:
            # Ending a hearing signs a tree head that covers its last entry.
            signed = env.services.unit_of_work(lambda db: db.scalar(select(func.max(AuditCheckpoint.size))))
            assert signed == new[-1].seq
        return new


for _row in LIFECYCLE:
    _lifecycle_scenario(*_row)


# --- the speaker-order floor: the judge's panel and the custody endpoint -------

PROSECUTOR, DEFENCE, DETAINEE = "courtroom:prosecutor", "courtroom:defence_counsel", "custody:detainee"
ADMIT_CUSTODY = {"action": "admit", "seat": "custody"}
HIDE_VIDEO = {"action": "hide", "source": "custody", "receiver": "courtroom", "medium": "video"}


def _ask(speaker: str, action: str = "request") -> dict[str, Any]:
    return {"action": action, "speaker": speaker}


# (action, variant, commands that set the floor up, the command, its entry's payload).
# The payload's version is the floor's after the command, not the one the panel sent.
FLOOR = [
    (Action.LOBBY_ADMITTED, "custody", [], ADMIT_CUSTODY, {"version": 1, "seat": "custody"}),
    (Action.FLOOR_REQUESTED, "judge-for-prosecutor", [], _ask(PROSECUTOR), {"version": 1, "speaker": PROSECUTOR}),
    (
        Action.FLOOR_REQUESTED,
        "judge-for-detainee",
        [ADMIT_CUSTODY, _ask(PROSECUTOR)],
        _ask(DETAINEE),
        {"version": 3, "speaker": DETAINEE},
    ),
    (
        Action.FLOOR_WITHDRAWN,
        "judge-for-prosecutor",
        [_ask(PROSECUTOR)],
        _ask(PROSECUTOR, "withdraw"),
        {"version": 2, "speaker": PROSECUTOR},
    ),
    (
        Action.FLOOR_REQUEST_REMOVED,
        "judge",
        [_ask(PROSECUTOR), _ask(DEFENCE)],
        _ask(DEFENCE, "remove"),
        {"version": 3, "speaker": DEFENCE},
    ),
    (Action.FLOOR_QUEUE_SKIPPED, "judge", [_ask(PROSECUTOR), _ask(DEFENCE)], {"action": "skip"}, {"version": 3}),
    (
        Action.FLOOR_QUEUE_REORDERED,
        "judge",
        [_ask(PROSECUTOR), _ask(DEFENCE)],
        {"action": "reorder", "speaker": DEFENCE, "position": 0},
        {"version": 3, "speaker": DEFENCE, "position": 0},
    ),
    (Action.FLOOR_QUEUE_CLEARED, "judge", [_ask(PROSECUTOR), _ask(DEFENCE)], {"action": "clear"}, {"version": 3}),
    (Action.FLOOR_GRANTED, "first-in-queue", [_ask(PROSECUTOR)], {"action": "grant"}, {"version": 2}),
    (
        Action.FLOOR_GRANTED,
        "named-keeping-the-previous",
        [ADMIT_CUSTODY, {"action": "grant", "speaker": PROSECUTOR}],
        {"action": "grant", "speaker": DETAINEE, "keep_previous": True},
        {"version": 3, "speaker": DETAINEE, "keep_previous": True},
    ),
    (
        Action.FLOOR_TAKEN_BACK,
        "judge",
        [_ask(PROSECUTOR), {"action": "grant"}],
        {"action": "take_back"},
        {"version": 3},
    ),
    (
        Action.FLOOR_MODE_CHANGED,
        "controlled",
        [],
        {"action": "mode", "mode": "controlled"},
        {"version": 1, "mode": "controlled"},
    ),
    (
        Action.FLOOR_MODE_CHANGED,
        "open-at-the-seen-version",
        [{"action": "mode", "mode": "controlled"}],
        {"action": "mode", "mode": "open", "version": 1},
        {"version": 2, "mode": "open"},
    ),
    (Action.FLOOR_MUTED, "custody", [], {"action": "mute", "seat": "custody"}, {"version": 1, "seat": "custody"}),
    (
        Action.FLOOR_UNMUTED,
        "custody",
        [{"action": "mute", "seat": "custody"}],
        {"action": "unmute", "seat": "custody"},
        {"version": 2, "seat": "custody"},
    ),
    (Action.FLOOR_ALL_MUTED, "judge", [], {"action": "mute_all"}, {"version": 1}),
    (
        Action.FLOOR_HIDDEN,
        "custody-video-from-courtroom",
        [],
        HIDE_VIDEO,
        {"version": 1, "source": "custody", "receiver": "courtroom", "medium": "video"},
    ),
    (
        Action.FLOOR_UNHIDDEN,
        "custody-video-from-courtroom",
        [HIDE_VIDEO],
        {**HIDE_VIDEO, "action": "unhide"},
        {"version": 2, "source": "custody", "receiver": "courtroom", "medium": "video"},
    ),
]


def _floor_scenario(
    action: Action, variant: str, setup: list[dict[str, Any]], chosen: dict[str, Any], payload: dict[str, Any]
) -> None:
    @scenario(action, variant)
    def run(env: Env) -> list[Logged]:
        judge = env.sign_in_as("judge")
        hearing = env.court.hearing_a
        env.open_hearing(hearing)
        token = csrf_token(env.client)
        for body in setup:
            _status(env.floor_command(hearing, body, token), 200)
        responses: list[Any] = []
        new = env.appended(lambda: responses.append(env.floor_command(hearing, chosen, token)))
        _status(responses[0], 200)
        assert responses[0].json()["version"] == payload["version"] == env.floor_version(hearing)
        assert [shape(e) for e in new] == [user(action, judge, hearing)]
        assert new[0].actor_role == "judge"
        assert new[0].payload == payload
        return new


for _row in FLOOR:
    _floor_scenario(*_row)


def _custody_view(version: int, *, admitted: bool = True, queued: list[str] | None = None) -> dict[str, Any]:
    """What the custody endpoint is told of the floor (no mutes, no holder here)."""
    return {
        "type": "floor",
        "version": version,
        "mode": "open",
        "admitted": admitted,
        "muted": False,
        "holder": None,
        "queued": queued or [],
        "consultation": False,
        "hidden_from": [],
        # issue 12, interp: how the interpreter is heard, on every seat's view
        "interpretation": "none",
        "direction": "none",
        "needs_interpretation": False,
    }


def _custody_asks(env: Env, *kinds: str) -> list[Logged]:
    """The judge admits the custody seat; its endpoint sends each of `kinds`
    ("request", "withdraw") for the detainee over its media socket. The
    entries the last one appended."""
    env.sign_in_as("judge")
    hearing = env.court.hearing_a
    env.open_hearing(hearing)
    endpoint_id, headers = env.custody_kiosk()
    _status(env.floor_command(hearing, ADMIT_CUSTODY, csrf_token(env.client)), 200)
    env.client.cookies.clear()  # the endpoint, not the judge's session
    views: list[Any] = []
    with env.client.websocket_connect(f"/ws/hearings/{hearing}/media", headers=headers) as ws:
        welcome = ws.receive_json()
        assert (welcome["type"], welcome["seat"], welcome["floor"]) == ("welcome", "custody", _custody_view(1))

        def ask(kind: str) -> None:
            ws.send_json({"type": kind, "speaker": DETAINEE})
            views.append(ws.receive_json())

        for kind in kinds[:-1]:
            ask(kind)
        new = env.appended(lambda: ask(kinds[-1]))
        ws.send_json({"type": "leave"})
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    version = 1 + len(kinds)
    queued = [DETAINEE] if kinds[-1] == "request" else []
    assert views[-1] == _custody_view(version, queued=queued)
    assert env.floor_version(hearing) == version
    action = Action.FLOOR_REQUESTED if kinds[-1] == "request" else Action.FLOOR_WITHDRAWN
    assert [shape(e) for e in new] == [(action.value, hearing, "device", endpoint_id)]
    assert new[0].actor_role == "custody"
    assert new[0].payload == {"version": version, "speaker": DETAINEE}
    return new


@scenario(Action.FLOOR_REQUESTED, "custody-endpoint")
def _floor_requested_by_custody(env: Env) -> list[Logged]:
    return _custody_asks(env, "request")


@scenario(Action.FLOOR_WITHDRAWN, "custody-endpoint")
def _floor_withdrawn_by_custody(env: Env) -> list[Logged]:
    return _custody_asks(env, "request", "withdraw")


@scenario(Action.LOBBY_DENIED, "custody-turned-away")
def _lobby_denied(env: Env) -> list[Logged]:
    judge = env.sign_in_as("judge")
    hearing = env.court.hearing_a
    env.open_hearing(hearing)
    endpoint_id, headers = env.custody_kiosk()
    token = csrf_token(env.client)
    responses: list[Any] = []
    told: list[Any] = []
    # The device's token decides who the socket is; the judge's cookie goes along unused.
    with env.client.websocket_connect(f"/ws/hearings/{hearing}/media", headers=headers) as ws:
        welcome = ws.receive_json()
        assert (welcome["type"], welcome["floor"]) == ("welcome", _custody_view(0, admitted=False))

        def deny() -> None:
            responses.append(env.floor_command(hearing, {"action": "deny", "seat": "custody"}, token))
            told.append(ws.receive_json()["type"])
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            told.append(closed.value.code)

        new = env.appended(deny)
    _status(responses[0], 200)
    assert responses[0].json()["version"] == 0 == env.floor_version(hearing)
    assert told == ["denied", 4403]
    assert [shape(e) for e in new] == [
        user(Action.LOBBY_DENIED, judge, hearing),
        (Action.PARTICIPANT_LEFT.value, hearing, "device", endpoint_id),
    ]
    # Turning a seat away changes no floor: the version stays where it was.
    assert [e.payload for e in new] == [{"version": 0, "seat": "custody"}, {"seat": "custody", "reason": "denied"}]
    return new


@scenario(Action.AUDIT_READ, "web-auditor")
def _audit_read_web(env: Env) -> list[Logged]:
    env.sign_in_as("judge")
    hearing = env.court.hearing_a
    env.drive(hearing, "open", "start")
    auditor = env.sign_in_as("auditor")
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(env.client.get(f"/audit/hearings/{hearing}")))
    assert responses[0].status_code == 200 and "opened the hearing" in responses[0].text
    assert [shape(e) for e in new] == [user(Action.AUDIT_READ, auditor, hearing)]
    assert new[0].payload == {"hearing": hearing, "entries": 2}
    return new


@scenario(Action.AUDIT_READ, "cli-show")
def _audit_read_cli(env: Env) -> list[Logged]:
    env.sign_in_as("judge")
    hearing = env.court.hearing_a
    env.drive(hearing, "open")
    outputs: list[str] = []
    new = env.appended(lambda: outputs.append(env.cli_ok("audit", "show", "--hearing", str(hearing))))
    assert "opened the hearing" in outputs[0]
    assert [shape(e) for e in new] == [operator(Action.AUDIT_READ, hearing)]
    assert new[0].payload == {"hearing": hearing, "entries": 1}
    return new


@scenario(Action.AUDIT_READ, "shredded-hearing")
def _audit_read_shredded(env: Env) -> list[Logged]:
    env.sign_in_as("judge")
    hearing = env.court.hearing_a
    env.drive(hearing, "open", "close")
    env.cli_ok("audit", "shred", "--hearing", str(hearing))
    auditor = env.sign_in_as("auditor")
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(env.client.get(f"/audit/hearings/{hearing}")))
    assert responses[0].status_code == 200 and "payload destroyed" in responses[0].text
    # Nothing can be encrypted under the destroyed key: a system entry.
    assert [shape(e) for e in new] == [user(Action.AUDIT_READ, auditor)]
    assert new[0].payload == {"hearing": hearing, "entries": 2}
    return new


@scenario(Action.AUDIT_SYSTEM_READ, "web-auditor")
def _audit_system_read_web(env: Env) -> list[Logged]:
    auditor = env.sign_in_as("auditor")
    responses: list[Any] = []
    query = {"action": "user.signed_in", "actor": "auditor", "since": "2026-01-01"}
    new = env.appended(lambda: responses.append(env.client.get("/audit/system", params=query)))
    assert responses[0].status_code == 200 and "Auditor (auditor) signed in" in responses[0].text
    assert [shape(e) for e in new] == [user(Action.AUDIT_SYSTEM_READ, auditor)]
    since = datetime(2026, 1, 1, tzinfo=env.settings.timezone).astimezone(UTC).isoformat()
    filters = {"action": "user.signed_in", "actor": "auditor", "since": since}
    assert new[0].payload == {"entries": 1, "filters": filters}
    return new


@scenario(Action.AUDIT_SYSTEM_READ, "cli-show")
def _audit_system_read_cli(env: Env) -> list[Logged]:
    env.sign_in_as("judge")
    outputs: list[str] = []
    new = env.appended(lambda: outputs.append(env.cli_ok("audit", "show", "--system", "--action", "user.signed_in")))
    assert "Judge (judge) signed in" in outputs[0]
    assert [shape(e) for e in new] == [operator(Action.AUDIT_SYSTEM_READ)]
    assert new[0].payload == {"entries": 1, "filters": {"action": "user.signed_in"}}
    return new


@scenario(Action.AUDIT_KEY_SHREDDED)
def _audit_key_shredded(env: Env) -> list[Logged]:
    env.sign_in_as("judge")
    hearing = env.court.hearing_a
    env.drive(hearing, "open", "close")
    assert all(e.payload is not None for e in env.log() if e.hearing_id == hearing)
    new = env.appended(lambda: env.cli_ok("audit", "shred", "--hearing", str(hearing)))
    assert [shape(e) for e in new] == [operator(Action.AUDIT_KEY_SHREDDED)]
    assert new[0].payload == {"hearing": hearing}
    assert [e.payload for e in env.log() if e.hearing_id == hearing] == [None, None]
    return new


@scenario(Action.AUDIT_KEK_ROTATED)
def _audit_kek_rotated(env: Env) -> list[Logged]:
    env.sign_in_as("judge")  # a system data key
    env.drive(env.court.hearing_a, "open")  # and a hearing's
    old = env.services.audit.keys.kek_fingerprint.hex()
    before = len(env.log())
    out = env.cli_ok("keys", "rotate-kek")
    assert "re-wrapped 2 audit data keys" in out
    # The fixture's services hold the old KEK; read with the new one.
    rotated = env.fresh_services()
    everything = env.log(rotated)
    new = everything[before:]
    assert [shape(e) for e in new] == [operator(Action.AUDIT_KEK_ROTATED)]
    assert new[0].payload == {"old": old, "new": rotated.audit.keys.kek_fingerprint.hex(), "keys": 2}
    assert old != rotated.audit.keys.kek_fingerprint.hex()
    assert all(e.payload is not None for e in everything)
    return new


@scenario(Action.AUDIT_CHECKPOINT_EXPORTED)
def _audit_checkpoint_exported(env: Env) -> list[Logged]:
    env.sign_in_as("judge")
    env.drive(env.court.hearing_a, "open")
    size = len(env.log())
    out_file = env.tmp_path / "checkpoint.txt"
    new = env.appended(lambda: env.cli_ok("audit", "checkpoint", "--out", str(out_file)))
    assert [shape(e) for e in new] == [operator(Action.AUDIT_CHECKPOINT_EXPORTED)]
    # The exported tree head is the log as it was just before this entry.
    assert new[0].payload == {"size": size}
    assert out_file.read_text(encoding="utf-8").splitlines()[:2] == [env.settings.audit_origin, str(size)]
    return new


# --- the custody desk (issue 11) ---


@scenario(Action.CUSTODY_CHECKED_IN)
def _custody_checked_in(env: Env) -> list[Logged]:
    officer = env.sign_in_as("custody_officer")
    hearing = env.court.hearing_a
    data = {"csrf_token": csrf_token(env.client, "/custody"), "status": "in_room", "note": "Sidder klar."}
    new = env.appended(lambda: env.client.post(f"/custody/hearings/{hearing}/check-in", data=data))
    assert [shape(e) for e in new] == [user(Action.CUSTODY_CHECKED_IN, officer, hearing)]
    assert new[0].payload == {
        "status": "in_room",
        "name_confirmed": False,
        "reference_confirmed": False,
        "note": "Sidder klar.",
    }
    return new


@scenario(Action.CUSTODY_ROOM_ASSIGNED)
def _custody_room_assigned(env: Env) -> list[Logged]:
    kiosk, _, _ = env.enroll_device("kiosk-a", "custody", "Facility A")
    officer = env.sign_in_as("custody_officer")
    hearing = env.court.hearing_a
    data = {"csrf_token": csrf_token(env.client, "/custody"), "endpoint_id": str(kiosk)}
    new = env.appended(lambda: env.client.post(f"/custody/hearings/{hearing}/room", data=data))
    assert [shape(e) for e in new] == [user(Action.CUSTODY_ROOM_ASSIGNED, officer, hearing)]
    assert new[0].payload == {"endpoint_id": kiosk, "name": "kiosk-a"}
    return new


# --- plan B (issue 11) -------------------------------------------------------------


def _custody_link(env: Env) -> tuple[str, dict[str, str], int]:
    """A hearing in session with the custody room admitted, and the room's credentials."""
    from tests.conftest import admit

    h = env.court.hearing_a
    open_hearing(env.services, h, HearingState.IN_SESSION)
    admit(env.services, env.court, h)
    endpoint_id, token, _ = env.enroll_device("kiosk-a", "custody", "Facility A")
    return f"/ws/hearings/{h}/media", {"Authorization": f"Device {token}"}, endpoint_id


def _lose(env: Env, path: str, headers: dict[str, str]) -> None:
    """Connect, then fall silent: the liveness timeout ends the link (a lost
    link, not a leave)."""
    from hearing.web import media
    from tests.waiting import wait_until

    env.monkeypatch.setattr(media, "LIVENESS_SECONDS", 0.3)
    left = len([e for e in env.log() if e.action == "participant.left"])
    with env.client.websocket_connect(path, headers=headers) as ws:
        assert ws.receive_json()["type"] == "welcome"
        wait_until(lambda: len([e for e in env.log() if e.action == "participant.left"]) > left)
    env.monkeypatch.setattr(media, "LIVENESS_SECONDS", 5.0)


@scenario(Action.HEARING_INTERRUPTED)
def _hearing_interrupted(env: Env) -> list[Logged]:
    path, headers, kiosk = _custody_link(env)
    h = env.court.hearing_a
    new = env.appended(lambda: _lose(env, path, headers))
    assert [shape(e) for e in new] == [
        ("participant.joined", h, "device", kiosk),
        ("hearing.interrupted", h, "system", None),
        ("participant.left", h, "device", kiosk),
    ]
    assert new[1].payload == {"seat": "custody", "paused": True, "from_state": "in_session", "to_state": "paused"}
    assert env.state(h) is HearingState.PAUSED
    return new


@scenario(Action.HEARING_LINK_RESTORED)
def _hearing_link_restored(env: Env) -> list[Logged]:
    path, headers, kiosk = _custody_link(env)
    h = env.court.hearing_a
    _lose(env, path, headers)

    def back() -> None:
        with env.client.websocket_connect(path, headers=headers) as ws:
            assert ws.receive_json()["type"] == "welcome"
            ws.send_json({"type": "leave"})
            with pytest.raises(WebSocketDisconnect):  # closed after its last entry
                while True:
                    ws.receive_json()

    new = env.appended(back)
    assert [shape(e) for e in new] == [
        ("participant.joined", h, "device", kiosk),
        ("hearing.link_restored", h, "system", None),
        ("participant.left", h, "device", kiosk),
    ]
    assert new[0].payload == {"seat": "custody", "reconnected": True}
    assert new[1].payload is not None and new[1].payload["in_time"] is True and new[1].payload["lobby"] is False
    return new


@scenario(Action.COURT_PAUSE_ON_DROP_SET)
def _court_pause_on_drop_set(env: Env) -> list[Logged]:
    new = env.appended(lambda: env.cli_ok("site", "pause-on-drop", "Test Court", "off"))
    assert [shape(e) for e in new] == [operator(Action.COURT_PAUSE_ON_DROP_SET)]
    assert new[0].payload == {"site_id": env.court.court_id, "name": "Test Court", "pause_on_drop": False}
    return new


# --- issue 12, interp: interpretation set by the judge, its direction following the floor ---
# (Registered before the parametrized test below: a scenario registered after it is never run.)


def _with_remote_interpreter(env: Env) -> str:
    """Hearing A with a remote interpreter booked (set up in the database: the
    clerk's remote-party service audits its own entries in its scenarios)."""
    from hearing.db.models import Participant
    from hearing.docket.parties import Connection, ParticipantRole

    def book(db: Any) -> int:
        party = Participant(
            hearing_id=env.court.hearing_a,
            role=ParticipantRole.INTERPRETER,
            display_name="Test Interpreter",
            connection=Connection.REMOTE,
        )
        db.add(party)
        db.flush()
        return int(party.id)

    return f"interpreter-{env.services.unit_of_work(book)}"


def _system(action: Action, hearing: int) -> Shape:
    return (action.value, hearing, "system", None)


def _interpretation_scenario(
    action: Action,
    variant: str,
    setup: list[dict[str, Any]],
    chosen: dict[str, Any],
    payloads: list[dict[str, Any]],
    first: Action,
) -> None:
    @scenario(action, variant)
    def run(env: Env) -> list[Logged]:
        _with_remote_interpreter(env)
        hearing, token = _judge_at_live_hearing(env, *setup)
        judge = env.court.users["judge"]
        responses: list[Any] = []
        new = env.appended(lambda: responses.append(env.floor_command(hearing, chosen, token)))
        _status(responses[0], 200)
        # The judge's command, then the system's note that the direction turned, in its transaction.
        assert [shape(e) for e in new] == [
            user(first, judge, hearing),
            _system(Action.INTERPRETATION_DIRECTION, hearing),
        ]
        assert [e.payload for e in new] == payloads
        return new


SIMULTANEOUS = {"action": "interpretation", "mode": "simultaneous"}
for _row in (
    (
        Action.INTERPRETATION_SET,
        "consecutive",
        [],
        {"action": "interpretation", "mode": "consecutive"},
        [{"version": 1, "mode": "consecutive", "needs": []}, {"version": 1, "direction": "everyone"}],
        Action.INTERPRETATION_SET,
    ),
    (
        Action.INTERPRETATION_SET,
        "simultaneous-for-the-detainee-and-counsel-in-the-booth",
        [],
        {**SIMULTANEOUS, "needs": ["custody", "booth"]},
        [
            {"version": 1, "mode": "simultaneous", "needs": ["booth", "custody"]},
            {"version": 1, "direction": "to_party"},
        ],
        Action.INTERPRETATION_SET,
    ),
    (
        Action.INTERPRETATION_DIRECTION,
        "the-detainee-given-the-floor",
        [ADMIT_CUSTODY, SIMULTANEOUS],
        {"action": "grant", "speaker": DETAINEE},
        [{"version": 3, "speaker": DETAINEE}, {"version": 3, "direction": "to_court"}],
        Action.FLOOR_GRANTED,
    ),
    (
        Action.INTERPRETATION_DIRECTION,
        "the-floor-taken-back",
        [ADMIT_CUSTODY, SIMULTANEOUS, {"action": "grant", "speaker": DETAINEE}],
        {"action": "take_back"},
        [{"version": 4}, {"version": 4, "direction": "to_party"}],
        Action.FLOOR_TAKEN_BACK,
    ),
):
    _interpretation_scenario(*_row)
# --- issue 12, gateway: the code step at the external gateway, through its HTTP ---------


def _gateway(env: Env) -> TestClient:
    """A browser at the external gateway (the internal app's live hearings beside it)."""
    from hearing.app import create_gateway_app
    from hearing.live.registry import LiveHearings

    app = create_gateway_app(env.settings, env.services, LiveHearings())
    return TestClient(app, base_url="https://gateway.test", follow_redirects=False)


def _invited(env: Env) -> tuple[int, Any]:
    """Hearing A's remote interpreter and a code, as the clerk issues it (not this scenario's entries)."""
    from hearing.actors import SYSTEM
    from hearing.docket.parties import ParticipantRole
    from hearing.interpreter import issuing

    def work(db: Any) -> tuple[int, Any]:
        h = env.court.hearing_a
        party = issuing.add_remote_party(db, SYSTEM, h, ParticipantRole.INTERPRETER, "Tolk Amira", language="ar")
        return party.id, issuing.issue_code(
            db, env.services.keys, SYSTEM, h, party.id, now=datetime.now(UTC), early_minutes=30
        )

    return env.services.unit_of_work(work)


def _submit(client: TestClient, invitation: str, code: str) -> Any:
    token = csrf_token(client, f"/join/{invitation}")
    return client.post("/join", data={"csrf_token": token, "invitation": invitation, "code": code})


@scenario(Action.REMOTE_CODE_USED, "gateway")
def _remote_code_used(env: Env) -> list[Logged]:
    participant_id, issued = _invited(env)
    with _gateway(env) as client:
        new = env.appended(lambda: _submit(client, issued.invitation, issued.code))
    h = env.court.hearing_a
    assert [shape(e) for e in new] == [("remote.code_used", h, "remote", participant_id)]
    assert new[0].payload == {
        "participant_id": participant_id,
        "seat": issued.seat,
        "code_id": issued.code_id,
        "needs_totp": False,
    }
    return new


@scenario(Action.REMOTE_CODE_FAILED, "gateway-wrong-code")
def _remote_code_failed(env: Env) -> list[Logged]:
    _, issued = _invited(env)
    wrong = "0" * 8 if issued.code != "0" * 8 else "1" * 8
    with _gateway(env) as client:
        new = env.appended(lambda: _submit(client, issued.invitation, wrong))
    assert [shape(e) for e in new] == [("remote.code_failed", env.court.hearing_a, "anonymous", None)]
    assert new[0].payload == {"code_id": issued.code_id, "seat": issued.seat, "attempts": 1, "reason": "wrong_code"}
    return new


@scenario(Action.REMOTE_CODE_FAILED, "gateway-used-again")
def _remote_code_failed_used(env: Env) -> list[Logged]:
    _, issued = _invited(env)
    with _gateway(env) as client:
        _submit(client, issued.invitation, issued.code)
        client.cookies.clear()
        new = env.appended(lambda: _submit(client, issued.invitation, issued.code))
    assert [shape(e) for e in new] == [("remote.code_failed", env.court.hearing_a, "anonymous", None)]
    assert new[0].payload is not None and new[0].payload["reason"] == "used"
    return new


@scenario(Action.REMOTE_CODE_LOCKED, "gateway-fifth-failure")
def _remote_code_locked(env: Env) -> list[Logged]:
    _, issued = _invited(env)
    wrong = "0" * 8 if issued.code != "0" * 8 else "1" * 8
    h = env.court.hearing_a
    with _gateway(env) as client:
        for _ in range(4):
            _submit(client, issued.invitation, wrong)
        new = env.appended(lambda: _submit(client, issued.invitation, wrong))
    assert [shape(e) for e in new] == [
        ("remote.code_failed", h, "anonymous", None),
        ("remote.code_locked", h, "anonymous", None),
    ]
    assert new[1].payload == {"code_id": issued.code_id, "seat": issued.seat, "attempts": 5}
    return new


@scenario(Action.REMOTE_CODE_UNKNOWN, "gateway-counted")
def _remote_code_unknown(env: Env) -> list[Logged]:
    """Attempts against invitations that name nothing: nothing one by one;
    one entry when the window closes (here: when the gateway stops)."""

    def attempts() -> None:
        with _gateway(env) as client:
            for invitation in ("abcdefghjk", "zzzzzzzzzz", "not one"):
                assert _submit(client, invitation, "12345678").status_code == 401
            assert "remote.code_unknown_counted" not in [e.action for e in env.log()]

    new = env.appended(attempts)
    assert [shape(e) for e in new] == [("remote.code_unknown_counted", None, "system", None)]
    assert new[0].payload is not None
    assert {k: new[0].payload[k] for k in ("repeated", "sources")} == {"repeated": 3, "sources": 1}
    assert 1 <= int(new[0].payload["window_seconds"]) <= 60  # type: ignore[call-overload]
    return new


@scenario(Action.REMOTE_TOTP_PASSED, "gateway")
def _remote_totp_passed(env: Env) -> list[Logged]:
    """A hearing that asks registered interpreters for their authenticator:
    the code opens a session that waits for it; the TOTP step verifies it."""
    import pyotp

    from hearing.actors import SYSTEM
    from hearing.docket.parties import ParticipantRole
    from hearing.interpreter import issuing, register

    h = env.court.hearing_a

    def prepare(db: Any) -> tuple[int, str, Any]:
        now = datetime.now(UTC)
        interpreter = register.register(db, SYSTEM, name="Tolk Reg", languages="ar", now=now)
        secret = register.begin_totp(db, env.services.keys, SYSTEM, interpreter.id).secret
        register.confirm_totp(db, env.services.keys, SYSTEM, interpreter.id, pyotp.TOTP(secret).at(now), now=now)
        issuing.set_require_totp(db, SYSTEM, h, True)
        party = issuing.add_remote_party(
            db,
            SYSTEM,
            h,
            ParticipantRole.INTERPRETER,
            "Tolk Reg",
            language="ar",
            registered_interpreter_id=interpreter.id,
        )
        issued = issuing.issue_code(db, env.services.keys, SYSTEM, h, party.id, now=now, early_minutes=30)
        return party.id, secret, issued

    participant_id, secret, issued = env.services.unit_of_work(prepare)
    with _gateway(env) as client:
        assert _submit(client, issued.invitation, issued.code).headers["location"] == "/join/verify"
        # The enrolment's confirmation used this time step's code: the next one.
        code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
        token = csrf_token(client, "/join/verify")
        new = env.appended(lambda: client.post("/join/verify", data={"csrf_token": token, "code": code}))
    assert [shape(e) for e in new] == [("remote.totp_passed", h, "remote", participant_id)]
    assert new[0].payload == {"participant_id": participant_id, "seat": issued.seat, "code_id": issued.code_id}
    return new


def test_each_operation_appends_exactly_its_entries(env: Env, scenario_id: str) -> None:
    spec = SCENARIOS[scenario_id]
    if spec.seeded:
        env.court  # noqa: B018
    new = spec.run(env)
    assert spec.action.value in [e.action for e in new]
    # Each entry, as its real writer recorded it, is said in its own words in both
    # languages (the neutral sentence of an entry without words names its action).
    for e in new:
        who = sentences.Who(e.actor_kind, e.actor_id, e.actor_role)
        for lang in sentences.LANGUAGES:
            said = sentences.describe(e.action, who, e.payload, None, lang=lang, tz=CPH)
            assert e.payload is None or e.action not in said, said


def test_the_scenarios_cover_every_action() -> None:
    covered = {spec.action for spec in SCENARIOS.values()}
    assert covered == set(Action)


# --- refused or invalid operations append nothing -------------------------------
# (or, where the refusal itself is audited, exactly its own entries)


@dataclasses.dataclass(frozen=True)
class Recorded:
    """An operation whose refusal leaves a record: exactly these entries
    (shape, payload), and nothing else."""

    operation: Callable[[], None]
    entries: list[tuple[Shape, dict[str, object]]]


# Each returns the operation to check, after its own set-up.
Refusal = Callable[[Env], Callable[[], None] | Recorded]
REFUSALS: dict[str, Refusal] = {}


def refusal(name: str) -> Callable[[Refusal], Refusal]:
    def register(setup: Refusal) -> Refusal:
        assert name not in REFUSALS, name
        REFUSALS[name] = setup
        return setup

    return register


@refusal("invalid-transition")
def _invalid_transition(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")

    def run() -> None:
        response = env.transition(env.court.hearing_a, "resume")
        assert response.status_code == 409
        assert env.state(env.court.hearing_a) is HearingState.SCHEDULED

    return run


@refusal("transition-from-final-state")
def _transition_from_final(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    env.drive(env.court.hearing_a, "open", "close")

    def run() -> None:
        assert env.transition(env.court.hearing_a, "convert_to_physical").status_code == 409
        assert env.state(env.court.hearing_a) is HearingState.CLOSED

    return run


@refusal("unknown-transition")
def _unknown_transition(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    return lambda: _status(env.transition(env.court.hearing_a, "explode"), 400)


@refusal("transition-of-missing-hearing")
def _missing_hearing(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    return lambda: _status(env.transition(999_999, "open"), 404)


@refusal("transition-without-csrf")
def _transition_without_csrf(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    csrf_token(env.client)  # the cookie is there; the form field is not

    def run() -> None:
        _status(env.transition(env.court.hearing_a, "open", csrf=False), 403)
        assert env.state(env.court.hearing_a) is HearingState.SCHEDULED

    return run


@refusal("transition-with-forged-csrf")
def _transition_forged_csrf(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    csrf_token(env.client)
    path = f"/hearings/{env.court.hearing_a}/transition"
    return lambda: _status(env.client.post(path, data={"action": "open", "csrf_token": "0" * 64}), 403)


@refusal("transition-signed-out")
def _transition_signed_out(env: Env) -> Callable[[], None]:
    return lambda: _status(env.transition(env.court.hearing_a, "open"), 401)


@refusal("booking-with-a-bad-field")
def _booking_bad_field(env: Env) -> Callable[[], None]:
    env.sign_in_as("clerk")
    form = booking_form(env.court, tomorrow_at(9, 30), case_number="!")
    token = csrf_token(env.client, "/hearings/new")
    count = env.hearings()

    def run() -> None:
        _status(env.client.post("/hearings", data={"csrf_token": token, **form}), 400)
        assert env.hearings() == count

    return run


@refusal("booking-that-clashes")
def _booking_clash(env: Env) -> Callable[[], None]:
    env.sign_in_as("clerk")
    # Room A's hearing runs from the fixture's "now" for 30 minutes.
    form = booking_form(env.court, datetime.now(CPH).replace(second=0, microsecond=0))
    token = csrf_token(env.client, "/hearings/new")
    count = env.hearings()

    def run() -> None:
        _status(env.client.post("/hearings", data={"csrf_token": token, **form}), 409)
        assert env.hearings() == count

    return run


@refusal("booking-without-csrf")
def _booking_without_csrf(env: Env) -> Callable[[], None]:
    env.sign_in_as("clerk")
    csrf_token(env.client, "/hearings/new")
    form = booking_form(env.court, tomorrow_at(9, 30))
    return lambda: _status(env.client.post("/hearings", data=form), 403)


@refusal("signin-without-csrf")
def _signin_without_csrf(env: Env) -> Callable[[], None]:
    csrf_token(env.client)
    code = current_code(env.court.secrets["judge"])
    return lambda: _status(post_signin(env.client, "judge", PASSWORD, code, csrf=False), 403)


@refusal("signout-without-csrf")
def _signout_without_csrf(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    csrf_token(env.client)

    def run() -> None:
        _status(env.client.post("/signout", data={"next": "/"}), 403)
        _status(env.client.get("/hearings"), 200)  # still signed in

    return run


@refusal("first-sign-in-password-step")
def _first_sign_in_password_step(env: Env) -> Callable[[], None]:
    add_unconfirmed_user(env.services, "newclerk")
    # The password is right; nothing happens until the new code is confirmed.
    return lambda: _status(post_signin(env.client, "newclerk", PASSWORD, ""), 303)


@refusal("staff-page-views")
def _staff_page_views(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")

    def run() -> None:
        _status(env.client.get("/hearings"), 200)
        _status(env.client.get(f"/hearings/{env.court.hearing_a}"), 200)

    return run


@refusal("kiosk-enroll-with-a-bad-code")
def _kiosk_bad_code(env: Env) -> Callable[[], None]:
    env.enroll_device("kiosk-a", "custody", "Facility A")
    return lambda: _status(env.redeem_kiosk_code("A" * 43), 401)


@refusal("kiosk-enroll-code-used-twice")
def _kiosk_code_twice(env: Env) -> Callable[[], None]:
    _, _, code = env.enroll_device("kiosk-a", "custody", "Facility A")
    _status(env.redeem_kiosk_code(code), 200)
    return lambda: _status(env.redeem_kiosk_code(code), 401)


@refusal("device-unknown-token")
def _device_unknown_token(env: Env) -> Callable[[], None]:
    headers = {"Authorization": "Device " + "A" * 43}
    return lambda: _status(env.client.get("/api/device/hearings", headers=headers), 401)


@refusal("device-revoked-token")
def _device_revoked_token(env: Env) -> Callable[[], None]:
    _, token, _ = env.enroll_device("kiosk-a", "custody", "Facility A")
    env.cli_ok("device", "revoke", "kiosk-a")
    url = f"/api/device/hearings/{env.court.hearing_a}"
    return lambda: _status(env.client.get(url, headers={"Authorization": f"Device {token}"}), 401)


@refusal("device-reads-its-own-site")
def _device_own_site(env: Env) -> Callable[[], None]:
    _, token, _ = env.enroll_device("kiosk-a", "custody", "Facility A")
    headers = {"Authorization": f"Device {token}"}

    def run() -> None:
        _status(env.client.get(f"/api/device/hearings/{env.court.hearing_a}", headers=headers), 200)
        _status(env.client.get("/api/device/hearings", headers=headers), 200)

    return run


def _cli_refused(env: Env, *args: str, code: int = 2, error: str | None = None) -> None:
    status, _, err = env.cli(*args)
    assert status == code, err
    if error is not None:
        assert err.startswith(f"error: {error}:"), err


@refusal("cli-shred-a-live-hearing")
def _cli_shred_live(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    env.drive(env.court.hearing_a, "open")
    return lambda: _cli_refused(env, "audit", "shred", "--hearing", str(env.court.hearing_a), error="conflict")


@refusal("cli-shred-twice")
def _cli_shred_twice(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    env.drive(env.court.hearing_a, "open", "adjourn")
    env.cli_ok("audit", "shred", "--hearing", str(env.court.hearing_a))
    return lambda: _cli_refused(env, "audit", "shred", "--hearing", str(env.court.hearing_a), error="conflict")


@refusal("cli-site-add-existing")
def _cli_site_existing(env: Env) -> Callable[[], None]:
    return lambda: _cli_refused(env, "site", "add", "courtroom", "Room A", "--court", "Test Court", code=0)


@refusal("cli-user-add-duplicate")
def _cli_user_duplicate(env: Env) -> Callable[[], None]:
    args = ["user", "add", "--username", "judge", "--name", "J", "--role", "clerk"]
    return lambda: _cli_refused(env, *args, error="already_exists")


@refusal("cli-user-add-judge-without-courtroom")
def _cli_user_bad(env: Env) -> Callable[[], None]:
    args = ["user", "add", "--username", "anne", "--name", "Anne", "--role", "judge"]
    return lambda: _cli_refused(env, *args, error="invalid_input")


@refusal("cli-reset-totp-unknown-user")
def _cli_reset_unknown(env: Env) -> Callable[[], None]:
    return lambda: _cli_refused(env, "user", "reset-totp", "ghost", error="not_found")


@refusal("cli-device-enroll-unknown-site")
def _cli_enroll_unknown_site(env: Env) -> Callable[[], None]:
    args = ["device", "enroll", "--kind", "courtroom", "--name", "rig-z", "--site", "Nowhere"]
    return lambda: _cli_refused(env, *args, error="not_found")


@refusal("cli-device-enroll-duplicate-name")
def _cli_enroll_duplicate(env: Env) -> Callable[[], None]:
    env.enroll_device("kiosk-a", "custody", "Facility A")
    args = ["device", "enroll", "--kind", "custody", "--name", "kiosk-a", "--site", "Facility A"]
    return lambda: _cli_refused(env, *args, error="already_exists")


@refusal("cli-device-revoke-again")
def _cli_revoke_again(env: Env) -> Callable[[], None]:
    env.enroll_device("kiosk-a", "custody", "Facility A")
    env.cli_ok("device", "revoke", "kiosk-a")
    return lambda: _cli_refused(env, "device", "revoke", "kiosk-a", code=0)


@refusal("cli-schedule-with-a-bad-start")
def _cli_schedule_bad(env: Env) -> Callable[[], None]:
    args = ["schedule", "--case", "SS 1-9/2026", "--courtroom", "Room A", "--facility", "Facility A"]
    args += ["--start", "soon", "--detainee-name", "Jens", "--detainee-ref", "R-1"]
    return lambda: _cli_refused(env, *args, error="invalid_input")


@refusal("cli-checkpoint-to-an-unwritable-file")
def _cli_checkpoint_unwritable(env: Env) -> Callable[[], None]:
    out = env.tmp_path / "no-such-directory" / "checkpoint.txt"
    return lambda: _cli_refused(env, "audit", "checkpoint", "--out", str(out), error="invalid_input")


def _judge_at_live_hearing(env: Env, *setup: dict[str, Any]) -> tuple[int, str]:
    """The judge signed in, hearing A live, `setup` applied: (hearing, CSRF token)."""
    env.sign_in_as("judge")
    hearing = env.court.hearing_a
    env.open_hearing(hearing)
    token = csrf_token(env.client)
    for body in setup:
        _status(env.floor_command(hearing, body, token), 200)
    return hearing, token


def _refused_command(env: Env, hearing: int, body: Any, token: str, status: int, error: str) -> None:
    version = env.floor_version(hearing)
    response = env.floor_command(hearing, body, token)
    assert (response.status_code, response.json()["error"]) == (status, error), response.text[:500]
    assert env.floor_version(hearing) == version


def _denied(kind: str, actor_id: int, method: str, path: str, hearing: int) -> tuple[Shape, dict[str, object]]:
    """The refusal's own entry: in the refused hearing's trail, which its payload names too."""
    return (Action.ACCESS_DENIED.value, hearing, kind, actor_id), {
        "method": method,
        "path": path,
        "target_hearing": hearing,
    }


@refusal("floor-command-by-a-clerk")
def _floor_by_clerk(env: Env) -> Recorded:
    hearing = env.court.hearing_a
    env.open_hearing(hearing)
    clerk = env.sign_in_as("clerk")
    token = csrf_token(env.client)  # a valid token: the role is what is refused
    return Recorded(
        lambda: _refused_command(env, hearing, ADMIT_CUSTODY, token, 403, "permission_denied"),
        [_denied("user", clerk, "POST", f"/hearings/{hearing}/floor", hearing)],
    )


@refusal("floor-command-by-a-judge-of-another-courtroom")
def _floor_other_courtroom(env: Env) -> Recorded:
    judge = env.sign_in_as("judge")
    hearing_b = env.court.hearing_b
    env.open_hearing(hearing_b)
    token = csrf_token(env.client)
    return Recorded(
        lambda: _refused_command(env, hearing_b, ADMIT_CUSTODY, token, 403, "permission_denied"),
        [_denied("user", judge, "POST", f"/hearings/{hearing_b}/floor", hearing_b)],
    )


@refusal("floor-commands-malformed")
def _floor_malformed(env: Env) -> Callable[[], None]:
    hearing, token = _judge_at_live_hearing(env)
    bad: list[Any] = [
        "not json",
        {"action": "explode"},
        {"action": "mute"},
        {"action": "mute", "seat": "custody", "extra": 1},
        {"action": "mode", "mode": "chaos"},
        {"action": "request", "speaker": "gallery:observer"},
    ]

    def run() -> None:
        for body in bad:
            _refused_command(env, hearing, body, token, 400, "invalid_input")

    return run


@refusal("floor-grant-with-an-empty-queue")
def _floor_grant_empty(env: Env) -> Callable[[], None]:
    hearing, token = _judge_at_live_hearing(env)
    return lambda: _refused_command(env, hearing, {"action": "grant"}, token, 409, "queue_empty")


@refusal("floor-conflicts")
def _floor_conflicts(env: Env) -> Callable[[], None]:
    hearing, token = _judge_at_live_hearing(env, {"action": "mute", "seat": "custody"})
    conflicts = [
        ({"action": "take_back"}, "no_floor"),
        ({"action": "mute", "seat": "custody"}, "already_muted"),
        ({"action": "mute", "seat": "judge"}, "judge_not_affected"),
        (_ask(DETAINEE), "not_admitted"),
        ({"action": "deny", "seat": "courtroom"}, "not_waiting"),
        ({"action": "mode", "mode": "controlled", "version": 0}, "stale_version"),
    ]

    def run() -> None:
        for body, error in conflicts:
            _refused_command(env, hearing, body, token, 409, error)

    return run


@refusal("floor-command-with-a-forged-csrf-token")
def _floor_forged_csrf(env: Env) -> Callable[[], None]:
    hearing, _ = _judge_at_live_hearing(env)
    return lambda: _refused_command(env, hearing, ADMIT_CUSTODY, "0" * 64, 403, "csrf_rejected")


@refusal("floor-command-on-a-hearing-not-live")
def _floor_not_live(env: Env) -> Callable[[], None]:
    env.sign_in_as("judge")
    token = csrf_token(env.client)
    hearing = env.court.hearing_a  # still scheduled
    return lambda: _refused_command(env, hearing, ADMIT_CUSTODY, token, 409, "hearing_not_open")


def _custody_says(env: Env, hearing: int, headers: dict[str, str], message: dict[str, Any], error: str) -> None:
    """The custody endpoint joins, sends one message, is refused with `error`, and leaves."""
    version = env.floor_version(hearing)
    with env.client.websocket_connect(f"/ws/hearings/{hearing}/media", headers=headers) as ws:
        assert ws.receive_json()["type"] == "welcome"
        ws.send_json(message)
        assert ws.receive_json()["error"] == error
        ws.send_json({"type": "leave"})
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    assert env.floor_version(hearing) == version


def _custody_session(endpoint_id: int, hearing: int, *between: tuple[Shape, dict[str, object]]) -> list[Any]:
    device = ("device", endpoint_id)
    return [
        ((Action.PARTICIPANT_JOINED.value, hearing, *device), {"seat": "custody"}),
        *between,
        ((Action.PARTICIPANT_LEFT.value, hearing, *device), {"seat": "custody", "reason": "left"}),
    ]


@refusal("custody-requests-for-the-prosecutor")
def _custody_for_prosecutor(env: Env) -> Recorded:
    hearing, _ = _judge_at_live_hearing(env, ADMIT_CUSTODY)
    endpoint_id, headers = env.custody_kiosk()
    env.client.cookies.clear()
    path = f"/ws/hearings/{hearing}/media"
    # Joining and leaving are audited; the refused request adds its refusal only.
    denied = _denied("device", endpoint_id, "WEBSOCKET", path, hearing)
    return Recorded(
        lambda: _custody_says(env, hearing, headers, {"type": "request", "speaker": PROSECUTOR}, "permission_denied"),
        _custody_session(endpoint_id, hearing, denied),
    )


@refusal("custody-requests-from-the-lobby")
def _custody_from_lobby(env: Env) -> Recorded:
    hearing, _ = _judge_at_live_hearing(env)
    endpoint_id, headers = env.custody_kiosk()
    env.client.cookies.clear()
    return Recorded(
        lambda: _custody_says(env, hearing, headers, {"type": "request", "speaker": DETAINEE}, "not_admitted"),
        _custody_session(endpoint_id, hearing),
    )


@refusal("custody-withdraws-what-it-never-asked")
def _custody_withdraws_nothing(env: Env) -> Recorded:
    hearing, _ = _judge_at_live_hearing(env, ADMIT_CUSTODY)
    endpoint_id, headers = env.custody_kiosk()
    env.client.cookies.clear()
    return Recorded(
        lambda: _custody_says(env, hearing, headers, {"type": "withdraw", "speaker": DETAINEE}, "not_requested"),
        _custody_session(endpoint_id, hearing),
    )


def _status(response: Any, expected: int) -> None:
    assert response.status_code == expected, response.text[:500]


# issue 12, interp: refused interpretation commands change nothing.
@refusal("interpretation-refused")
def _interpretation_refused(env: Env) -> Callable[[], None]:
    interpreter = _with_remote_interpreter(env)
    hearing, token = _judge_at_live_hearing(env, SIMULTANEOUS)
    refused = [
        (SIMULTANEOUS, 409, "interpretation_unchanged"),
        ({"action": "interpretation", "mode": "consecutive", "needs": ["custody"]}, 409, "needs_without_simultaneous"),
        ({**SIMULTANEOUS, "needs": ["judge"]}, 409, "judge_not_affected"),
        ({**SIMULTANEOUS, "needs": ["courtroom"]}, 409, "judge_not_affected"),
        ({**SIMULTANEOUS, "needs": [interpreter]}, 409, "interpreter_in_needs"),
        ({**SIMULTANEOUS, "needs": []}, 409, "needs_nobody"),
        ({**SIMULTANEOUS, "needs": ["gallery"]}, 400, "invalid_input"),
        ({**SIMULTANEOUS, "needs": ["custody", "custody"]}, 400, "invalid_input"),
        ({**SIMULTANEOUS, "needs": "custody"}, 400, "invalid_input"),
        ({**SIMULTANEOUS, "needs": ["x" * 5000]}, 400, "invalid_input"),  # oversized: over the 2 KiB
        ({"action": "interpretation", "mode": "whispered"}, 400, "invalid_input"),
        ({"action": "interpretation"}, 400, "invalid_input"),
    ]

    def run() -> None:
        for body, status, error in refused:
            _refused_command(env, hearing, body, token, status, error)

    return run


@refusal("interpretation-without-an-interpreters-seat")
def _interpretation_without_interpreter(env: Env) -> Callable[[], None]:
    hearing, token = _judge_at_live_hearing(env)
    return lambda: _refused_command(env, hearing, SIMULTANEOUS, token, 409, "no_interpreter_seat")


@refusal("interpretation-by-a-clerk")
def _interpretation_by_clerk(env: Env) -> Recorded:
    hearing = env.court.hearing_a
    env.open_hearing(hearing)
    clerk = env.sign_in_as("clerk")
    token = csrf_token(env.client)
    body = {"action": "interpretation", "mode": "consecutive"}
    return Recorded(
        lambda: _refused_command(env, hearing, body, token, 403, "permission_denied"),
        [_denied("user", clerk, "POST", f"/hearings/{hearing}/floor", hearing)],
    )


def test_refused_or_invalid_operations_append_nothing(env: Env, name: str) -> None:
    env.court  # noqa: B018
    prepared = REFUSALS[name](env)
    if isinstance(prepared, Recorded):
        new = env.appended(prepared.operation)
        assert [(shape(e), e.payload) for e in new] == prepared.entries
    else:
        assert env.appended(prepared) == []


# --- issue 10: accounts disabled and enabled, refusals counted ------------------


@scenario(Action.USER_DISABLED)
def _user_disabled(env: Env) -> list[Logged]:
    clerk = env.sign_in_as("clerk")
    new = env.appended(lambda: env.cli_ok("user", "disable", "clerk"))
    assert [shape(e) for e in new] == [operator(Action.USER_DISABLED)]
    assert new[0].payload == {"user_id": clerk, "username": "clerk", "sessions_ended": 1}
    return new


@scenario(Action.USER_ENABLED)
def _user_enabled(env: Env) -> list[Logged]:
    env.cli_ok("user", "disable", "clerk")
    new = env.appended(lambda: env.cli_ok("user", "enable", "clerk"))
    assert [shape(e) for e in new] == [operator(Action.USER_ENABLED)]
    assert new[0].payload == {"user_id": env.court.users["clerk"], "username": "clerk"}
    return new


@scenario(Action.ACCESS_DENIED_REPEATED)
def _access_denied_repeated(env: Env) -> list[Logged]:
    hearing, _ = _judge_at_live_hearing(env, ADMIT_CUSTODY)
    endpoint_id, headers = env.custody_kiosk()
    env.client.cookies.clear()
    path = f"/ws/hearings/{hearing}/media"

    def twice() -> None:
        with env.client.websocket_connect(path, headers=headers) as ws:
            assert ws.receive_json()["type"] == "welcome"
            for _ in range(3):
                ws.send_json({"type": "request", "speaker": PROSECUTOR})
                assert ws.receive_json()["error"] == "permission_denied"
            ws.send_json({"type": "leave"})
            with pytest.raises(WebSocketDisconnect):
                ws.receive_json()

    new = env.appended(twice)
    repeated = (
        (Action.ACCESS_DENIED_REPEATED.value, hearing, "device", endpoint_id),
        {
            "method": "WEBSOCKET",
            "path": path,
            "target_hearing": hearing,
            "repeated": 2,
            "seat": "custody",
            "command": "request",
            "reason": "permission_denied",
        },
    )
    denied = _denied("device", endpoint_id, "WEBSOCKET", path, hearing)
    assert [(shape(e), e.payload) for e in new] == _custody_session(endpoint_id, hearing, denied, repeated)
    return new


@refusal("cli-disable-unknown-user")
def _cli_disable_unknown(env: Env) -> Callable[[], None]:
    return lambda: _cli_refused(env, "user", "disable", "ghost", error="not_found")


@refusal("cli-disable-a-disabled-user")
def _cli_disable_twice(env: Env) -> Callable[[], None]:
    env.cli_ok("user", "disable", "clerk")
    return lambda: _cli_refused(env, "user", "disable", "clerk", error="account_unchanged")


@refusal("cli-enable-an-enabled-user")
def _cli_enable_enabled(env: Env) -> Callable[[], None]:
    return lambda: _cli_refused(env, "user", "enable", "clerk", error="account_unchanged")


@refusal("cli-enable-unknown-user")
def _cli_enable_unknown(env: Env) -> Callable[[], None]:
    return lambda: _cli_refused(env, "user", "enable", "ghost", error="not_found")


# --- issue 12, codes: remote parties, their codes, the register of interpreters -----


def _remote_issue(env: Env, name: str = "Samira Haddad", *extra: str) -> str:
    hearing = str(env.court.hearing_a)
    return env.cli_ok(
        "remote",
        "issue",
        "--hearing",
        hearing,
        "--role",
        "interpreter",
        "--name",
        name,
        "--language",
        "arabisk",
        *extra,
    )


def _remote_party(env: Env, name: str = "Samira Haddad") -> int:
    from hearing.db.models import Participant

    query = select(Participant.id).where(
        Participant.hearing_id == env.court.hearing_a, Participant.display_name == name
    )
    return env.services.unit_of_work(lambda db: db.scalars(query).one())


def _code_id(env: Env, party: int) -> int:
    from hearing.db.models import OneTimeCode

    query = select(func.max(OneTimeCode.id)).where(OneTimeCode.participant_id == party)
    return env.services.unit_of_work(lambda db: db.scalars(query).one())


def _registered(env: Env) -> int:
    out = env.cli_ok("interpreter", "register", "--name", "Samira Haddad", "--languages", "arabisk, fransk")
    found = re.search(r"interpreter (\d+) registered", out)
    assert found, out
    return int(found.group(1))


@scenario(Action.REMOTE_PARTY_ADDED)
def _remote_party_added(env: Env) -> list[Logged]:
    h = env.court.hearing_a
    new = env.appended(lambda: _remote_issue(env))
    party = _remote_party(env)
    seat = f"interpreter-{party}"
    assert [shape(e) for e in new] == [operator(Action.REMOTE_PARTY_ADDED, h), operator(Action.REMOTE_CODE_ISSUED, h)]
    assert new[0].payload == {
        "participant_id": party,
        "role": "interpreter",
        "seat": seat,
        "language": "arabisk",
        "registered_interpreter_id": None,
    }
    assert new[1].payload is not None and new[1].payload["reissued"] is False and new[1].payload["seat"] == seat
    return new


@scenario(Action.REMOTE_CODE_ISSUED, "reissued")
def _remote_code_reissued(env: Env) -> list[Logged]:
    h = env.court.hearing_a
    out = _remote_issue(env)
    party = _remote_party(env)
    first = _code_id(env, party)
    again = env.appended(lambda: _remote_issue(env))
    seat = f"interpreter-{party}"
    assert [shape(e) for e in again] == [
        operator(Action.REMOTE_CODE_REVOKED, h),
        operator(Action.REMOTE_CODE_ISSUED, h),
    ]
    assert again[0].payload == {"participant_id": party, "seat": seat, "code_id": first}
    issued = again[1].payload
    assert issued is not None and issued["reissued"] is True and issued["code_id"] == _code_id(env, party)
    assert set(issued) == {"participant_id", "seat", "code_id", "reissued", "start", "end"}
    # Neither entry holds the code that was printed.
    code = re.search(r"code:\s+(\d{4}) (\d{4})", out)
    assert code and "".join(code.groups()) not in repr([e.payload for e in env.log()])
    return again


@scenario(Action.REMOTE_CODE_REVOKED)
def _remote_code_revoked(env: Env) -> list[Logged]:
    h = env.court.hearing_a
    _remote_issue(env)
    party = _remote_party(env)
    new = env.appended(lambda: env.cli_ok("remote", "revoke", "--hearing", str(h), "--participant", str(party)))
    assert [shape(e) for e in new] == [operator(Action.REMOTE_CODE_REVOKED, h)]
    assert new[0].payload == {"participant_id": party, "seat": f"interpreter-{party}", "code_id": _code_id(env, party)}
    return new


@scenario(Action.REMOTE_PARTY_REMOVED)
def _remote_party_removed(env: Env) -> list[Logged]:
    h = env.court.hearing_a
    _remote_issue(env)
    party = _remote_party(env)
    new = env.appended(lambda: env.cli_ok("remote", "remove", "--hearing", str(h), "--participant", str(party)))
    assert [shape(e) for e in new] == [operator(Action.REMOTE_PARTY_REMOVED, h)]
    assert new[0].payload == {"participant_id": party, "seat": f"interpreter-{party}"}
    return new


@scenario(Action.REMOTE_TOTP_REQUIRED_SET)
def _remote_totp_required_set(env: Env) -> list[Logged]:
    h = env.court.hearing_a
    new = env.appended(lambda: env.cli_ok("remote", "require-totp", "--hearing", str(h), "on"))
    assert [shape(e) for e in new] == [operator(Action.REMOTE_TOTP_REQUIRED_SET, h)]
    assert new[0].payload == {"require_totp": True}  # the hearing is the entry's own (its header)
    return new


@scenario(Action.INTERPRETER_REGISTERED)
def _interpreter_registered(env: Env) -> list[Logged]:
    new = env.appended(lambda: _registered(env))
    assert [shape(e) for e in new] == [operator(Action.INTERPRETER_REGISTERED)]
    assert new[0].payload is not None and new[0].payload["languages"] == "arabisk, fransk"
    return new


@scenario(Action.INTERPRETER_TOTP_ENROLLED)
def _interpreter_totp_enrolled(env: Env) -> list[Logged]:
    import pyotp

    entry = _registered(env)
    printed: list[str] = []
    # Beginning the enrolment appends nothing: an unconfirmed secret admits no one.
    started = env.appended(lambda: printed.append(env.cli_ok("interpreter", "enrol-totp", str(entry))))
    assert started == []
    uri = re.search(r"(otpauth://totp/\S+)", printed[0])
    assert uri
    secret = pyotp.parse_uri(uri.group(1)).secret
    new = env.appended(lambda: env.cli_ok("interpreter", "confirm-totp", str(entry), pyotp.TOTP(secret).now()))
    assert [shape(e) for e in new] == [operator(Action.INTERPRETER_TOTP_ENROLLED)]
    assert new[0].payload == {"registered_interpreter_id": entry, "name": "Samira Haddad"}
    assert secret not in repr([e.payload for e in env.log()])
    return new


@scenario(Action.INTERPRETER_DISABLED)
def _interpreter_disabled(env: Env) -> list[Logged]:
    entry = _registered(env)
    new = env.appended(lambda: env.cli_ok("interpreter", "disable", str(entry)))
    assert [shape(e) for e in new] == [operator(Action.INTERPRETER_DISABLED)]
    assert new[0].payload == {"registered_interpreter_id": entry, "name": "Samira Haddad"}
    return new


@refusal("cli-remote-issue-unknown-hearing")
def _cli_remote_issue_unknown(env: Env) -> Callable[[], None]:
    args = ["remote", "issue", "--hearing", "99999", "--role", "witness", "--name", "W"]
    return lambda: _cli_refused(env, *args, error="hearing_not_found")


@refusal("cli-remote-revoke-no-live-code")
def _cli_remote_revoke_dead(env: Env) -> Callable[[], None]:
    _remote_issue(env)
    party = _remote_party(env)
    args = ["remote", "revoke", "--hearing", str(env.court.hearing_a), "--participant", str(party)]
    env.cli_ok(*args)
    return lambda: _cli_refused(env, *args, error="code_unchanged")


@refusal("cli-interpreter-confirm-wrong-code")
def _cli_interpreter_confirm_wrong(env: Env) -> Callable[[], None]:
    entry = _registered(env)
    env.cli_ok("interpreter", "enrol-totp", str(entry))
    return lambda: _cli_refused(env, "interpreter", "confirm-totp", str(entry), "12345", error="authentication_failed")


# --- every scenario and refusal runs ------------------------------------------------
# The two tests above are parametrized at collection, once the whole module has
# loaded: a decorator would take the lists half-way through the file, and the
# scenarios and refusals registered below it would be counted by the coverage
# test but never run (issue 10's and issue 12's were, until issue 12).


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function is test_each_operation_appends_exactly_its_entries:
        metafunc.parametrize("scenario_id", list(SCENARIOS))
    elif metafunc.function is test_refused_or_invalid_operations_append_nothing:
        metafunc.parametrize("name", list(REFUSALS))


# --- issue 13: the courtroom's cameras ------------------------------------------------


def _rig_report(witness: str = "live", reason: str | None = None) -> dict[str, Any]:
    def camera(camera_id: str, seat: str, da: str, en: str, state: str, why: str | None) -> dict[str, Any]:
        return {"id": camera_id, "seat": seat, "label": {"da": da, "en": en}, "state": state, "reason": why}

    return {
        "type": "rig",
        "cameras": [
            camera("cam-judge", "judge", "Dommer", "Judge", "live", None),
            camera("cam-witness", "witness", "Vidne", "Witness", witness, reason),
        ],
        "program": {"camera": "cam-judge", "layout": "speaker_strip", "reason": "voice"},
    }


def _rig_link(env: Env) -> tuple[int, str, dict[str, str], int]:
    """Hearing A open, and the courtroom rig's credentials: (hearing, path, headers, endpoint)."""
    h = env.court.hearing_a
    env.open_hearing(h)
    endpoint_id, token, _ = env.enroll_device("rig-a", "courtroom", "Room A")
    return h, f"/ws/hearings/{h}/media", {"Authorization": f"Device {token}"}, endpoint_id


def _until_pong(ws: Any, nonce: int) -> list[dict[str, Any]]:
    """What the socket says up to the pong for `nonce`: a seat's messages are
    handled in order, so everything sent before the ping has been acted on."""
    ws.send_json({"type": "ping", "nonce": nonce})
    said = []
    while (message := ws.receive_json()) != {"type": "pong", "nonce": nonce}:
        said.append(message)
    return said


def _rig_says(env: Env, path: str, headers: dict[str, str], *messages: dict[str, Any]) -> None:
    with env.client.websocket_connect(path, headers=headers) as ws:
        assert ws.receive_json()["type"] == "welcome"
        for message in messages:
            ws.send_json(message)
        assert [m for m in _until_pong(ws, 1) if m["type"] == "error"] == []
        _leave(ws)


def _leave(ws: Any) -> None:
    ws.send_json({"type": "leave"})
    with pytest.raises(WebSocketDisconnect):  # closed after its last entry
        while True:
            ws.receive_json()


WITNESS_CAMERA = {"camera": "cam-witness", "seat": "witness", "label": {"da": "Vidne", "en": "Witness"}}


@scenario(Action.CAMERA_UNAVAILABLE)
def _camera_unavailable(env: Env) -> list[Logged]:
    h, path, headers, rig = _rig_link(env)
    down = _rig_report("unavailable", "read failed: TimeoutError")
    # Told twice: the second report changes nothing, so nothing more is appended.
    new = env.appended(lambda: _rig_says(env, path, headers, _rig_report(), down, down))
    assert [shape(e) for e in new] == [
        ("participant.joined", h, "device", rig),
        ("camera.unavailable", h, "device", rig),
        ("participant.left", h, "device", rig),
    ]
    assert new[1].payload == {**WITNESS_CAMERA, "reason": "read failed: TimeoutError"}
    return new


@scenario(Action.CAMERA_RESTORED)
def _camera_restored(env: Env) -> list[Logged]:
    h, path, headers, rig = _rig_link(env)
    down = _rig_report("unavailable", "cannot open")
    # A camera down when the rig starts is reported at once; then back.
    new = env.appended(lambda: _rig_says(env, path, headers, down, _rig_report("starting"), _rig_report()))
    assert [shape(e) for e in new] == [
        ("participant.joined", h, "device", rig),
        ("camera.unavailable", h, "device", rig),
        ("camera.restored", h, "device", rig),
        ("participant.left", h, "device", rig),
    ]
    assert new[2].payload == WITNESS_CAMERA
    return new


@scenario(Action.CAMERA_PINNED, "a-layout")
def _camera_layout_pinned(env: Env) -> list[Logged]:
    hearing, token = _judge_at_live_hearing(env)
    new = env.appended(
        lambda: _status(env.floor_command(hearing, {"action": "pin_camera", "layout": "grid"}, token), 200)
    )
    assert [shape(e) for e in new] == [user(Action.CAMERA_PINNED, env.court.users["judge"], hearing)]
    assert new[0].payload == {"version": 1, "camera": None, "layout": "grid"}
    return new


@scenario(Action.CAMERA_PINNED, "a-camera-the-rig-has")
def _camera_pinned(env: Env) -> list[Logged]:
    _, path, headers, _ = _rig_link(env)
    hearing, token = _judge_at_live_hearing(env)
    with env.client.websocket_connect(path, headers=headers) as ws:
        assert ws.receive_json()["floor"]["camera"] is None  # the rig is told the judge's pin
        ws.send_json(_rig_report())
        _until_pong(ws, 1)
        pin = {"action": "pin_camera", "camera": "cam-witness"}
        new = env.appended(lambda: _status(env.floor_command(hearing, pin, token), 200))
        floors = [m for m in _until_pong(ws, 2) if m["type"] == "floor"]
        assert floors[-1]["camera"] == {"camera": "cam-witness", "layout": None}
        _leave(ws)
    assert [shape(e) for e in new] == [user(Action.CAMERA_PINNED, env.court.users["judge"], hearing)]
    assert new[0].payload == {"version": 1, "camera": "cam-witness", "layout": None}
    return new


@scenario(Action.CAMERA_RELEASED)
def _camera_released(env: Env) -> list[Logged]:
    hearing, token = _judge_at_live_hearing(env, {"action": "pin_camera", "layout": "single"})
    new = env.appended(lambda: _status(env.floor_command(hearing, {"action": "release_camera"}, token), 200))
    assert [shape(e) for e in new] == [user(Action.CAMERA_RELEASED, env.court.users["judge"], hearing)]
    assert new[0].payload == {"version": 2}
    assert env.floor_version(hearing) == 2
    return new


@refusal("camera-pins-refused")
def _camera_pins_refused(env: Env) -> Callable[[], None]:
    hearing, token = _judge_at_live_hearing(env, {"action": "pin_camera", "layout": "grid"})
    refused = [
        ({"action": "pin_camera", "camera": "cam-witness"}, 400, "unknown_camera"),  # no rig connected
        ({"action": "pin_camera", "layout": "grid"}, 409, "camera_unchanged"),
        ({"action": "pin_camera", "layout": "mosaic"}, 400, "invalid_input"),
        ({"action": "pin_camera"}, 400, "invalid_input"),
        ({"action": "pin_camera", "camera": None, "layout": None}, 400, "invalid_input"),
        ({"action": "pin_camera", "camera": 7}, 400, "invalid_input"),
        ({"action": "pin_camera", "camera": "x" * 5000}, 400, "invalid_input"),  # oversized
        ({"action": "pin_camera", "layout": "grid", "seat": "custody"}, 400, "invalid_input"),
        ({"action": "release_camera", "camera": "cam-judge"}, 400, "invalid_input"),
    ]

    def run() -> None:
        for body, status, error in refused:
            _refused_command(env, hearing, body, token, status, error)

    return run


@refusal("camera-release-with-nothing-pinned")
def _camera_release_refused(env: Env) -> Callable[[], None]:
    hearing, token = _judge_at_live_hearing(env)
    return lambda: _refused_command(env, hearing, {"action": "release_camera"}, token, 409, "camera_not_pinned")


# --- issue 14: the recording ------------------------------------------------------------


def _recording_at(env: Env, *transitions: str) -> int:
    """The judge signed in at hearing A, live, recorded in 1 s segments."""
    from hearing.recording.desk import RecordingDesk

    hearing, _ = _judge_at_live_hearing(env)
    desk: RecordingDesk = env.client.app.state.recordings  # type: ignore[attr-defined]
    desk.settings = env.settings.replace(recording_segment_seconds=1.0)
    env.drive(hearing, *transitions)
    return hearing


def _record(env: Env, hearing: int, action: str, expected: int = 200) -> Any:
    response = env.client.post(
        f"/hearings/{hearing}/recording",
        data={"csrf_token": csrf_token(env.client), "action": action},
        headers={"Accept": "application/json"},
    )
    _status(response, expected)
    return response


def _recording_id(env: Env) -> int:
    from hearing.db.models import Recording

    recording_id = env.services.unit_of_work(lambda db: db.scalar(select(Recording.id).order_by(Recording.id.desc())))
    assert recording_id is not None
    return int(recording_id)


def _segments_written(env: Env, count: int = 1) -> None:
    from hearing.db.models import RecordingSegment
    from tests.waiting import wait_until

    wait_until(
        lambda: env.services.unit_of_work(lambda db: db.scalar(select(func.count(RecordingSegment.id)))) >= count
    )


def _sealed(env: Env) -> int:
    """A recording of hearing A with a segment or two, sealed by the hearing's end."""
    from tests.waiting import wait_until

    hearing = _recording_at(env)
    _record(env, hearing, "start")
    _segments_written(env, 2)
    env.drive(hearing, "close")
    wait_until(lambda: Action.RECORDING_SEALED.value in [e.action for e in env.log()])
    return _recording_id(env)


@scenario(Action.RECORDING_STARTED, "by-the-judge")
def _recording_started(env: Env) -> list[Logged]:
    hearing = _recording_at(env)
    new = env.appended(lambda: _record(env, hearing, "start"))
    assert [shape(e) for e in new] == [user(Action.RECORDING_STARTED, env.court.users["judge"], hearing)]
    assert new[0].payload == {"recording_id": _recording_id(env)}
    return new


@scenario(Action.RECORDING_STARTED, "by-the-hearings-start")
def _recording_started_with_the_hearing(env: Env) -> list[Logged]:
    from hearing.db.models import Court
    from tests.waiting import wait_until

    env.services.unit_of_work(lambda db: setattr(db.get_one(Court, env.court.court_id), "record_on_start", True))
    hearing = _recording_at(env)
    new = env.appended(
        lambda: (env.drive(hearing, "start"), wait_until(lambda: env.log()[-1].action == "recording.started"))
    )
    assert [shape(e) for e in new][-1] == _system(Action.RECORDING_STARTED, hearing)
    return new


@scenario(Action.RECORDING_PAUSED, "by-the-judge")
def _recording_paused(env: Env) -> list[Logged]:
    hearing = _recording_at(env)
    _record(env, hearing, "start")
    new = env.appended(lambda: _record(env, hearing, "pause"))
    assert [shape(e) for e in new] == [user(Action.RECORDING_PAUSED, env.court.users["judge"], hearing)]
    payload = new[0].payload
    assert payload is not None and payload["why"] == "judge" and payload["recording_id"] == _recording_id(env)
    return new


@scenario(Action.RECORDING_PAUSED, "by-a-private-consultation")
def _recording_paused_by_consultation(env: Env) -> list[Logged]:
    from tests.waiting import wait_until

    hearing = _recording_at(env, "start")
    _record(env, hearing, "start")
    new = env.appended(
        lambda: (
            env.drive(hearing, "begin_consultation"),
            wait_until(lambda: env.log()[-1].action == "recording.paused"),
        )
    )
    assert [shape(e) for e in new][-1] == _system(Action.RECORDING_PAUSED, hearing)
    assert new[-1].payload is not None and new[-1].payload["why"] == "consultation"
    return new


@scenario(Action.RECORDING_RESUMED, "by-the-judge")
def _recording_resumed(env: Env) -> list[Logged]:
    hearing = _recording_at(env)
    _record(env, hearing, "start")
    _record(env, hearing, "pause")
    new = env.appended(lambda: _record(env, hearing, "resume"))
    assert [shape(e) for e in new] == [user(Action.RECORDING_RESUMED, env.court.users["judge"], hearing)]
    return new


@scenario(Action.RECORDING_FAILED, "the-disk-refuses-a-segment")
def _recording_failed(env: Env) -> list[Logged]:
    from hearing.recording import desk
    from tests.waiting import wait_until

    hearing = _recording_at(env)
    opened = desk.EncryptedSegments.open

    def refuse_the_second(self: Any, number: int) -> Any:
        if number == 2:
            raise OSError(28, "No space left on device")
        return opened(self, number)

    env.monkeypatch.setattr(desk.EncryptedSegments, "open", refuse_the_second)
    new = env.appended(
        lambda: (
            _record(env, hearing, "start"),
            wait_until(lambda: Action.RECORDING_FAILED.value in [e.action for e in env.log()]),
        )
    )
    failed = next(e for e in new if e.action == Action.RECORDING_FAILED.value)
    assert shape(failed) == _system(Action.RECORDING_FAILED, hearing)
    return new


@scenario(Action.RECORDING_SEALED, "by-the-hearings-end")
def _recording_sealed(env: Env) -> list[Logged]:
    before = len(env.log())
    _sealed(env)
    new = env.log()[before:]
    sealed = next(e for e in new if e.action == Action.RECORDING_SEALED.value)
    assert shape(sealed) == _system(Action.RECORDING_SEALED, env.court.hearing_a)
    assert sealed.payload is not None and sealed.payload["segments"] >= 2 and sealed.payload["interrupted"] is False
    return new


@scenario(Action.RECORDING_EXPORTED, "by-the-cli")
def _recording_exported(env: Env) -> list[Logged]:
    recording_id = _sealed(env)
    out = env.tmp_path / "hearing.mp4"
    new = env.appended(lambda: env.cli_ok("recording", "export", str(recording_id), "--out", str(out)))
    assert [shape(e)[0] for e in new] == [Action.AUDIT_READ.value, Action.RECORDING_EXPORTED.value]
    assert new[-1].payload is not None and new[-1].payload["size"] == out.stat().st_size
    return new


@scenario(Action.RECORDING_PURGED, "by-the-cli")
def _recording_purged(env: Env) -> list[Logged]:
    recording_id = _sealed(env)
    new = env.appended(lambda: env.cli_ok("recording", "purge", "--older-than", "0"))
    assert [shape(e) for e in new] == [operator(Action.RECORDING_PURGED, env.court.hearing_a)]
    assert new[0].payload is not None and new[0].payload["recording_id"] == recording_id
    return new


@refusal("recording-controls-refused")
def _recording_refused(env: Env) -> Callable[[], None]:
    hearing = _recording_at(env)

    def run() -> None:
        for action, status in (("pause", 409), ("resume", 409), ("erase", 400), ("", 400)):
            _record(env, hearing, action, status)

    return run


def _download(env: Env, recording_id: int) -> list[Logged]:
    path = f"/hearings/{env.court.hearing_a}/recordings/{recording_id}/export"
    responses: list[Any] = []
    new = env.appended(lambda: responses.append(env.client.get(path)))
    _status(responses[0], 200)
    assert responses[0].headers["content-type"] == "video/mp4"
    assert new[-1].action == Action.RECORDING_EXPORTED.value
    assert new[-1].payload is not None and new[-1].payload["size"] == len(responses[0].content)
    return new


@scenario(Action.RECORDING_EXPORTED, "downloaded-by-the-judge")
def _recording_downloaded_by_judge(env: Env) -> list[Logged]:
    return _download(env, _sealed(env))


@scenario(Action.RECORDING_EXPORTED, "downloaded-by-the-auditor")
def _recording_downloaded_by_auditor(env: Env) -> list[Logged]:
    recording_id = _sealed(env)
    auditor = env.sign_in_as("auditor")
    # The auditor's own page for the hearing offers it.
    page = env.client.get(f"/audit/hearings/{env.court.hearing_a}")
    _status(page, 200)
    assert f"/hearings/{env.court.hearing_a}/recordings/{recording_id}/export" in page.text
    new = _download(env, recording_id)
    assert shape(new[-1]) == user(Action.RECORDING_EXPORTED, auditor, env.court.hearing_a)
    return new


def _export_refused_for(role: str) -> None:
    @refusal(f"recording-export-by-{role.replace('_', '-')}")
    def refused(env: Env) -> Recorded:
        recording_id = _sealed(env)
        who = env.sign_in_as(role)
        path = f"/hearings/{env.court.hearing_a}/recordings/{recording_id}/export"
        return Recorded(
            lambda: _status(env.client.get(path), 403),
            [_denied("user", who, "GET", path, env.court.hearing_a)],
        )


for _role in ("clerk", "custody_officer", "admin"):
    _export_refused_for(_role)
