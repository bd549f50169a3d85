"""The docket in the browser: the day's hearings, booking, the judge's controls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hearing.auth.permissions import Permission
from hearing.clock import utcnow
from hearing.custody import calls, desk
from hearing.db.models import Courtroom, CustodyFacility, StaffUser
from hearing.docket import booking, proceedings
from hearing.docket.lifecycle import LIVE_STATES, HearingState, Transition, available
from hearing.docket.parties import Connection, HearingKind
from hearing.docket.summary import HearingSummary, summarise
from hearing.errors import InvalidInput, NotFound, ScheduleConflict
from hearing.recording import service as recording_service
from hearing.speaker_order import presiding
from hearing.speaker_order.floor import Floor
from hearing.web import language, remote_view
from hearing.web.errors import wants_json
from hearing.web.pages import read_form, render
from hearing.web.routing import Audience, live_hearings, route, services, staff

# What the panel's script needs to say things in the chosen language.
PANEL_TEXT = ("panel.", "seat.", "role.", "transition.", "state.")
MEDIA_TEXT = ("media.",)
CHECK_IN_TEXT = ("checkin.",)
LINK_TEXT = ("link.", "seat.")


async def docket(request: Request) -> Response:
    principal = staff(request)
    svc = services(request)
    tz = svc.settings.timezone
    day = booking.court_day(request.query_params.get("day"), tz)

    def load(db: Session) -> tuple[list[HearingSummary], dict[int, desk.CheckInView]]:
        user = db.get_one(StaffUser, principal.user_id)
        hearings = [summarise(h, tz) for h in booking.day_docket(db, day, tz, scope=user)]
        return hearings, desk.check_ins(db, [h["id"] for h in hearings], tz)

    hearings, check_ins = await svc.read(load)
    return render(request, "docket.html", {"day": day, "hearings": hearings, "check_ins": check_ins})


async def _booking_choices(request: Request) -> dict[str, Any]:
    def load(db: Session) -> dict[str, Any]:
        return {
            "courtrooms": [(c.id, c.name) for c in db.scalars(select(Courtroom).order_by(Courtroom.name))],
            "facilities": [(f.id, f.name) for f in db.scalars(select(CustodyFacility).order_by(CustodyFacility.name))],
            "kinds": [k.value for k in HearingKind],
            "connections": [c.value for c in Connection],
        }

    return await services(request).run(load)


async def booking_form(request: Request) -> Response:
    return render(request, "book.html", {**await _booking_choices(request), "values": {}, "error": None})


async def book(request: Request) -> Response:
    principal = staff(request)
    fields = await read_form(request)
    svc = services(request)
    try:
        booking_request = booking.BookingRequest.from_fields(fields, svc.settings.timezone)
        horizon = timedelta(days=svc.settings.booking_horizon_days)
        hearing_id = await svc.run(lambda db: booking.book(db, principal.actor, booking_request, horizon=horizon).id)
    except (InvalidInput, NotFound, ScheduleConflict) as exc:
        context = {
            **await _booking_choices(request),
            "values": fields,
            "error": exc.message,
            "field": getattr(exc, "field", None),
        }
        return render(request, "book.html", context, status=exc.status)
    return RedirectResponse(f"/hearings/{hearing_id}", status_code=303)


async def hearing_page(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    svc = services(request)

    def load(db: Session) -> dict[str, Any]:
        user = db.get_one(StaffUser, principal.user_id)
        h = booking.visible_hearing(db, user, hearing_id)
        return {
            "hearing": summarise(h, svc.settings.timezone),
            "participants": [
                {"role": p.role.value, "name": p.display_name, "connection": p.connection.value} for p in h.participants
            ],
            "transitions": [t.value for t in available(h.state)] if principal.can(Permission.CONDUCT_HEARING) else [],
            # The judge joins the video link from here while the hearing is live.
            "media": principal.can(Permission.CONDUCT_HEARING) and h.state in LIVE_STATES,
            # The speaker-order panel: the judge's to use, for court staff to
            # follow; the custody officer has the console instead (/custody).
            "panel": h.state in LIVE_STATES and not principal.can(Permission.KEEP_CUSTODY),
            "check_in": desk.check_in_of(db, h.id, svc.settings.timezone),
            "can_act": principal.can(Permission.CONDUCT_HEARING),
            # The consultation may include the interpreter where there is one.
            "interpreter_seat": bool(presiding.interpreter_seats(presiding.current(db, h))),
            # issue 11: the custody room's newest test call, for the clerk and the judge.
            "test_call": calls.newest_for_hearing(db, h, svc.settings.timezone),
            # issue 12, pages: the clerk's remote parties.
            "remote": remote_view.section(db, h, svc.settings.timezone, utcnow())
            if principal.can(Permission.INVITE_REMOTE)
            else None,
            # issue 14: its recordings, and who may take them out.
            "recordings": recording_service.listed(db, h.id),
            "can_export": principal.can(Permission.EXPORT_RECORDING),
        }

    lang = language.language(request)
    context = {
        **await svc.read(load),
        "panel_text": language.texts(lang, PANEL_TEXT),
        "media_text": language.texts(lang, MEDIA_TEXT),
        "check_in_text": language.texts(lang, CHECK_IN_TEXT),
        "link_text": language.texts(lang, LINK_TEXT),
        "cameras_text": language.texts(lang, language.CAMERAS_TEXT),  # issue 13, cameras
        "recording_text": language.texts(lang, language.RECORDING_TEXT),  # issue 14
        # The notices' clock times are the court's, as every time on the page.
        "court_timezone": svc.settings.court_timezone,
    }
    return render(request, "hearing.html", context)


def _checkbox(value: str | None, field: str) -> bool:
    """A checkbox as a browser sends it (absent, or "on"); anything else is refused."""
    if value is None or value == "":
        return False
    if value in ("on", "true", "1"):
        return True
    raise InvalidInput("A checkbox is either ticked or not.", field=field)


async def transition(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    fields = await read_form(request)
    try:
        chosen = Transition(fields.get("action", ""))
    except ValueError:
        raise InvalidInput("Unknown hearing action.", field="action") from None
    include_interpreter = _checkbox(fields.get("include_interpreter"), "include_interpreter")
    svc = services(request)

    def move(db: Session) -> tuple[HearingState, Floor]:
        judge = db.get_one(StaffUser, principal.user_id)
        moved = proceedings.transition(
            db, judge, principal.actor, hearing_id, chosen, utcnow(), include_interpreter=include_interpreter
        )
        return moved.state, presiding.current(db, moved)

    state, floor = await svc.run(move)
    hearings = live_hearings(request)
    if state in LIVE_STATES:
        # A consultation's members are cut off at once: the floor says who.
        live = await hearings.open(hearing_id, floor, state)
        live.lifecycle_moved(state)
    else:
        await hearings.end(hearing_id, state)  # everyone is told, and disconnected
    if wants_json(request):
        # The panel's controls: the page stays, and with it the judge's video link.
        return JSONResponse({"state": state.value, "transitions": [t.value for t in available(state)]})
    return RedirectResponse(f"/hearings/{hearing_id}", status_code=303)


ROUTES = [
    route("/hearings", docket, audience=Audience.STAFF, permission=Permission.VIEW_HEARINGS),
    route("/hearings/new", booking_form, audience=Audience.STAFF, permission=Permission.BOOK_HEARINGS),
    route("/hearings", book, audience=Audience.STAFF, permission=Permission.BOOK_HEARINGS, methods=["POST"]),
    route("/hearings/{hearing_id:id}", hearing_page, audience=Audience.STAFF, permission=Permission.VIEW_HEARINGS),
    route(
        "/hearings/{hearing_id:id}/transition",
        transition,
        audience=Audience.STAFF,
        permission=Permission.CONDUCT_HEARING,
        methods=["POST"],
    ),
]
