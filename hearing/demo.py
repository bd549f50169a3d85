"""A demo court on one machine: every role, its devices, a hearing now.

Re-running it is safe: the same court is reused, and every demo account and
device gets fresh credentials, printed once on the terminal.
"""

from __future__ import annotations

import ctypes
import ipaddress
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.auth import devices, passwords, users
from hearing.auth.keys import KeyRing
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.config import Settings
from hearing.db import migrate
from hearing.db.models import Courtroom, Endpoint, Hearing, Participant, StaffUser
from hearing.docket import booking, proceedings, sites
from hearing.docket.lifecycle import FINAL_STATES, LIVE_STATES, HearingState, Transition
from hearing.docket.parties import Connection, EndpointKind, HearingKind, ParticipantRole
from hearing.errors import InvalidInput
from hearing.interpreter import codes, issuing
from hearing.services import Services

DEMO = Actor("system", role="demo")
COURT = "Københavns Byret"
COURTROOM = "Retssal 1"
FACILITY = "Vestre Fængsel"
ACCOUNTS = [
    ("judge", "Dommer Anne Holm", Role.JUDGE),
    ("clerk", "Retssekretær Jonas Berg", Role.CLERK),
    ("officer", "Fængselsbetjent Mette Lund", Role.CUSTODY_OFFICER),
    ("auditor", "Revisor Karin Dahl", Role.AUDITOR),
    ("admin", "Driftsansvarlig Ole Krag", Role.ADMIN),
]
RIG_DEVICE = "retssal-1-rig"
DEVICES = [
    (RIG_DEVICE, EndpointKind.COURTROOM, COURTROOM),
    ("vestre-kiosk-1", EndpointKind.CUSTODY, FACILITY),
    # Where defence counsel, seated in the courtroom, confers with the detainee.
    ("retssal-1-samtalerum", EndpointKind.BOOTH, COURTROOM),
]


def is_loopback(host: str | None) -> bool:
    if not host or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def with_gateway(settings: Settings) -> Settings:
    """The demo serves the external gateway too, on the next loopback port
    (or the configured one): a remote party's page works end to end."""
    if settings.gateway_port:
        return settings
    derived = f"http://{settings.gateway_host}:8443"
    port = _free_port(settings.host, settings.port + 1 if settings.port < 65535 else settings.port - 1)
    changes: dict[str, object] = {"gateway_host": settings.host, "gateway_port": port}
    if settings.gateway_base_url == derived:
        changes["gateway_base_url"] = ""
    return settings.replace(**changes)


def _free_port(host: str, wanted: int) -> int:
    """`wanted` if it is free on `host` now, else one the system has free."""
    for port in (wanted, 0):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise InvalidInput(f"No free port on {host} for the demo's gateway.", field="gateway_port")


def prepare(settings: Settings, out: Callable[[str], None]) -> Path:
    """Seed the demo court, print its credentials; the rig's configuration file."""
    with Services.from_settings(settings, create_keys=True) as svc:
        migrate.upgrade(svc.engine)
        accounts, creds, hearing_id = svc.unit_of_work(lambda db: _seed(db, svc.keys))
        # A code only where the demo serves the gateway the link points to.
        invited = (
            svc.unit_of_work(lambda db: _invite_interpreter(db, svc.keys, settings, hearing_id))
            if settings.gateway_port
            else None
        )
    line = "=" * 78
    out(line)
    out("DEMO ONLY — these credentials are for this demo database and nothing else.")
    out(line)
    for username, password, secret in accounts:
        out(f"  {username:<8} password {password}   TOTP secret {secret}")
    out("  A current code: python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"")
    rig_config = write_rig(settings, dict(creds)[RIG_DEVICE].token)
    for name, cred in creds:
        out(f"  device {name}: agent token {cred.token}")
        out(f"         kiosk link {settings.base_url}/device/enroll?code={cred.enrollment_code}")
    out(f"  hearing {hearing_id} is scheduled now in {COURTROOM}.")
    if invited is not None:
        issued, name = invited
        out(f"  interpreter {name}: join {settings.gateway_base_url}/join/{issued.invitation}")
        tz = settings.timezone
        window = f"{issued.valid_from.astimezone(tz):%H:%M}-{issued.valid_until.astimezone(tz):%H:%M}"
        out(f"         one-time code {codes.grouped(issued.code)} (valid {window}, court time)")
    out(f"  courtroom rig: synthetic cameras and voices ({rig_config}); it joins when the hearing opens.")
    out(f"  Open {settings.base_url}/signin")
    out(line)
    return rig_config


def write_rig(settings: Settings, token: str) -> Path:
    """The demo courtroom's rig: the example configuration (five synthetic
    cameras, a four-channel synthetic microphone) pointed at this server,
    with the rig device's token beside it (readable by the owner only)."""
    folder = settings.data_dir / "rig"
    folder.mkdir(parents=True, exist_ok=True)
    token_file = folder / "rig.token"
    token_file.touch(mode=0o600)
    token_file.chmod(0o600)
    token_file.write_text(token + "\n")
    example = (resources.files("hearing.courtroom") / "example_rig.toml").read_text()
    config = folder / "rig.toml"
    config.write_text(re.sub(r'(?m)^server_url = ".*"$', f'server_url = "{settings.base_url}"', example))
    return config


def start_rig(config: Path) -> subprocess.Popen[bytes]:
    """The rig agent as its own process, as in a courtroom; it ends with the
    demo however the demo ends (a signal re-raised by uvicorn skips any
    cleanup of ours): the kernel sends it SIGTERM when its parent dies."""
    # Our own interpreter and a fixed command: nothing from outside reaches the argv.
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "hearing", "rig", "run", "--config", str(config)], preexec_fn=_end_with_parent
    )


def _end_with_parent() -> None:
    # Linux's PR_SET_PDEATHSIG (1): run in the child between fork and exec.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _seed(
    db: Session, keys: KeyRing
) -> tuple[list[tuple[str, str, str]], list[tuple[str, devices.DeviceCredentials]], int]:
    court = sites.ensure_court(db, DEMO, COURT)
    room = sites.ensure_courtroom(db, DEMO, court, COURTROOM)
    facility = sites.ensure_facility(db, DEMO, FACILITY)
    accounts = []
    for username, name, role in ACCOUNTS:
        password = passwords.generate_password()
        existing = db.scalar(select(StaffUser).where(StaffUser.username == username))
        if existing is None:
            enrolment = users.add_user(
                db,
                keys,
                DEMO,
                username=username,
                display_name=name,
                role=role,
                password=password,
                courtroom=room,
                facility=facility,
                totp_confirmed=True,
            )
            secret = enrolment.totp_secret
        else:
            users.reset_password(db, DEMO, username, password)
            secret = users.reset_totp(db, keys, DEMO, username).totp_secret
            # The demo prints the secret itself: confirmed, no enrolment code.
            existing.totp_confirmed = True
            existing.enrolment_code_hash = existing.enrolment_code_expires_at = None
        accounts.append((username, password, secret))
    creds = []
    now = utcnow()
    for name, kind, site in DEVICES:
        if db.scalar(select(Endpoint.id).where(Endpoint.name == name)) is None:
            cred = devices.enroll(db, keys, DEMO, kind=kind, name=name, site=site, now=now)
        else:
            cred = devices.reissue(db, keys, DEMO, name, now)
        creds.append((name, cred))
    _adjourn_leftovers(db, room, now)
    current = db.scalar(
        select(Hearing.id).where(
            Hearing.courtroom_id == room.id,
            Hearing.state.not_in(FINAL_STATES),
            Hearing.scheduled_start <= now + timedelta(minutes=5),
            Hearing.scheduled_end > now,
        )
    )
    if current is None:
        start = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
        request = booking.BookingRequest(
            case_number=f"SS 1-{now:%m%d}/{now:%Y}",
            kind=HearingKind.REMAND_EXTENSION,
            courtroom_id=room.id,
            facility_id=facility.id,
            start=start,
            minutes=60,
            detainee_name="Mikkel Sørensen",
            detainee_reference="VF-2026-0417",
            interpreter_language="Arabic",
            prosecutor="Anklager Sara Friis",
            defence_counsel="Forsvarer Peter Vang",
        )
        current = booking.book(db, DEMO, request, now=now).id
    return accounts, creds, current


def _invite_interpreter(
    db: Session, keys: KeyRing, settings: Settings, hearing_id: int
) -> tuple[issuing.Issued, str] | None:
    """A fresh one-time code for the demo hearing's remote interpreter (the
    booking's "Interpreter (Arabic)"), through the same service the clerk's
    page and `hearing remote issue` use; None if the hearing has none."""
    party = db.scalar(
        select(Participant).where(
            Participant.hearing_id == hearing_id,
            Participant.role == ParticipantRole.INTERPRETER,
            Participant.connection == Connection.REMOTE,
        )
    )
    if party is None:
        return None
    issued = issuing.issue_code(
        db, keys, DEMO, hearing_id, party.id, now=utcnow(), early_minutes=settings.remote_code_early_minutes
    )
    return issued, party.display_name


def _adjourn_leftovers(db: Session, room: Courtroom, now: datetime) -> None:
    """A hearing that an earlier run left live after its slot would keep the
    courtroom busy (one live hearing per courtroom): the demo adjourns it, so
    that today's hearing can be opened."""
    judge = db.scalar(select(StaffUser).where(StaffUser.username == "judge"))
    assert judge is not None  # made above
    leftovers = select(Hearing).where(
        Hearing.courtroom_id == room.id, Hearing.state.in_(LIVE_STATES), Hearing.scheduled_end <= now
    )
    for hearing in list(db.scalars(leftovers)):
        if hearing.state is HearingState.CONSULTATION:
            proceedings.transition(db, judge, DEMO, hearing.id, Transition.END_CONSULTATION, now)
        proceedings.transition(db, judge, DEMO, hearing.id, Transition.ADJOURN, now)
