"""`hearing keys ...`: the key files."""

from __future__ import annotations

from hearing.audit import retention
from hearing.audit.keys import KEK_FILE, VERIFIER_FILE, AuditKeys
from hearing.auth.keys import KeyRing
from hearing.cli.common import OPERATOR, Command, Subcommands, out


def cmd_init(cmd: Command) -> int:
    KeyRing.ensure(cmd.settings.key_dir)
    AuditKeys.ensure(cmd.settings.key_dir, cmd.settings.audit_origin)
    out(f"keys ready in {cmd.settings.key_dir}")
    out(f"audit verifier key (public; give it to whoever verifies the log): {cmd.settings.key_dir / VERIFIER_FILE}")
    return 0


def cmd_rotate_kek(cmd: Command) -> int:
    with cmd.services() as svc:
        audit_keys = svc.audit.keys
        pending = audit_keys.pending_kek()
        if pending is not None and svc.unit_of_work(lambda db: retention.rotation_done(db, pending)):
            out("completing an interrupted rotation")
        else:
            new = audit_keys.stage_new_kek()
            count = svc.unit_of_work(lambda db: retention.rewrap_all(db, OPERATOR, new))
            out(f"re-wrapped {count} audit data keys")
        audit_keys.commit_new_kek()
        svc.audit.forget_keys()
    out(f"new key-encryption key in place: {cmd.settings.key_dir / KEK_FILE} (back it up; the old one is gone)")
    return 0


def register(commands: Subcommands) -> None:
    keys = commands.add_parser("keys", help="key files").add_subparsers(dest="keys_command", required=True)
    keys.add_parser("init", help="create the key files if missing").set_defaults(run=cmd_init)
    keys.add_parser("rotate-kek", help="re-wrap every audit data key under a new KEK").set_defaults(run=cmd_rotate_kek)
