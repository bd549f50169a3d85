"""What enrolled devices reach: kiosk enrollment, their own site's hearings,
and the kiosk itself: the full-screen page `/device` (custody and booth
devices) and its socket `/ws/device`, the kiosk's heartbeat
(hearing/custody/presence.py) and its docket, pushed when it changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket

from hearing.auth import devices
from hearing.clock import utcnow
from hearing.custody import kiosk
from hearing.db.models import Endpoint, Hearing
from hearing.docket import booking
from hearing.docket.parties import EndpointKind
from hearing.docket.summary import HearingSummary, jsonable, summarise
from hearing.errors import HearingNotFound
from hearing.media import signaling
from hearing.routing import seats
from hearing.web import language
from hearing.web.pages import read_form, render
from hearing.web.routing import (
    Audience,
    DevicePrincipal,
    cookie_names,
    device,
    endpoint_presence,
    limit_guessing,
    route,
    services,
    set_cookie,
)
from hearing.web.sockets import LEAVE, ClientLoop, Reply, identity, socket_route, socket_watch

logger = logging.getLogger(__name__)

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


async def _today_at_site(request: HTTPConnection, principal: DevicePrincipal) -> list[HearingSummary]:
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


# What the kiosk page's script needs to say things, in both languages: a
# language switch on the kiosk never reloads the page (and its media link).
KIOSK_TEXT = ("kiosk.",)
# The kiosk pings every 2 s; silence for longer than this closes its socket.
KIOSK_LIVENESS_SECONDS = 5.0
KIOSK_OUTBOX = 16
# How often an open kiosk socket re-reads its site's docket (read-only), so
# that the kiosk learns within this that its hearing opened.
DOCKET_SECONDS = 2.0


async def kiosk_home(request: Request) -> Response:
    principal = device(request)
    hearings = await _today_at_site(request, principal)
    lang = language.kiosk_language(request)
    context = {
        "lang": lang,
        "t": language.translator(lang),
        "device_name": principal.name,
        "seat": seats.seat_for_device(EndpointKind(principal.kind)),
        "docket": kiosk.docket_message(hearings),
        "kiosk_text": {code: language.texts(code, KIOSK_TEXT) for code in language.LANGUAGES},
    }
    return render(request, "kiosk.html", context)


class DocketFollower:
    """Re-reads one kiosk's docket every DOCKET_SECONDS while its socket is
    open and tells the kiosk when it changed (a hearing opened, paused,
    ended). Started once; stopped with the socket, between two reads: a
    read in a worker thread is never abandoned half way (its connection
    would outlive the pool)."""

    def __init__(self, read: Callable[[], Awaitable[kiosk.Message]], client: ClientLoop, told: kiosk.Message) -> None:
        self._read = read
        self._client = client
        self._told = told
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def __repr__(self) -> str:
        return f"DocketFollower({self._client.name})"

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=repr(self))

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                self._task.cancel()
                raise
            finally:
                self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DOCKET_SECONDS):  # not wait_for: see hearing/media/room.py
                    await self._stopping.wait()
            if self._stopping.is_set():
                return
            try:
                docket = await self._read()
            except Exception:  # a database hiccup: the next round tries again
                logger.warning("%r: could not read the docket", self, exc_info=True)
                continue
            if docket != self._told:
                self._told = docket
                self._client.deliver(docket)


async def kiosk_socket(websocket: WebSocket) -> None:
    principal: DevicePrincipal = websocket.state.principal
    presence = endpoint_presence(websocket)

    async def read() -> kiosk.Message:
        return kiosk.docket_message(await _today_at_site(websocket, principal))

    docket = await read()
    client = ClientLoop(
        websocket, name=f"kiosk {principal.name}", queue_size=KIOSK_OUTBOX, liveness=KIOSK_LIVENESS_SECONDS
    )
    welcome = {
        "type": "welcome",
        "device": principal.name,
        "kind": principal.kind,
        "seat": seats.seat_for_device(EndpointKind(principal.kind)),
        "hearings": docket["hearings"],
    }

    async def handle(raw: str | bytes) -> Reply:
        match kiosk.parse(raw):
            case signaling.Ping(nonce=nonce):
                presence.heard_from(principal.endpoint_id)
                return {"type": "pong", "nonce": nonce}
            case signaling.Leave():
                return LEAVE

    follower = DocketFollower(read, client, docket)
    presence.connected(principal.endpoint_id, client)
    reason = "disconnected"
    try:
        with socket_watch(websocket).watching(identity(websocket), client):
            follower.start()
            reason = await client.run(welcome, handle)
    finally:
        await follower.stop()
        presence.disconnected(principal.endpoint_id, client)
        await client.close(reason)


ROUTES = [
    route("/device/enroll", enroll_page, audience=Audience.PUBLIC),
    route("/device/enroll", enroll_submit, audience=Audience.PUBLIC, methods=["POST"], name="enroll_submit"),
    route("/device", kiosk_home, audience=Audience.DEVICE),
    route("/api/device/hearings", device_hearings, audience=Audience.DEVICE),
    route("/api/device/hearings/{hearing_id:id}", device_hearing, audience=Audience.DEVICE),
    socket_route("/ws/device", kiosk_socket, audience=Audience.DEVICE, name="kiosk_socket"),
]
