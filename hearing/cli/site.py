"""`hearing site ...`: courtrooms and custody facilities."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hearing.cli.common import OPERATOR, Command, Subcommands, out
from hearing.docket import sites


def cmd_add(cmd: Command) -> int:
    args = cmd.args

    def add(db: Session) -> None:
        if args.kind == "courtroom":
            court = sites.ensure_court(db, OPERATOR, args.court)
            sites.ensure_courtroom(db, OPERATOR, court, args.name)
        else:
            sites.ensure_facility(db, OPERATOR, args.name)

    cmd.unit(add)
    out(f"{args.kind} {args.name} ready")
    return 0


def cmd_pause_on_drop(cmd: Command) -> int:
    args = cmd.args
    pause = args.setting == "on"
    cmd.unit(lambda db: sites.set_pause_on_drop(db, OPERATOR, args.court, pause))
    out(f"court {args.court}: a hearing {'pauses' if pause else 'does not pause'} when the custody link drops")
    return 0


def register(commands: Subcommands) -> None:
    site = commands.add_parser("site", help="courtrooms and custody facilities").add_subparsers(
        dest="site_command", required=True
    )
    p = site.add_parser("add", help="add a courtroom or custody facility")
    p.add_argument("kind", choices=["courtroom", "facility"])
    p.add_argument("name")
    p.add_argument("--court", default="Court", help="the court a courtroom belongs to")
    p.set_defaults(run=cmd_add)
    p = site.add_parser(
        "pause-on-drop", help="whether a court's hearings pause by themselves when the custody or booth link drops"
    )
    p.add_argument("court", help="the court's name")
    p.add_argument("setting", choices=["on", "off"])
    p.set_defaults(run=cmd_pause_on_drop)
