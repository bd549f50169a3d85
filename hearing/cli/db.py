"""`hearing db ...`: the database schema (alembic underneath)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from hearing.cli.common import Command, Subcommands, out
from hearing.db import migrate


def cmd_upgrade(cmd: Command) -> int:
    return _migrate(cmd, migrate.upgrade)


def cmd_downgrade(cmd: Command) -> int:
    return _migrate(cmd, migrate.downgrade)


def _migrate(cmd: Command, step: Callable[[Engine, str], None]) -> int:
    with cmd.services(create_keys=True) as svc:
        step(svc.engine, cmd.args.revision)
    out(f"database at {cmd.args.revision}")
    return 0


def register(commands: Subcommands) -> None:
    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="migrate up")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(run=cmd_upgrade)
    p = db.add_parser("downgrade", help="migrate down")
    p.add_argument("revision")
    p.set_defaults(run=cmd_downgrade)
