"""The custody officer's console: `/custody`, its live status, and its forms.

The officer of one facility sees that facility's hearings of the day, and
for each the hearing room (its kiosk), whether the kiosk answers and is
connected to the hearing, its newest test call and the check-in. Every form
works without script (a redirect back to the console); custody.js submits
them with `Accept: application/json` and refreshes the status parts from
`/api/custody/today` every two seconds. Asking a kiosk for something
(connect, test call) goes through the kiosk's own socket
(hearing/custody/presence.py); the kiosk answers the rest itself.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hearing.auth.permissions import Permission
from hearing.clock import utcnow
from hearing.custody import desk
from hearing.custody.checkin import CheckInForm
from hearing.db.models import StaffUser
from hearing.docket import booking
from hearing.docket.lifecycle import LIVE_STATES
from hearing.errors import HearingNotOpen, KioskInHearing, KioskOffline, UnknownRoom
from hearing.fields import ID_DIGITS, whole_number
from hearing.routing import seats
from hearing.web import language
from hearing.web.errors import wants_json
from hearing.web.pages import read_form, render
from hearing.web.routing import (
    Audience,
    GuardedRoute,
    Handler,
    endpoint_presence,
    live_hearings,
    route,
    running_test_calls,
    services,
    staff,
)

logger = logging.getLogger(__name__)

# What custody.js needs to say things in the chosen language.
CONSOLE_TEXT = ("custody.", "checkin.", "state.")


async def _day(request: Request) -> desk.DeskDay:
    principal = staff(request)
    svc = services(request)
    tz = svc.settings.timezone
    today = booking.court_day(None, tz)
    return await svc.read(lambda db: desk.officer_day(db, db.get_one(StaffUser, principal.user_id), today, tz))


def _status(request: Request, hearing: desk.DeskHearing) -> dict[str, Any]:
    """The parts of a hearing's card that change by themselves: the state,
    the kiosk's presence and link, the newest test call, the check-in."""
    hearing_id = hearing.summary["id"]
    live = live_hearings(request).get(hearing_id)
    room = hearing.room
    return {
        "id": hearing_id,
        "state": hearing.summary["state"],
        "room": room.id if room is not None else None,
        "room_name": room.name if room is not None else None,
        "kiosk_online": endpoint_presence(request).online(room.id) if room is not None else None,
        # Its page is on the test call (not on its own socket): it is there, and busy.
        "kiosk_testing": room is not None and room.id in running_test_calls(request),
        "kiosk_connected": live is not None and seats.CUSTODY in live.connected,
        "test_call": hearing.test_call,
        "check_in": hearing.check_in,
    }


async def console(request: Request) -> Response:
    day = await _day(request)
    lang = language.language(request)
    cards = [{"hearing": h, "status": _status(request, h)} for h in day.hearings]
    context = {"day": day, "cards": cards, "console_text": language.texts(lang, CONSOLE_TEXT)}
    return render(request, "custody_console.html", context)


async def today(request: Request) -> Response:
    day = await _day(request)
    # Status only: the detainee's name and reference stay on the page.
    return JSONResponse(
        {
            "day": day.day.isoformat(),
            "rooms": [{"id": r.id, "name": r.name} for r in day.rooms],
            "hearings": [_status(request, h) for h in day.hearings],
        }
    )


def _answer(request: Request, hearing_id: int, body: dict[str, Any]) -> Response:
    if wants_json(request):
        return JSONResponse(body)
    return RedirectResponse(f"/custody#hearing-{hearing_id}", status_code=303)


async def check_in(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    form = CheckInForm.from_fields(await read_form(request))
    svc = services(request)
    tz = svc.settings.timezone
    now = utcnow()

    def record(db: Session) -> desk.CheckInView:
        officer = db.get_one(StaffUser, principal.user_id)
        return desk.check_in(db, officer, principal.actor, hearing_id, form, now, tz)

    view = await svc.run(record)
    live = live_hearings(request).get(hearing_id)
    if live is not None:
        live.checked_in(dict(view))
    return _answer(request, hearing_id, {"check_in": view})


def _room_choice(fields: dict[str, str]) -> int | None:
    raw = fields.get("endpoint_id", "").strip(" ")
    if not raw:
        return None  # no assignment: any kiosk of the facility may join
    if len(raw) > ID_DIGITS:
        raise UnknownRoom(field="endpoint_id")  # an id that long names nothing
    return whole_number(raw, field="endpoint_id", label="The hearing room")


async def assign_room(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    endpoint_id = _room_choice(await read_form(request))

    def assign(db: Session) -> desk.Room | None:
        officer = db.get_one(StaffUser, principal.user_id)
        return desk.assign_room(db, officer, principal.actor, hearing_id, endpoint_id)

    room = await services(request).run(assign)
    body = {"room": room.id if room is not None else None, "room_name": room.name if room is not None else None}
    return _answer(request, hearing_id, body)


async def _kiosk_of(request: Request) -> tuple[int, int, bool]:
    """The assigned room's endpoint for a request to its kiosk, whether the
    hearing is live, and the hearing; after the form's CSRF check."""
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    await read_form(request)

    def load(db: Session) -> tuple[int, bool]:
        endpoint_id, state = desk.assigned_room(db, db.get_one(StaffUser, principal.user_id), hearing_id)
        return endpoint_id, state in LIVE_STATES

    endpoint_id, live = await services(request).read(load)
    return hearing_id, endpoint_id, live


async def connect(request: Request) -> Response:
    hearing_id, endpoint_id, live = await _kiosk_of(request)
    if not live:
        raise HearingNotOpen("The hearing is not open yet: the kiosk can connect once the judge opens it.")
    if not endpoint_presence(request).tell(endpoint_id, {"type": "connect", "hearing": hearing_id}):
        raise KioskOffline()
    logger.info("custody console: asked endpoint %d to connect to hearing %d", endpoint_id, hearing_id)
    return _answer(request, hearing_id, {"told": "connect", "endpoint": endpoint_id})


async def test_call(request: Request) -> Response:
    hearing_id, endpoint_id, _ = await _kiosk_of(request)
    running = live_hearings(request).get(hearing_id)
    if running is not None and seats.CUSTODY in running.connected:
        raise KioskInHearing()
    if not endpoint_presence(request).tell(endpoint_id, {"type": "test_call"}):
        raise KioskOffline()
    logger.info("custody console: asked endpoint %d for a test call", endpoint_id)
    return _answer(request, hearing_id, {"told": "test_call", "endpoint": endpoint_id})


def _post(path: str, handler: Handler) -> GuardedRoute:
    return route(path, handler, audience=Audience.STAFF, permission=Permission.KEEP_CUSTODY, methods=["POST"])


ROUTES = [
    route("/custody", console, audience=Audience.STAFF, permission=Permission.KEEP_CUSTODY),
    route("/api/custody/today", today, audience=Audience.STAFF, permission=Permission.KEEP_CUSTODY),
    _post("/custody/hearings/{hearing_id:id}/check-in", check_in),
    _post("/custody/hearings/{hearing_id:id}/room", assign_room),
    _post("/custody/hearings/{hearing_id:id}/connect", connect),
    _post("/custody/hearings/{hearing_id:id}/test-call", test_call),
]
