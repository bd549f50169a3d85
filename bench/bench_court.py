"""The court the server benches run against: one courtroom, one custody
facility, a judge whose session the bench starts itself, a hearing with the
detainee in custody and the prosecutor in the courtroom, and the custody
kiosk's credentials. Each bench says the hearing's state, the floor commands
the judge has given, and whether the court pauses on a dropped link.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import multiprocessing
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import uvicorn
from sqlalchemy.orm import Session

from hearing.actors import SYSTEM, Actor
from hearing.app import create_app
from hearing.auth import devices, signin, totp
from hearing.auth.roles import Role
from hearing.config import Settings
from hearing.db.models import Base, Court, Courtroom, CustodyFacility, Hearing, Participant, StaffUser
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import Connection, EndpointKind, HearingKind, ParticipantRole
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.speaker_order.commands import Command
from hearing.web.routing import session_signer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def page_request(
    port: int,
    cookies: dict[str, str],
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    timeout: float,
) -> tuple[int, str]:
    """One request to the bench's server as a browser on its page sends it:
    the cookies it holds and the page's Origin; the cookies the answer sets
    are kept in `cookies`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    headers["Origin"] = f"http://127.0.0.1:{port}"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key] = rest.split(";", 1)[0]
    text = response.read().decode()
    conn.close()
    return response.status, text


@dataclasses.dataclass(frozen=True)
class Seeded:
    hearing_id: int
    cookie: str  # the judge's signed session cookie
    token: str  # the custody kiosk's device token (also a kiosk page's device cookie)


def seed(
    settings: Settings,
    *,
    state: HearingState,
    commands: Sequence[Command] = (Command("admit", seat="custody"),),
    pause_on_drop: bool = True,
) -> Seeded:
    """The court, its hearing in `state`, and the judge's `commands` applied
    to the floor (by default: the custody seat admitted)."""
    svc = Services.from_settings(settings, create_keys=True)
    Base.metadata.create_all(svc.engine)

    def court(db: Session) -> tuple[int, str, str]:
        # Not recorded (issue 14): a bench measures what it names; bench/recording_bench.py records.
        byret = Court(name="Byret", pause_on_drop=pause_on_drop, record_on_start=False)
        db.add(byret)
        db.flush()
        room, facility = Courtroom(court_id=byret.id, name="Retssal 1"), CustodyFacility(name="Arresthuset")
        db.add_all([room, facility])
        db.flush()
        judge = StaffUser(
            username="judge",
            display_name="Judge",
            role=Role.JUDGE,
            password_hash="-",  # noqa: S106 (never signs in: the bench starts its session)
            totp_secret_enc=totp.encrypt_secret(svc.keys.totp_encryption, "judge", totp.new_secret()),
            totp_confirmed=True,
            courtroom_id=room.id,
            failed_attempts=0,
        )
        db.add(judge)
        now = datetime.now(UTC)
        hearing = Hearing(
            case_number="SS 1-1/2026",
            kind=HearingKind.REMAND_EXTENSION,
            courtroom_id=room.id,
            facility_id=facility.id,
            scheduled_start=now - timedelta(minutes=5),
            scheduled_end=now + timedelta(hours=1),
            detainee_name="Detainee",
            detainee_reference="REF",
            state=state,
        )
        db.add(hearing)
        db.flush()
        for role, connection in (
            (ParticipantRole.DETAINEE, Connection.CUSTODY),
            (ParticipantRole.PROSECUTOR, Connection.COURTROOM),
        ):
            db.add(Participant(hearing_id=hearing.id, role=role, display_name=role.value, connection=connection))
        db.flush()
        token = devices.enroll(
            db, svc.keys, SYSTEM, kind=EndpointKind.CUSTODY, name="kiosk", site="Arresthuset", now=now
        ).token
        actor = Actor("user", judge.id, "judge")
        for command in commands:
            presiding.act(db, actor, hearing.id, command, courtroom_id=room.id)
        return hearing.id, signin.start_session(db, judge, now), token

    with svc:
        hearing_id, session, token = svc.unit_of_work(court)
        return Seeded(hearing_id, session_signer(svc).sign(session.encode()).decode(), token)


def serve(settings: Settings) -> None:
    """The server, as a bench runs it in a process of its own."""
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning")
    uvicorn.Server(config).run()


@contextlib.contextmanager
def serving(
    settings: Settings, target: Callable[..., None] = serve, args: tuple[object, ...] | None = None
) -> Iterator[None]:
    """`target` (by default `serve`) in a spawned process, until its port
    answers; stopped when the block ends."""
    server = multiprocessing.get_context("spawn").Process(target=target, args=args or (settings,), daemon=True)
    server.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", settings.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.join(timeout=10)
