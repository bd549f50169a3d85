"""`hearing remote ...` and `hearing interpreter ...`: remote parties and
their one-time codes, and the court's register of interpreters.

A code is printed once, with the invitation to send; the server keeps only
its keyed hash, and `remote list` never shows one. Ids are read as ASCII
digits, as the web forms read them.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.cli.common import OPERATOR, Command, Subcommands, out
from hearing.clock import utcnow
from hearing.db.models import Participant
from hearing.docket.parties import Connection, ParticipantRole
from hearing.errors import InvalidInput
from hearing.fields import free_text, whole_number
from hearing.interpreter import codes, invitation, issuing
from hearing.interpreter import register as court_register

ROLES = sorted(r.value for r in issuing.REMOTE_ROLES)


def _id(raw: str, field: str) -> int:
    return whole_number(raw, field=field, label=field.replace("_", " ").capitalize() + " id")


def _local(moment: datetime, cmd: Command) -> str:
    return f"{moment.astimezone(cmd.settings.timezone):%Y-%m-%d %H:%M}"


def _ics_target(raw: str | None) -> Path | None:
    """Checked before anything is issued: a code must not be issued and
    then lost to a path that cannot be written."""
    if raw is None:
        return None
    path = Path(free_text(raw, field="ics", limit=4096))
    if path.is_dir() or not path.parent.is_dir():
        raise InvalidInput(f"Cannot write the calendar file to {str(path)[:200]!r}.", field="ics")
    return path


def _party_for(cmd: Command, db: Session, hearing_id: int) -> Participant:
    """The hearing's remote party of that role and name, or a new one."""
    args = cmd.args
    role = ParticipantRole(args.role)
    name = free_text(args.name, field="name", limit=issuing.NAME_MAX)
    registered = _id(args.registered, "registered") if args.registered is not None else None
    issuing.find_hearing(db, hearing_id)  # an id that names no hearing goes no further
    found = db.scalar(
        select(Participant)
        .where(
            Participant.hearing_id == hearing_id,
            Participant.role == role,
            Participant.display_name == name,
            Participant.connection == Connection.REMOTE,
        )
        .order_by(Participant.id)
        .limit(1)
    )
    if found is not None:
        if registered is not None and found.registered_interpreter_id != registered:
            raise InvalidInput(
                f"{name} is already in the hearing, not linked to register entry {registered}:"
                " remove them first, or leave out --registered.",
                field="registered",
            )
        return found
    return issuing.add_remote_party(
        db,
        OPERATOR,
        hearing_id,
        role,
        name,
        language=args.language,
        contact=args.contact or "",
        registered_interpreter_id=registered,
    )


def cmd_issue(cmd: Command) -> int:
    hearing_id = _id(cmd.args.hearing, "hearing")
    target = _ics_target(cmd.args.ics)
    now = utcnow()
    with cmd.services() as svc:

        def issue(db: Session) -> tuple[issuing.Issued, invitation.InvitationFacts]:
            party = _party_for(cmd, db, hearing_id)
            issued = issuing.issue_code(
                db,
                svc.keys,
                OPERATOR,
                hearing_id,
                party.id,
                now=now,
                early_minutes=cmd.settings.remote_code_early_minutes,
            )
            facts = issuing.invitation_facts(
                db, issued, gateway_base_url=cmd.settings.gateway_base_url, tz=cmd.settings.timezone, now=now
            )
            return issued, facts

        issued, facts = svc.unit_of_work(issue)
    out(f"hearing {hearing_id}: code issued for {issued.seat} (shown once; the server keeps only a keyed hash)")
    if issued.reissued:
        out("  (a new code: the earlier one no longer works)")
    out(f"  code:       {codes.grouped(issued.code)}")
    out(f"  join:       {facts.join_url}")
    out(
        f"  valid:      {_local(issued.valid_from, cmd)} to {_local(issued.valid_until, cmd)}"
        f" ({cmd.settings.court_timezone})"
    )
    out()
    out(invitation.text(facts))
    if target is not None:
        target.write_bytes(invitation.ics(facts))
        out(f"calendar file (without the code) written to {target}")
    return 0


def cmd_revoke(cmd: Command) -> int:
    hearing_id, party = _id(cmd.args.hearing, "hearing"), _id(cmd.args.participant, "participant")
    cmd.unit(lambda db: issuing.revoke_code(db, OPERATOR, hearing_id, party, now=utcnow()))
    out(f"hearing {hearing_id}: the code of participant {party} is revoked")
    return 0


def cmd_remove(cmd: Command) -> int:
    hearing_id, party = _id(cmd.args.hearing, "hearing"), _id(cmd.args.participant, "participant")
    cmd.unit(lambda db: issuing.remove_remote_party(db, OPERATOR, hearing_id, party))
    out(f"hearing {hearing_id}: participant {party} removed, with their codes and sessions")
    return 0


def cmd_list(cmd: Command) -> int:
    hearing_id = _id(cmd.args.hearing, "hearing")
    parties = cmd.unit(lambda db: issuing.remote_parties(db, hearing_id, now=utcnow()))
    if cmd.args.json:
        rows = [
            {
                "participant_id": p.participant_id,
                "role": p.role.value,
                "name": p.name,
                "language": p.language,
                "seat": p.seat,
                "code_state": p.code_state,
                "invitation": p.invitation,
                "valid_from": p.valid_from.isoformat() if p.valid_from else None,
                "valid_until": p.valid_until.isoformat() if p.valid_until else None,
                "registered_interpreter_id": p.registered_interpreter_id,
                "totp_ready": p.totp_ready,
            }
            for p in parties
        ]
        out(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not parties:
        out(f"hearing {hearing_id} has no remote parties")
    for p in parties:
        language = f" ({p.language})" if p.language else ""
        window = f"  {_local(p.valid_from, cmd)}–{_local(p.valid_until, cmd)}" if p.valid_from and p.valid_until else ""
        totp = "  totp" if p.totp_ready else ""
        out(f"{p.participant_id:>5}  {p.seat:<16} {p.name}{language}  code: {p.code_state}{window}{totp}")
    return 0


def cmd_require_totp(cmd: Command) -> int:
    hearing_id, on = _id(cmd.args.hearing, "hearing"), cmd.args.setting == "on"
    cmd.unit(lambda db: issuing.set_require_totp(db, OPERATOR, hearing_id, on))
    said = "need" if on else "do not need"
    out(f"hearing {hearing_id}: registered interpreters {said} their authenticator (TOTP) after the code")
    return 0


def cmd_register(cmd: Command) -> int:
    args = cmd.args
    entry_id = cmd.unit(
        lambda db: (
            court_register.register(
                db, OPERATOR, name=args.name, languages=args.languages, contact=args.contact or "", now=utcnow()
            ).id
        )
    )
    out(f"interpreter {entry_id} registered: {args.name}")
    return 0


def cmd_enrol_totp(cmd: Command) -> int:
    entry_id = _id(cmd.args.id, "interpreter")
    with cmd.services() as svc:
        enrolment = svc.unit_of_work(lambda db: court_register.begin_totp(db, svc.keys, OPERATOR, entry_id))
    out(f"interpreter {entry_id}: scan this with the interpreter's authenticator app (shown once):")
    qr = io.StringIO()
    segno.make(enrolment.provisioning_uri, error="m").terminal(out=qr, compact=True)
    out(qr.getvalue().rstrip("\n"))
    out(enrolment.provisioning_uri)
    out(f"then confirm with the app's current code: hearing interpreter confirm-totp {entry_id} CODE")
    return 0


def cmd_confirm_totp(cmd: Command) -> int:
    entry_id = _id(cmd.args.id, "interpreter")
    with cmd.services() as svc:
        svc.unit_of_work(
            lambda db: court_register.confirm_totp(db, svc.keys, OPERATOR, entry_id, cmd.args.code, now=utcnow())
        )
    out(f"interpreter {entry_id}: authenticator confirmed")
    return 0


def cmd_interpreters(cmd: Command) -> int:
    entries = cmd.unit(court_register.entries)
    if not entries:
        out("no registered interpreters")
    for e in entries:
        state = "off the register" if e.disabled else ("totp" if e.totp_confirmed else "no totp")
        out(f"{e.id:>5}  {e.name:<30} {e.languages:<30} {state}")
    return 0


def cmd_disable(cmd: Command) -> int:
    entry_id = _id(cmd.args.id, "interpreter")
    cmd.unit(lambda db: court_register.disable(db, OPERATOR, entry_id, now=utcnow()))
    out(f"interpreter {entry_id} is off the register; their authenticator no longer counts")
    return 0


def register(commands: Subcommands) -> None:
    remote = commands.add_parser("remote", help="remote parties and their one-time codes").add_subparsers(
        dest="remote_command", required=True
    )
    p = remote.add_parser("issue", help="add a remote party (or find them) and issue a one-time code")
    p.add_argument("--hearing", required=True, help="the hearing's id")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--name", required=True)
    p.add_argument("--language", help="the interpreter's language (default: the booking's)")
    p.add_argument("--contact", help="how the court reaches them (e-mail, phone)")
    p.add_argument("--registered", help="the id of the interpreter's entry on the court's register")
    p.add_argument("--ics", help="write the calendar file (without the code) here")
    p.set_defaults(run=cmd_issue)
    for name, run, text in (
        ("revoke", cmd_revoke, "revoke a party's live code"),
        ("remove", cmd_remove, "remove a remote party from the hearing"),
    ):
        p = remote.add_parser(name, help=text)
        p.add_argument("--hearing", required=True)
        p.add_argument("--participant", required=True, help="the party's participant id (see remote list)")
        p.set_defaults(run=run)
    p = remote.add_parser("list", help="a hearing's remote parties and the state of their codes (never a code)")
    p.add_argument("--hearing", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_list)
    p = remote.add_parser("require-totp", help="whether registered interpreters need their TOTP after the code")
    p.add_argument("--hearing", required=True)
    p.add_argument("setting", choices=["on", "off"])
    p.set_defaults(run=cmd_require_totp)

    interpreters = commands.add_parser("interpreter", help="the court's register of interpreters").add_subparsers(
        dest="interpreter_command", required=True
    )
    p = interpreters.add_parser("register", help="put an interpreter on the register")
    p.add_argument("--name", required=True)
    p.add_argument("--languages", required=True, help="comma-separated, e.g. 'arabisk, fransk'")
    p.add_argument("--contact")
    p.set_defaults(run=cmd_register)
    p = interpreters.add_parser("enrol-totp", help="a new authenticator secret: prints its QR code and URI")
    p.add_argument("id")
    p.set_defaults(run=cmd_enrol_totp)
    p = interpreters.add_parser("confirm-totp", help="confirm the authenticator with its current code")
    p.add_argument("id")
    p.add_argument("code")
    p.set_defaults(run=cmd_confirm_totp)
    p = interpreters.add_parser("list", help="the register")
    p.set_defaults(run=cmd_interpreters)
    p = interpreters.add_parser("disable", help="take an interpreter off the register")
    p.add_argument("id")
    p.set_defaults(run=cmd_disable)
