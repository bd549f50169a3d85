"""What enrolled devices reach: kiosk enrollment and their own site's hearings."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hearing.auth import devices
from hearing.clock import utcnow
from hearing.db.models import Endpoint, Hearing
from hearing.docket import booking
from hearing.docket.summary import HearingSummary, jsonable, summarise
from hearing.errors import HearingNotFound
from hearing.web.pages import read_form, render
from hearing.web.routing import (
    Audience,
    DevicePrincipal,
    cookie_names,
    device,
    limit_guessing,
    route,
    services,
    set_cookie,
)

# A kiosk stays enrolled until revoked; the cookie outlives any session.
DEVICE_COOKIE_SECONDS = 400 * 24 * 3600


async def enroll_page(request: Request) -> Response:
    # Showing the page does not use the code up: link scanners and previews
    # must not enroll anything. The button below does.
    code = request.query_params.get("code", "")
    return render(request, "device_enroll.html", {"code": code[: devices.TOKEN_MAX_LENGTH]})


async def enroll_submit(request: Request) -> Response:
    limit_guessing(request)
    fields = await read_form(request)
    svc = services(request)
    code = fields.get("code", "")

    def redeem(db: Session) -> tuple[str, str]:
        endpoint, token = devices.enroll_kiosk(db, svc.keys, code, utcnow())
        return endpoint.name, token

    name, token = await svc.run(redeem)
    response = render(request, "device_enrolled.html", {"name": name})
    set_cookie(request, response, cookie_names(request).device, token, max_age=DEVICE_COOKIE_SECONDS)
    return response


def _hearing_json(summary: HearingSummary) -> dict[str, object]:
    # The device API's shape (docs/protocol.md): times in UTC, no personal data.
    return jsonable(
        {
            "id": summary["id"],
            "case_number": summary["case_number"],
            "state": summary["state"],
            "scheduled_start": summary["start"],
            "scheduled_end": summary["end"],
            "courtroom": summary["courtroom"],
            "facility": summary["facility"],
        },
        UTC,
    )


async def _today_at_site(request: Request, principal: DevicePrincipal) -> list[HearingSummary]:
    svc = services(request)
    tz = svc.settings.timezone
    today = booking.court_day(None, tz)

    def load(db: Session) -> list[HearingSummary]:
        endpoint = db.get_one(Endpoint, principal.endpoint_id)
        return [summarise(h, tz) for h in booking.day_docket(db, today, tz, scope=endpoint)]

    return await svc.read(load)


async def device_hearings(request: Request) -> Response:
    principal = device(request)
    hearings = [_hearing_json(h) for h in await _today_at_site(request, principal)]
    return JSONResponse({"device": principal.name, "hearings": hearings})


async def device_hearing(request: Request) -> Response:
    principal = device(request)
    hearing_id: int = request.path_params["hearing_id"]
    svc = services(request)

    def load(db: Session) -> HearingSummary:
        endpoint = db.get_one(Endpoint, principal.endpoint_id)
        hearing = db.get(Hearing, hearing_id)
        if hearing is None:
            raise HearingNotFound()
        devices.check_site(endpoint, hearing)
        return summarise(hearing, svc.settings.timezone)

    return JSONResponse(_hearing_json(await svc.read(load)))


async def kiosk_home(request: Request) -> Response:
    principal = device(request)
    hearings = await _today_at_site(request, principal)
    return render(request, "kiosk.html", {"device_name": principal.name, "hearings": hearings})


ROUTES = [
    route("/device/enroll", enroll_page, audience=Audience.PUBLIC),
    route("/device/enroll", enroll_submit, audience=Audience.PUBLIC, methods=["POST"], name="enroll_submit"),
    route("/device", kiosk_home, audience=Audience.DEVICE),
    route("/api/device/hearings", device_hearings, audience=Audience.DEVICE),
    route("/api/device/hearings/{hearing_id:id}", device_hearing, audience=Audience.DEVICE),
]
