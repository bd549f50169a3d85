"""`hearing user ...`: staff accounts."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from sqlalchemy.orm import Session

from hearing.auth import passwords, users
from hearing.auth.roles import Role
from hearing.cli.common import OPERATOR, Command, Subcommands, out
from hearing.clock import utcnow
from hearing.docket import sites


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    if getattr(args, "password_stdin", False):
        value = sys.stdin.readline().rstrip("\n")
        passwords.check_policy(value)
        return value, False
    return passwords.generate_password(), True


def cmd_add(cmd: Command) -> int:
    args = cmd.args
    password, generated = _password(args)
    with cmd.services() as svc:

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
                code_valid=_code_valid(cmd),
            )

        enrolment = svc.unit_of_work(add)
    out(f"user {enrolment.username} created")
    if generated:
        out(f"password (shown once): {password}")
    _print_code(enrolment)
    return 0


def _code_valid(cmd: Command) -> timedelta:
    return timedelta(hours=cmd.settings.enrolment_code_hours)


def _print_code(enrolment: users.Enrolment) -> None:
    # The authenticator's secret is never printed: the user sees it at their
    # next sign-in, after their password and this code.
    assert enrolment.enrolment_code is not None and enrolment.enrolment_code_expires_at is not None
    expires = enrolment.enrolment_code_expires_at.isoformat(timespec="minutes")
    out(f"enrolment code (shown once; hand it to {enrolment.username} in person): {enrolment.enrolment_code}")
    out(f"valid until {expires}, once: with it and the password, the user sets up an authenticator at sign-in")


def cmd_reset_totp(cmd: Command) -> int:
    with cmd.services() as svc:
        enrolment = svc.unit_of_work(
            lambda db: users.reset_totp(db, svc.keys, OPERATOR, cmd.args.username, code_valid=_code_valid(cmd))
        )
    out(f"authenticator for {enrolment.username} reset; a new one is set up at next sign-in")
    _print_code(enrolment)
    return 0


def cmd_disable(cmd: Command) -> int:
    ended = cmd.unit(lambda db: users.disable_user(db, OPERATOR, cmd.args.username, utcnow()))
    out(f"user {cmd.args.username} disabled; {ended} session(s) ended (open sockets close within seconds)")
    return 0


def cmd_enable(cmd: Command) -> int:
    cmd.unit(lambda db: users.enable_user(db, OPERATOR, cmd.args.username))
    out(f"user {cmd.args.username} enabled")
    return 0


def register(commands: Subcommands) -> None:
    user = commands.add_parser("user", help="staff accounts").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("add", help="add a staff user")
    p.add_argument("--username", required=True)
    p.add_argument("--name", required=True, help="display name")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--courtroom", help="a judge's courtroom")
    p.add_argument("--facility", help="a custody officer's facility")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(run=cmd_add)
    p = user.add_parser("reset-totp", help="issue a new authenticator secret and its enrolment code")
    p.add_argument("username")
    p.set_defaults(run=cmd_reset_totp)
    p = user.add_parser("disable", help="disable an account and end its sessions")
    p.add_argument("username")
    p.set_defaults(run=cmd_disable)
    p = user.add_parser("enable", help="let a disabled account sign in again")
    p.add_argument("username")
    p.set_defaults(run=cmd_enable)
