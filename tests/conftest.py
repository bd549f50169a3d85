from __future__ import annotations

import dataclasses
import fcntl
import functools
import io
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyotp
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient

from hearing.actors import SYSTEM, Actor
from hearing.app import create_app
from hearing.audit import reader
from hearing.auth import devices, passwords, signin, totp, users
from hearing.auth.keys import KeyRing
from hearing.auth.roles import Role
from hearing.cli import main
from hearing.config import Settings
from hearing.db.models import (
    AuditEntry,
    AuditKey,
    Base,
    Court,
    Courtroom,
    CustodyFacility,
    Hearing,
    Participant,
    StaffUser,
)
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection, EndpointKind, HearingKind, ParticipantRole
from hearing.media import aiortc_hooks
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.speaker_order.commands import Command
from hearing.web.routing import CookieNames, session_signer
from tests.browser import browser, chromium, live_server, pytest_collection_modifyitems  # noqa: F401  (fixtures, hook)

# Hypothesis profiles. "ci" is the default: the same examples on every run
# (derandomize: a red build stays red on a rerun and on a laptop, and a
# change of outcome means a change of code, not luck; no example database,
# so nothing from an earlier run steers this one), no deadline (a shared
# 2-core runner's pauses are not failures). "thorough", for local runs with
# `--hypothesis-profile=thorough`: ten times the examples, new ones each run,
# failures remembered and replayed first. tests/hardening/ sizes its fuzzing
# from the profile's max_examples.
hypothesis_settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, database=None)
hypothesis_settings.register_profile("thorough", max_examples=1000, deadline=None)
hypothesis_settings.load_profile("ci")

REQUIRE_ALL = os.environ.get("HEARING_REQUIRE_ALL") == "1"
CliRun = Callable[..., tuple[int, str, str]]
PASSWORD = "correct horse battery staple"


def need(available: bool, reason: str) -> None:
    """Skip on a laptop without the dependency; fail in CI, where it must be there."""
    if available:
        return
    if REQUIRE_ALL:
        pytest.fail(f"HEARING_REQUIRE_ALL=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_url() -> str | None:
    """The PostgreSQL database to test against. Tests run in parallel workers
    (pytest-xdist, `-n 2` in `make test`), each resetting its database per
    test, so each worker gets one of its own beside the configured one."""
    url = os.environ.get("HEARING_TEST_DATABASE_URL") or None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return url if url is None or worker is None else _worker_database(url, worker)


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{worker}"
    engine = create_engine(
        urlunsplit(parts._replace(scheme="postgresql+psycopg")), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return urlunsplit(parts._replace(path=f"/{name}"))


def reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# Which databases a test runs on. PostgreSQL is the production database and
# SQLite the embedded default. A test whose subject is what is stored or how
# (models, migrations, the audit log, booking and the docket, services and
# every audited action they take, permissions, any SQL that could behave
# differently on the two) runs on both: that is the default, so a new test of
# stored state is covered without anyone having to remember to ask for it.
# A test whose subject is elsewhere, and which needs a database only to sign
# somebody in or to have a hearing to show (pages, language, security
# headers, sockets, media through the live server, the browser), says so with
# `@pytest.mark.sqlite_only` (or a module's `pytestmark`) and runs once, on
# SQLite. Forgetting the marker costs time; forgetting the opposite marker
# would cost PostgreSQL coverage, which is why the default is both.
DATABASES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker("sqlite_only") is None:
        metafunc.parametrize("database_url", DATABASES, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'hearing.db'}"
    url = postgres_url()
    need(url is not None, "HEARING_TEST_DATABASE_URL is not set (no PostgreSQL to test against)")
    assert url is not None
    reset_postgres(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, cookie_secure=True)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = Services.from_settings(settings, create_keys=True)
    Base.metadata.create_all(svc.engine)
    yield svc
    svc.close()


@functools.cache
def _password_hash() -> str:
    # scrypt is slow on purpose; one hash serves every test user.
    return passwords.hash_password(PASSWORD)


@dataclasses.dataclass
class Court_:
    """A court with two courtrooms and two facilities, and one user per role
    (judge and custody officer at site A), plus a hearing at each site."""

    court_id: int
    courtroom_a: int
    courtroom_b: int
    facility_a: int
    facility_b: int
    users: dict[str, int]
    secrets: dict[str, str]
    hearing_a: int
    hearing_b: int


def _add_user(
    db: Session, keys: KeyRing, username: str, role: Role, courtroom: int | None, facility: int | None
) -> tuple[int, str]:
    secret = totp.new_secret()
    user = StaffUser(
        username=username,
        display_name=username.replace("_", " ").title(),
        role=role,
        password_hash=_password_hash(),
        totp_secret_enc=totp.encrypt_secret(keys.totp_encryption, username, secret),
        totp_confirmed=True,
        courtroom_id=courtroom if role is Role.JUDGE else None,
        facility_id=facility if role is Role.CUSTODY_OFFICER else None,
        failed_attempts=0,
    )
    db.add(user)
    db.flush()
    return user.id, secret


def add_unconfirmed_user(services: Services, username: str) -> users.Enrolment:
    """A clerk who has never signed in: the TOTP secret is not yet confirmed."""
    return services.unit_of_work(
        lambda db: users.add_user(
            db, services.keys, SYSTEM, username=username, display_name="New Clerk", role=Role.CLERK, password=PASSWORD
        )
    )


def reveal_authenticator(client: TestClient, enrol_link: str, code: str | None) -> tuple[Any, str, str]:
    """The enrolment code step of a first sign-in, from the password step's
    link: the page with the new authenticator, the ticket and the CSRF token
    to confirm it with."""
    ticket = enrol_link.split("ticket=", 1)[1]
    token = csrf_token(client, enrol_link)
    page = client.post("/signin/enrol/code", data={"csrf_token": token, "ticket": ticket, "enrolment_code": code or ""})
    revealed = re.search(r'name="ticket" value="([^"]+)"', page.text)
    confirm_token = CSRF_INPUT.search(page.text)
    return page, revealed.group(1) if revealed else "", confirm_token.group(1) if confirm_token else ""


def add_hearing(db: Session, courtroom: int, facility: int, start: datetime, case: str = "SS 1-100/2026") -> int:
    hearing = Hearing(
        case_number=case,
        kind=HearingKind.REMAND_EXTENSION,
        courtroom_id=courtroom,
        facility_id=facility,
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=30),
        detainee_name="Test Detainee",
        detainee_reference="REF-1",
    )
    db.add(hearing)
    db.flush()
    # As booking adds them: the detainee in custody, prosecutor and counsel in the courtroom.
    for role, name, connection in (
        (ParticipantRole.DETAINEE, "Test Detainee", Connection.CUSTODY),
        (ParticipantRole.PROSECUTOR, "Test Prosecutor", Connection.COURTROOM),
        (ParticipantRole.DEFENCE_COUNSEL, "Test Counsel", Connection.COURTROOM),
    ):
        db.add(Participant(hearing_id=hearing.id, role=role, display_name=name, connection=connection))
    db.flush()
    return hearing.id


@pytest.fixture
def court(services: Services) -> Court_:
    return seed_court(services)


def seed_court(services: Services) -> Court_:
    """The `court` fixture's court (also for module-scoped worlds, tests/hardening/)."""

    def seed(db: Session) -> Court_:
        # Not recorded unless a test says so (issue 14): a recorder encoding
        # in every test that starts a hearing would cost CPU for nothing.
        court = Court(name="Test Court", record_on_start=False)
        db.add(court)
        db.flush()
        rooms = [Courtroom(court_id=court.id, name=n) for n in ("Room A", "Room B")]
        facilities = [CustodyFacility(name=n) for n in ("Facility A", "Facility B")]
        db.add_all(rooms + facilities)
        db.flush()
        users, secrets_ = {}, {}
        for role in Role:
            users[role.value], secrets_[role.value] = _add_user(
                db, services.keys, role.value.replace("_", "-"), role, rooms[0].id, facilities[0].id
            )
        now = datetime.now(UTC)
        return Court_(
            court.id,
            rooms[0].id,
            rooms[1].id,
            facilities[0].id,
            facilities[1].id,
            users,
            secrets_,
            add_hearing(db, rooms[0].id, facilities[0].id, now),
            add_hearing(db, rooms[1].id, facilities[1].id, now, case="SS 1-200/2026"),
        )

    return services.unit_of_work(seed)


@pytest.fixture
def client(settings: Settings, services: Services) -> Iterator[TestClient]:
    app = create_app(settings, services)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as test_client:
        yield test_client


def session_cookie(services: Services, user_id: int) -> str:
    """A signed session cookie value for this user, without the sign-in form
    (which is tested on its own)."""

    def start(db: Session) -> str:
        return signin.start_session(db, db.get_one(StaffUser, user_id), datetime.now(UTC))

    return session_signer(services).sign(services.unit_of_work(start).encode()).decode()


def open_hearing(services: Services, hearing_id: int, state: HearingState = HearingState.OPEN) -> None:
    """Straight to a live state, without the judge's (audited) controls."""
    services.unit_of_work(lambda db: setattr(db.get_one(Hearing, hearing_id), "state", state))


def post_floor_command(client: TestClient, hearing_id: int, body: Any, token: str) -> Any:
    """The judge's panel posts a command: a dict as JSON, a str or bytes as they are."""
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token}
    return client.post(f"/hearings/{hearing_id}/floor", content=raw, headers=headers)


def enroll_device(services: Services, name: str, kind: EndpointKind, site: str) -> devices.DeviceCredentials:
    """An enrolled courtroom rig or custody endpoint, as the operator would add it."""
    return services.unit_of_work(
        lambda db: devices.enroll(db, services.keys, SYSTEM, kind=kind, name=name, site=site, now=datetime.now(UTC))
    )


def custody_headers(services: Services, name: str = "kiosk-a", site: str = "Facility A") -> dict[str, str]:
    """A custody endpoint at hearing A's facility, as the headers it sends."""
    return {"Authorization": f"Device {enroll_device(services, name, EndpointKind.CUSTODY, site).token}"}


def admit(services: Services, court: Court_, hearing_id: int, seat: str = "custody") -> None:
    """The judge admits `seat` from the lobby (through the service: the panel's
    own route is tested in tests/web/test_panel.py)."""
    judge = Actor("user", court.users["judge"], "judge")
    command = Command("admit", seat=seat)
    services.unit_of_work(lambda db: presiding.act(db, judge, hearing_id, command, courtroom_id=court.courtroom_a))


def login_as(client: TestClient, services: Services, user_id: int) -> None:
    # The fixtures' settings have Secure cookies, hence the __Host- names.
    client.cookies.set(CookieNames.for_scheme(secure=True).session, session_cookie(services, user_id))


CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_token(client: TestClient, path: str = "/signin") -> str:
    response = client.get(path)
    match = CSRF_INPUT.search(response.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def current_code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * offset_steps))


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"HEARING_REQUIRE_ALL={'1' if REQUIRE_ALL else '0'}"]
    url = postgres_url()
    if url is None:
        lines.append("PostgreSQL: not configured (HEARING_TEST_DATABASE_URL unset)")
        return lines
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            lines.append(f"PostgreSQL: {conn.execute(text('SELECT version()')).scalar_one()}")
        engine.dispose()
    except Exception as exc:  # the header must not hide the tests' own failure
        lines.append(f"PostgreSQL: unreachable ({type(exc).__name__})")
    return lines


@dataclasses.dataclass(frozen=True)
class Logged:
    seq: int
    action: str
    hearing_id: int | None
    actor_kind: str
    actor_id: int | None
    actor_role: str | None
    payload: dict[str, object] | None


def logged(services: Services) -> list[Logged]:
    """Every audit entry, decrypted, oldest first (for assertions; not audited)."""

    def load(db: Session) -> list[Logged]:
        keys = {k.id: k for k in db.scalars(select(AuditKey))}
        return [
            Logged(
                row.seq,
                row.action,
                row.hearing_id,
                row.actor_kind,
                row.actor_id,
                row.actor_role,
                reader.decrypt(services.audit, keys[row.key_id], row)[0],
            )
            for row in db.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]

    return services.unit_of_work(load)


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> CliRun:
    """Run `hearing ...` in-process against a migrated database with one courtroom and facility."""
    monkeypatch.setenv("HEARING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HEARING_DATABASE_URL", database_url)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert run("db", "upgrade")[0] == 0
    assert run("site", "add", "courtroom", "Retssal 3", "--court", "Byret")[0] == 0
    assert run("site", "add", "facility", "Arresthuset")[0] == 0
    return run


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> None:
    """Every peer in the tests offers loopback candidates only: a closed network."""
    aiortc_hooks.restrict_host_addresses(["127.0.0.1"])


@pytest.fixture(autouse=True)
def machine_share(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A test marked `solo` has the machine to itself: it measures timing
    under a load it makes itself (tests/media/test_continuity.py), which
    another xdist worker's CPU-heavy test would add to. Every other test
    holds a shared lock on a file all workers see; a solo test waits for an
    exclusive one, so the others pause while it runs."""
    exclusive = request.node.get_closest_marker("solo") is not None
    # Under xdist each worker's base directory sits in the run's own one.
    lock = tmp_path_factory.getbasetemp().parent / "machine.lock"
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            # The other worker's solo test runs (a minute and more): waiting
            # for it is not this test's time. pytest-timeout times a test with
            # ITIMER_REAL (its signal method): held while this one waits.
            held = signal.setitimer(signal.ITIMER_REAL, 0)
            try:
                fcntl.flock(handle, mode)
            finally:
                if held[0] > 0:
                    signal.setitimer(signal.ITIMER_REAL, *held)
        yield
