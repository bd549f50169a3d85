"""What enrolled devices reach: kiosk enrollment and their own site's hearings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hearing.auth import devices
from hearing.clock import utcnow
from hearing.db.models import Endpoint, Hearing
from hearing.docket.booking import local_day_bounds
from hearing.docket.parties import EndpointKind
from hearing.errors import HearingNotFound
from hearing.web.pages import read_form, render
from hearing.web.routing import (
    DEVICE_COOKIE,
    Audience,
    DevicePrincipal,
    device,
    limit_guessing,
    route,
    services,
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
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_SECONDS,
        httponly=True,
        secure=svc.settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return response


def _hearing_json(h: Hearing) -> dict[str, Any]:
    return {
        "id": h.id,
        "case_number": h.case_number,
        "state": h.state.value,
        "scheduled_start": h.scheduled_start.isoformat(),
        "scheduled_end": h.scheduled_end.isoformat(),
        "courtroom": h.courtroom.name,
        "facility": h.facility.name,
    }


async def _today_at_site(request: Request, principal: DevicePrincipal) -> list[dict[str, Any]]:
    svc = services(request)
    today = utcnow().astimezone(svc.settings.timezone).date()
    start, end = local_day_bounds(today, svc.settings.timezone)

    def load(db: Session) -> list[dict[str, Any]]:
        endpoint = db.get_one(Endpoint, principal.endpoint_id)
        site = (
            Hearing.courtroom_id == endpoint.courtroom_id
            if endpoint.kind is EndpointKind.COURTROOM
            else Hearing.facility_id == endpoint.facility_id
        )
        query = select(Hearing).where(site, Hearing.scheduled_start >= start, Hearing.scheduled_start < end)
        return [_hearing_json(h) for h in db.scalars(query.order_by(Hearing.scheduled_start))]

    return await svc.run(load)


async def device_hearings(request: Request) -> Response:
    principal = device(request)
    return JSONResponse({"device": principal.name, "hearings": await _today_at_site(request, principal)})


async def device_hearing(request: Request) -> Response:
    principal = device(request)
    hearing_id: int = request.path_params["hearing_id"]

    def load(db: Session) -> dict[str, Any]:
        endpoint = db.get_one(Endpoint, principal.endpoint_id)
        hearing = db.get(Hearing, hearing_id)
        if hearing is None:
            raise HearingNotFound()
        devices.check_site(endpoint, hearing)
        return _hearing_json(hearing)

    return JSONResponse(await services(request).run(load))


async def kiosk_home(request: Request) -> Response:
    principal = device(request)
    tz = services(request).settings.timezone
    hearings = [
        {**h, "local_start": datetime.fromisoformat(h["scheduled_start"]).astimezone(tz)}
        for h in await _today_at_site(request, principal)
    ]
    return render(request, "kiosk.html", {"device_name": principal.name, "hearings": hearings})


ROUTES = [
    route("/device/enroll", enroll_page, audience=Audience.PUBLIC),
    route("/device/enroll", enroll_submit, audience=Audience.PUBLIC, methods=["POST"], name="enroll_submit"),
    route("/device", kiosk_home, audience=Audience.DEVICE),
    route("/api/device/hearings", device_hearings, audience=Audience.DEVICE),
    route("/api/device/hearings/{hearing_id:int}", device_hearing, audience=Audience.DEVICE),
]
