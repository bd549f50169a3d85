"""`hearing audit ...`: verify, checkpoint, read and shred the audit log."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from hearing.audit import log as audit_log
from hearing.audit import query, reader, retention, verify
from hearing.audit.actions import Action
from hearing.audit.keys import VERIFIER_FILE, load_verifier
from hearing.cli.common import OPERATOR, Command, Subcommands, out
from hearing.db.engine import create_db_engine
from hearing.errors import InvalidInput


def cmd_verify(cmd: Command) -> int:
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
        out(f"verified {report.size} entries against {report.checkpoints} signed checkpoints")
        out(f"root {report.root.hex()}")
        return 0
    where = str(report.first_bad) if report.first_bad is not None else f"at or before entry {report.size}"
    out(f"first bad entry: {where}")
    out(f"problem: {report.problem}")
    return 1


def cmd_checkpoint(cmd: Command) -> int:
    target = Path(cmd.args.out)

    def sign_and_export(db: Session) -> int:
        latest = audit_log.checkpoint(db)
        # Written before the commit: a failed export is not logged as done.
        try:
            target.write_text(latest.note, encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot write {target}: {exc}", field="out") from exc
        audit_log.append(db, OPERATOR, Action.AUDIT_CHECKPOINT_EXPORTED, size=latest.size)
        return latest.size

    size = cmd.unit(sign_and_export)
    out(f"checkpoint of size {size} written to {target}")
    return 0


def _say(entries: list[reader.ReadEntry], cmd: Command) -> None:
    tz = cmd.settings.timezone
    for item in entries:
        out(f"{item.seq:>7}  {item.at.astimezone(tz):%Y-%m-%d %H:%M:%S}  {item.in_words(cmd.args.lang, tz)}")


def cmd_show(cmd: Command) -> int:
    filters = {name: getattr(cmd.args, name) for name in query.FIELDS}
    if cmd.args.hearing is not None:
        used = [f"--{name}" for name, value in filters.items() if value is not None]
        if used:
            raise InvalidInput(f"{', '.join(used)} filter the system events: use them with --system", field="system")
        entries = cmd.unit(lambda db: reader.read(db, OPERATOR, cmd.args.hearing))
        _say(entries, cmd)
        if not entries:
            out(f"no audit entries for hearing {cmd.args.hearing}")
        return 0
    asked = query.parse(filters, cmd.settings.timezone)
    page = cmd.unit(lambda db: reader.read_system(db, OPERATOR, asked))
    _say(page.entries, cmd)
    if not page.entries:
        out("no system events match")
    if page.older is not None:
        out(f"older events: add --before {page.older}")
    return 0


def cmd_shred(cmd: Command) -> int:
    cmd.unit(lambda db: retention.shred(db, OPERATOR, cmd.args.hearing))
    out(f"audit key of hearing {cmd.args.hearing} destroyed; its entries still verify")
    return 0


def register(commands: Subcommands) -> None:
    audit = commands.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", help="verify the log with the public key only")
    p.add_argument("--checkpoint", action="append", help="an exported checkpoint file (repeatable)")
    p.add_argument("--public-key", help="verifier key file (default: <key_dir>/audit-signing.pub)")
    p.set_defaults(run=cmd_verify)
    p = audit.add_parser("checkpoint", help="sign the current tree head and export it")
    p.add_argument("--out", required=True, help="file to write the checkpoint to")
    p.set_defaults(run=cmd_checkpoint)
    p = audit.add_parser("show", help="a hearing's events, or the system's, in plain words (audited)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--hearing", type=int)
    which.add_argument(
        "--system",
        action="store_true",
        help="the system's events (sign-ins, refusals, devices, accounts), newest first",
    )
    p.add_argument("--lang", choices=["da", "en"], default="en", help="the language of the sentences")
    p.add_argument("--since", help="with --system: from this date or time (court time, YYYY-MM-DD[THH:MM])")
    p.add_argument("--until", help="with --system: to this date (the whole day) or time")
    p.add_argument("--actor", help="with --system: user:ID, device:ID, system, anonymous or a user name")
    p.add_argument("--action", help="with --system: one action, e.g. access.denied")
    p.add_argument("--before", help="with --system: events older than this entry (the next page)")
    p.add_argument("--limit", help=f"with --system: at most this many (default {query.DEFAULT_LIMIT})")
    p.set_defaults(run=cmd_show)
    p = audit.add_parser("shred", help="destroy a hearing's audit data key (retention)")
    p.add_argument("--hearing", type=int, required=True)
    p.set_defaults(run=cmd_shred)
