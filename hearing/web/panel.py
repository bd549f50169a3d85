"""The judge's speaker-order panel: the floor's commands, its snapshot, and
the live feed every open panel of a hearing listens to.

The server is authoritative. A command is one audited transaction
(hearing/speaker_order/presiding.py); once it commits, the live hearing
follows the new floor (the mixer at its next 20 ms tick) and tells every
panel and seat of the hearing, with its version. Each update carries the
whole floor, so a panel that sees a gap in the versions fetches a fresh
snapshot and loses nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket

from hearing import strict_json
from hearing.auth.permissions import Permission
from hearing.custody import desk
from hearing.db.models import Hearing, StaffUser
from hearing.docket import booking
from hearing.docket.lifecycle import LIVE_STATES, HearingState
from hearing.errors import HearingNotOpen, InvalidInput, UnknownCamera
from hearing.live.hearing import snapshot
from hearing.media import signaling
from hearing.speaker_order import commands, presiding
from hearing.speaker_order.floor import Floor
from hearing.web import csrf
from hearing.web.routing import Audience, live_hearings, route, services, staff
from hearing.web.sockets import ClientLoop, Reply, identity, socket_route, socket_watch

logger = logging.getLogger(__name__)

MAX_COMMAND_BYTES = 2048
PANEL_OUTBOX = 256  # levels arrive ~10/s per seat; a stalled panel loses the oldest


async def _visible_floor(
    request: Request | WebSocket, user_id: int, hearing_id: int
) -> tuple[Floor, HearingState, dict[str, Any]]:
    """The floor of a hearing this staff member may see, its state, and who
    sits at each seat (from the docket) with the custody officer's check-in."""
    tz = services(request).settings.timezone

    def load(db: Session) -> tuple[Floor, HearingState, dict[str, Any]]:
        hearing = booking.visible_hearing(db, db.get_one(StaffUser, user_id), hearing_id)
        # The check-in is the database's, not the live hearing's: it may
        # predate this process's copy of the hearing.
        extra = {"people": presiding.seating(hearing).people(), "check_in": desk.check_in_of(db, hearing.id, tz)}
        return presiding.current(db, hearing), hearing.state, extra

    return await services(request).read(load)


async def floor_snapshot(request: Request) -> Response:
    hearing_id: int = request.path_params["hearing_id"]
    floor, state, extra = await _visible_floor(request, staff(request).user_id, hearing_id)
    live = live_hearings(request).get(hearing_id)
    if live is not None:
        live.follow(floor)
    drawn = live.snapshot() if live is not None else snapshot(floor, state)
    return JSONResponse({**drawn, **extra})


async def _command(request: Request) -> commands.Command:
    csrf.check(request, services(request).keys.csrf, request.headers.get(csrf.HEADER))
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidInput("Send the command as application/json.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_COMMAND_BYTES:
            raise InvalidInput(f"A command is at most {MAX_COMMAND_BYTES} bytes.")
    try:
        parsed = strict_json.loads(body, max_bytes=MAX_COMMAND_BYTES)
    except strict_json.UnreadableJSON as exc:
        raise InvalidInput(f"The command is not JSON: {exc.message}.") from None
    return commands.parse(parsed)


async def floor_command(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    command = await _command(request)
    hearings = live_hearings(request)
    running = hearings.get(hearing_id)
    connected = running.connected if running is not None else frozenset()
    if command.camera is not None and (running is None or not running.rig.has_camera(command.camera)):
        raise UnknownCamera()

    def act(db: Session) -> tuple[Floor, HearingState]:
        floor = presiding.act(
            db, principal.actor, hearing_id, command, courtroom_id=principal.courtroom_id, connected=connected
        )
        return floor, db.get_one(Hearing, hearing_id).state

    floor, state = await services(request).run(act)
    live = await hearings.open(hearing_id, floor, state)
    if command.rule.turns_away:
        live.turn_away(command.seat or "")
    return JSONResponse({"version": floor.version, "floor": floor.to_json()})


async def _answer(raw: str | bytes) -> Reply:
    """The feed takes no commands (they go over HTTP). It answers a ping, so
    that a client can tell it is alive, and anything else with an error."""
    message = signaling.parse(raw)
    if isinstance(message, signaling.Ping):
        return {"type": "pong", "nonce": message.nonce}
    raise signaling.SignalingError("unexpected_message", "The panel's feed takes only ping; commands go over HTTP.")


async def panel_socket(websocket: WebSocket) -> None:
    """The live feed: a snapshot first, then every floor, presence, health
    and level update, until the panel goes away."""
    hearing_id: int = websocket.path_params["hearing_id"]
    principal = websocket.state.principal
    floor, state, extra = await _visible_floor(websocket, principal.user_id, hearing_id)
    if state not in LIVE_STATES:
        raise HearingNotOpen("The hearing is not in progress: there is nothing live to follow.")
    live = await live_hearings(websocket).open(hearing_id, floor, state)
    client = ClientLoop(websocket, name=f"panel {hearing_id}", queue_size=PANEL_OUTBOX)
    live.panel_opened(client)
    reason = "disconnected"
    try:
        # Closed with its session (signed out, expired, disabled).
        # Not audited: the feed is read-only, its opening is not audited
        # either, and what ends a session is (user.signed_out, user.disabled);
        # the media socket's participant.left carries the reason.
        with socket_watch(websocket).watching(identity(websocket), client):
            reason = await client.run({**live.snapshot(), **extra}, _answer)
    finally:
        live.panel_closed(client)
        await client.close(reason)


ROUTES = [
    route(
        "/hearings/{hearing_id:id}/floor", floor_snapshot, audience=Audience.STAFF, permission=Permission.VIEW_HEARINGS
    ),
    route(
        "/hearings/{hearing_id:id}/floor",
        floor_command,
        audience=Audience.STAFF,
        permission=Permission.CONDUCT_HEARING,
        methods=["POST"],
    ),
    socket_route(
        "/ws/hearings/{hearing_id:id}/panel",
        panel_socket,
        audience=Audience.STAFF,
        name="panel_socket",
        permission=Permission.VIEW_HEARINGS,
    ),
]
