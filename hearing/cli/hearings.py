"""`hearing schedule` and `hearing hearings list`: the docket."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hearing.cli.common import OPERATOR, Command, Subcommands, out
from hearing.docket import booking, sites
from hearing.docket.parties import Connection, HearingKind
from hearing.docket.summary import HearingSummary, jsonable, summarise


def cmd_schedule(cmd: Command) -> int:
    args = cmd.args
    tz = cmd.settings.timezone

    def book(db: Session) -> tuple[int, datetime]:
        fields = {
            "case_number": args.case,
            "kind": args.kind,
            "start": args.start,
            "minutes": args.minutes,
            "courtroom_id": str(sites.courtroom_named(db, args.courtroom).id),
            "facility_id": str(sites.facility_named(db, args.facility).id),
            "detainee_name": args.detainee_name,
            "detainee_reference": args.detainee_ref,
            "interpreter_language": args.interpreter or "",
            "prosecutor": args.prosecutor or "",
            "defence_counsel": args.defence or "",
            "defence_connection": args.defence_from,
        }
        request = booking.BookingRequest.from_fields(fields, tz)
        hearing = booking.book(db, OPERATOR, request, horizon=timedelta(days=cmd.settings.booking_horizon_days))
        return hearing.id, hearing.scheduled_start

    hearing_id, start = cmd.unit(book)
    out(f"hearing {hearing_id} booked for {start.astimezone(tz):%Y-%m-%d %H:%M} ({cmd.settings.court_timezone})")
    return 0


def _row(h: HearingSummary) -> dict[str, object]:
    # The keys of `hearings list --json`, which scripts read: keep them.
    return jsonable(
        {
            "id": h["id"],
            "case_number": h["case_number"],
            "start": h["start"],
            "end": h["end"],
            "courtroom": h["courtroom"],
            "facility": h["facility"],
            "state": h["state"],
        }
    )


def cmd_list(cmd: Command) -> int:
    args = cmd.args
    tz = cmd.settings.timezone
    day = booking.court_day(args.day, tz)

    def load(db: Session) -> list[HearingSummary]:
        # A misspelt courtroom is an error, not an empty day.
        room = sites.courtroom_named(db, args.courtroom).id if args.courtroom else None
        scope = booking.OperatorScope(courtroom_id=room)
        return [summarise(h, tz) for h in booking.day_docket(db, day, tz, scope=scope)]

    hearings = cmd.unit(load)
    if args.json:
        out(json.dumps([_row(h) for h in hearings], indent=2))
        return 0
    if not hearings:
        out(f"no hearings on {day}")
    for h in hearings:
        out(
            f"{h['id']:>5}  {h['start']:%H:%M}  {h['case_number']:<20} "
            f"{h['courtroom']:<16} {h['facility']:<20} {h['state']}"
        )
    return 0


def register(commands: Subcommands) -> None:
    p = commands.add_parser("schedule", help="book a hearing")
    p.add_argument("--case", required=True, help="case number")
    p.add_argument("--kind", default=HearingKind.REMAND_EXTENSION.value, choices=[k.value for k in HearingKind])
    p.add_argument("--courtroom", required=True)
    p.add_argument("--facility", required=True)
    p.add_argument("--start", required=True, help="court local time, e.g. 2026-11-23T10:30")
    # Read as text, as the form reads it: argparse's int() takes '٣٠' and '3_0'.
    p.add_argument("--minutes", default="30")
    p.add_argument("--detainee-name", required=True)
    p.add_argument("--detainee-ref", required=True)
    p.add_argument("--interpreter", help="interpreter language, if any")
    p.add_argument("--prosecutor")
    p.add_argument("--defence")
    p.add_argument("--defence-from", default=Connection.COURTROOM.value, choices=[c.value for c in Connection])
    p.set_defaults(run=cmd_schedule)

    hearings = commands.add_parser("hearings", help="the docket").add_subparsers(dest="hearings_command", required=True)
    p = hearings.add_parser("list", help="list one day's hearings")
    p.add_argument("--day", help="YYYY-MM-DD, court local time (default today)")
    p.add_argument("--courtroom")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_list)
