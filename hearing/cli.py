"""The `hearing` command.

Operator commands act as the system actor and are audited like everything
else. Errors print their stable code and exit 2; nothing is half-applied.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hearing import logs
from hearing.actors import Actor
from hearing.audit import log as audit_log
from hearing.audit import reader, retention, verify
from hearing.audit.actions import Action
from hearing.audit.keys import KEK_FILE, VERIFIER_FILE, AuditKeys, load_verifier
from hearing.auth import devices, passwords, users
from hearing.auth.keys import KeyRing
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.config import Settings, load_settings
from hearing.db import migrate
from hearing.db.engine import create_db_engine
from hearing.db.models import Courtroom, Hearing
from hearing.docket import booking, sites
from hearing.docket.parties import Connection, EndpointKind, HearingKind
from hearing.errors import HearingError, InvalidInput
from hearing.services import Services

OPERATOR = Actor("system", role="operator")
T = TypeVar("T")
logger = logging.getLogger(__name__)


class Command:
    """Runs one parsed command with the services it needs."""

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings

    def services(self, *, create_keys: bool = False) -> Services:
        return Services.from_settings(self.settings, create_keys=create_keys)

    def unit(self, work: Callable[[Session], T], *, create_keys: bool = False) -> T:
        svc = self.services(create_keys=create_keys)
        try:
            return svc.unit_of_work(work)
        finally:
            svc.close()


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    if getattr(args, "password_stdin", False):
        value = sys.stdin.readline().rstrip("\n")
        passwords.check_policy(value)
        return value, False
    return passwords.generate_password(), True


# --- commands -----------------------------------------------------------------


def cmd_keys_init(cmd: Command) -> int:
    KeyRing.ensure(cmd.settings.key_dir)
    AuditKeys.ensure(cmd.settings.key_dir, cmd.settings.audit_origin)
    _print(f"keys ready in {cmd.settings.key_dir}")
    _print(f"audit verifier key (public; give it to whoever verifies the log): {cmd.settings.key_dir / VERIFIER_FILE}")
    return 0


def cmd_keys_rotate_kek(cmd: Command) -> int:
    svc = cmd.services()
    try:
        audit_keys = svc.audit.keys
        pending = audit_keys.pending_kek()
        if pending is not None and svc.unit_of_work(lambda db: retention.rotation_done(db, pending)):
            _print("completing an interrupted rotation")
        else:
            new = audit_keys.stage_new_kek()
            count = svc.unit_of_work(lambda db: retention.rewrap_all(db, OPERATOR, new))
            _print(f"re-wrapped {count} audit data keys")
        audit_keys.commit_new_kek()
        svc.audit.forget_keys()
    finally:
        svc.close()
    _print(f"new key-encryption key in place: {cmd.settings.key_dir / KEK_FILE} (back it up; the old one is gone)")
    return 0


def cmd_audit_verify(cmd: Command) -> int:
    # Only the database and the public verifier key: no secret is loaded.
    key_file = Path(cmd.args.public_key) if cmd.args.public_key else cmd.settings.key_dir / VERIFIER_FILE
    origin, public = load_verifier(key_file)
    exported = []
    for name in cmd.args.checkpoint or []:
        try:
            exported.append(Path(name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read checkpoint {name}: {exc}", field="checkpoint") from exc
    engine = create_db_engine(cmd.settings.database_url)
    try:
        with engine.connect() as connection:
            report = verify.verify(connection, origin, public, exported)
    finally:
        engine.dispose()
    if report.ok:
        _print(f"verified {report.size} entries against {report.checkpoints} signed checkpoints")
        _print(f"root {report.root.hex()}")
        return 0
    where = str(report.first_bad) if report.first_bad is not None else f"at or before entry {report.size}"
    _print(f"first bad entry: {where}")
    _print(f"problem: {report.problem}")
    return 1


def cmd_audit_checkpoint(cmd: Command) -> int:
    out = Path(cmd.args.out)

    def sign_and_export(db: Session) -> int:
        latest = audit_log.checkpoint(db)
        # Written before the commit: a failed export is not logged as done.
        try:
            out.write_text(latest.note, encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot write {out}: {exc}", field="out") from exc
        audit_log.append(db, OPERATOR, Action.AUDIT_CHECKPOINT_EXPORTED, size=latest.size)
        return latest.size

    size = cmd.unit(sign_and_export)
    _print(f"checkpoint of size {size} written to {out}")
    return 0


def cmd_audit_show(cmd: Command) -> int:
    entries = cmd.unit(lambda db: reader.read(db, OPERATOR, cmd.args.hearing))
    tz = cmd.settings.timezone
    for item in entries:
        _print(f"{item.seq:>7}  {item.at.astimezone(tz):%Y-%m-%d %H:%M:%S}  {item.in_words(cmd.args.lang, tz)}")
    if not entries:
        _print(f"no audit entries for hearing {cmd.args.hearing}")
    return 0


def cmd_audit_shred(cmd: Command) -> int:
    cmd.unit(lambda db: retention.shred(db, OPERATOR, cmd.args.hearing))
    _print(f"audit key of hearing {cmd.args.hearing} destroyed; its entries still verify")
    return 0


def cmd_db_upgrade(cmd: Command) -> int:
    return _migrate(cmd, migrate.upgrade)


def cmd_db_downgrade(cmd: Command) -> int:
    return _migrate(cmd, migrate.downgrade)


def _migrate(cmd: Command, step: Callable[[Engine, str], None]) -> int:
    svc = cmd.services(create_keys=True)
    try:
        step(svc.engine, cmd.args.revision)
    finally:
        svc.close()
    _print(f"database at {cmd.args.revision}")
    return 0


def cmd_site_add(cmd: Command) -> int:
    args = cmd.args

    def add(db: Session) -> None:
        if args.kind == "courtroom":
            court = sites.ensure_court(db, OPERATOR, args.court)
            sites.ensure_courtroom(db, OPERATOR, court, args.name)
        else:
            sites.ensure_facility(db, OPERATOR, args.name)

    cmd.unit(add)
    _print(f"{args.kind} {args.name} ready")
    return 0


def cmd_user_add(cmd: Command) -> int:
    args = cmd.args
    password, generated = _password(args)
    svc = cmd.services()

    def add(db: Session) -> users.Enrolment:
        room = sites.courtroom_named(db, args.courtroom) if args.courtroom else None
        facility = sites.facility_named(db, args.facility) if args.facility else None
        return users.add_user(
            db,
            svc.keys,
            OPERATOR,
            username=args.username,
            display_name=args.name,
            role=Role(args.role),
            password=password,
            courtroom=room,
            facility=facility,
        )

    try:
        enrolment = svc.unit_of_work(add)
    finally:
        svc.close()
    _print(f"user {enrolment.username} created")
    if generated:
        _print(f"password (shown once): {password}")
    _print(f"authenticator (shown once; the QR code appears at first sign-in): {enrolment.provisioning_uri}")
    return 0


def cmd_user_reset_totp(cmd: Command) -> int:
    svc = cmd.services()
    try:
        enrolment = svc.unit_of_work(lambda db: users.reset_totp(db, svc.keys, OPERATOR, cmd.args.username))
    finally:
        svc.close()
    _print(f"authenticator for {enrolment.username} reset; confirm at next sign-in")
    _print(f"authenticator (shown once): {enrolment.provisioning_uri}")
    return 0


def cmd_device_enroll(cmd: Command) -> int:
    args = cmd.args
    svc = cmd.services()
    try:
        creds = svc.unit_of_work(
            lambda db: devices.enroll(
                db, svc.keys, OPERATOR, kind=EndpointKind(args.kind), name=args.name, site=args.site, now=utcnow()
            )
        )
    finally:
        svc.close()
    _print_device(cmd.settings, args.name, creds)
    return 0


def _print_device(settings: Settings, name: str, creds: devices.DeviceCredentials) -> None:
    _print(f"device {name} enrolled (shown once; the server keeps only a keyed hash):")
    _print(f"  agent token:      {creds.token}")
    _print(f"  kiosk enrollment: {settings.base_url}/device/enroll?code={creds.enrollment_code}")
    _print("  (valid 24 hours; opening it issues the kiosk a fresh token and retires the agent token)")


def cmd_device_revoke(cmd: Command) -> int:
    cmd.unit(lambda db: devices.revoke(db, OPERATOR, cmd.args.name, utcnow()))
    _print(f"device {cmd.args.name} revoked")
    return 0


def cmd_schedule(cmd: Command) -> int:
    args = cmd.args
    svc = cmd.services()

    def book(db: Session) -> tuple[int, datetime]:
        fields = {
            "case_number": args.case,
            "kind": args.kind,
            "start": args.start,
            "minutes": str(args.minutes),
            "courtroom_id": str(sites.courtroom_named(db, args.courtroom).id),
            "facility_id": str(sites.facility_named(db, args.facility).id),
            "detainee_name": args.detainee_name,
            "detainee_reference": args.detainee_ref,
            "interpreter_language": args.interpreter or "",
            "prosecutor": args.prosecutor or "",
            "defence_counsel": args.defence or "",
            "defence_connection": args.defence_from,
        }
        request = booking.BookingRequest.from_fields(fields, svc.settings.timezone)
        hearing = booking.book(db, OPERATOR, request)
        return hearing.id, hearing.scheduled_start

    try:
        hearing_id, start = svc.unit_of_work(book)
    finally:
        svc.close()
    local = start.astimezone(cmd.settings.timezone)
    _print(f"hearing {hearing_id} booked for {local:%Y-%m-%d %H:%M} ({cmd.settings.court_timezone})")
    return 0


def cmd_hearings_list(cmd: Command) -> int:
    args = cmd.args
    tz = cmd.settings.timezone
    try:
        day = date.fromisoformat(args.day) if args.day else utcnow().astimezone(tz).date()
    except ValueError:
        raise InvalidInput("The day must look like 2026-11-23.", field="day") from None
    start, end = booking.local_day_bounds(day, tz)

    def load(db: Session) -> list[dict[str, object]]:
        query = select(Hearing).where(Hearing.scheduled_start >= start, Hearing.scheduled_start < end)
        if args.courtroom:
            query = query.join(Courtroom).where(Courtroom.name == args.courtroom)
        return [
            {
                "id": h.id,
                "case_number": h.case_number,
                "start": h.scheduled_start.astimezone(tz).isoformat(),
                "end": h.scheduled_end.astimezone(tz).isoformat(),
                "courtroom": h.courtroom.name,
                "facility": h.facility.name,
                "state": h.state.value,
            }
            for h in db.scalars(query.order_by(Hearing.scheduled_start, Hearing.id))
        ]

    rows = cmd.unit(load)
    if args.json:
        _print(json.dumps(rows, indent=2))
    elif not rows:
        _print(f"no hearings on {day}")
    for row in [] if args.json else rows:
        _print(
            f"{row['id']:>5}  {str(row['start'])[11:16]}  {row['case_number']:<20} "
            f"{row['courtroom']:<16} {row['facility']:<20} {row['state']}"
        )
    return 0


def _with_address(settings: Settings, args: argparse.Namespace) -> Settings:
    changes = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    if changes and settings.base_url == f"http://{settings.host}:{settings.port}":
        # A derived base URL follows the address actually served; a
        # configured one (the public name behind nginx) stays.
        changes["base_url"] = ""
    return settings.replace(**changes) if changes else settings


def cmd_serve(cmd: Command) -> int:
    import uvicorn

    from hearing.app import create_app

    settings = _with_address(cmd.settings, cmd.args)
    app = create_app(settings)
    logger.info("serving", extra={"host": settings.host, "port": settings.port})
    uvicorn.run(app, host=settings.host, port=settings.port, access_log=False, log_config=None, ws_max_size=256 * 1024)
    return 0


def cmd_demo(cmd: Command) -> int:
    from hearing import demo

    settings = _with_address(cmd.settings, cmd.args).replace(cookie_secure=False)
    if not demo.is_loopback(settings.host):
        raise InvalidInput("The demo serves plain HTTP and binds to loopback only.", field="host")
    demo.prepare(settings, out=_print)
    if cmd.args.no_serve:
        return 0
    cmd.settings = settings
    return cmd_serve(cmd)


# --- parser -------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearing", description="Secure video hearings.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the server")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("demo", help="seed a demo court and serve it on loopback")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-serve", action="store_true", help="seed and print, then exit")
    p.set_defaults(run=cmd_demo)

    keys = sub.add_parser("keys", help="key files").add_subparsers(dest="keys_command", required=True)
    keys.add_parser("init", help="create the key files if missing").set_defaults(run=cmd_keys_init)
    keys.add_parser("rotate-kek", help="re-wrap every audit data key under a new KEK").set_defaults(
        run=cmd_keys_rotate_kek
    )

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", help="verify the log with the public key only")
    p.add_argument("--checkpoint", action="append", help="an exported checkpoint file (repeatable)")
    p.add_argument("--public-key", help="verifier key file (default: <key_dir>/audit-signing.pub)")
    p.set_defaults(run=cmd_audit_verify)
    p = audit.add_parser("checkpoint", help="sign the current tree head and export it")
    p.add_argument("--out", required=True, help="file to write the checkpoint to")
    p.set_defaults(run=cmd_audit_checkpoint)
    p = audit.add_parser("show", help="a hearing's events in plain words (audited)")
    p.add_argument("--hearing", type=int, required=True)
    p.add_argument("--lang", choices=["da", "en"], default="en", help="the language of the sentences")
    p.set_defaults(run=cmd_audit_show)
    p = audit.add_parser("shred", help="destroy a hearing's audit data key (retention)")
    p.add_argument("--hearing", type=int, required=True)
    p.set_defaults(run=cmd_audit_shred)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="migrate up")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(run=cmd_db_upgrade)
    p = db.add_parser("downgrade", help="migrate down")
    p.add_argument("revision")
    p.set_defaults(run=cmd_db_downgrade)

    site = sub.add_parser("site", help="courtrooms and custody facilities").add_subparsers(
        dest="site_command", required=True
    )
    p = site.add_parser("add", help="add a courtroom or custody facility")
    p.add_argument("kind", choices=["courtroom", "facility"])
    p.add_argument("name")
    p.add_argument("--court", default="Court", help="the court a courtroom belongs to")
    p.set_defaults(run=cmd_site_add)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("add", help="add a staff user")
    p.add_argument("--username", required=True)
    p.add_argument("--name", required=True, help="display name")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--courtroom", help="a judge's courtroom")
    p.add_argument("--facility", help="a custody officer's facility")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(run=cmd_user_add)
    p = user.add_parser("reset-totp", help="issue a new authenticator secret")
    p.add_argument("username")
    p.set_defaults(run=cmd_user_reset_totp)

    device = sub.add_parser("device", help="enrolled devices").add_subparsers(dest="device_command", required=True)
    p = device.add_parser("enroll", help="enroll a courtroom rig or custody endpoint")
    p.add_argument("--kind", required=True, choices=[k.value for k in EndpointKind])
    p.add_argument("--name", required=True)
    p.add_argument("--site", required=True, help="courtroom or custody facility name")
    p.set_defaults(run=cmd_device_enroll)
    p = device.add_parser("revoke", help="revoke a device")
    p.add_argument("name")
    p.set_defaults(run=cmd_device_revoke)

    p = sub.add_parser("schedule", help="book a hearing")
    p.add_argument("--case", required=True, help="case number")
    p.add_argument("--kind", default=HearingKind.REMAND_EXTENSION.value, choices=[k.value for k in HearingKind])
    p.add_argument("--courtroom", required=True)
    p.add_argument("--facility", required=True)
    p.add_argument("--start", required=True, help="court local time, e.g. 2026-11-23T10:30")
    p.add_argument("--minutes", type=int, default=30)
    p.add_argument("--detainee-name", required=True)
    p.add_argument("--detainee-ref", required=True)
    p.add_argument("--interpreter", help="interpreter language, if any")
    p.add_argument("--prosecutor")
    p.add_argument("--defence")
    p.add_argument("--defence-from", default=Connection.COURTROOM.value, choices=[c.value for c in Connection])
    p.set_defaults(run=cmd_schedule)

    hearings = sub.add_parser("hearings", help="the docket").add_subparsers(dest="hearings_command", required=True)
    p = hearings.add_parser("list", help="list one day's hearings")
    p.add_argument("--day", help="YYYY-MM-DD, court local time (default today)")
    p.add_argument("--courtroom")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_hearings_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure()
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(args.run(Command(args, settings)))
    except HearingError as exc:
        sys.stderr.write(f"error: {exc.code}: {exc.message}\n")
        return 2
    except KeyboardInterrupt:
        return 130
