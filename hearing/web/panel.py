"""The judge's speaker-order panel: the floor's commands, its snapshot, and
the live feed every open panel of a hearing listens to.

The server is authoritative. A command is one audited transaction
(hearing/speaker_order/presiding.py); once it commits, `Panels.announce`
applies the new floor to the media room (the mixer follows at its next
20 ms tick) and sends it, with its version, to every panel and endpoint of
the hearing. Each update carries the whole floor, so a panel that sees a gap
in the versions fetches a fresh snapshot and loses nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from hearing.auth.permissions import Permission
from hearing.db.models import StaffUser
from hearing.docket import booking
from hearing.docket.lifecycle import FINAL_STATES, HearingState, available
from hearing.docket.parties import Connection, ParticipantRole
from hearing.errors import HearingError, InvalidInput, PermissionDenied
from hearing.media.room import Room
from hearing.media.rooms import Rooms
from hearing.routing import seats
from hearing.speaker_order import commands, presiding
from hearing.speaker_order.floor import Floor, FloorError
from hearing.web import csrf
from hearing.web.errors import refuse_socket
from hearing.web.feed import Outbox
from hearing.web.routing import (
    Audience,
    GuardedWebSocketRoute,
    authenticate_staff,
    route,
    same_origin,
    services,
    staff,
)

logger = logging.getLogger(__name__)

MAX_COMMAND_BYTES = 2048
PANEL_OUTBOX = 256  # levels arrive ~10/s per seat; a stalled panel loses the oldest
# Remote parties get seats of their own with the interpreter issue.
SEAT_OF_CONNECTION = {Connection.COURTROOM: seats.COURTROOM, Connection.CUSTODY: seats.CUSTODY}

Listener = Callable[[dict[str, Any]], None]


class Panels:
    """The open panels of this process, per hearing, and the newest floor
    version each hearing's room has applied."""

    def __init__(self, rooms: Rooms) -> None:
        self.rooms = rooms
        self._watchers: dict[int, set[Listener]] = {}
        self._applied: dict[int, int] = {}

    def watchers(self, hearing_id: int) -> set[Listener]:
        return self._watchers.setdefault(hearing_id, set())

    def tell(self, hearing_id: int, message: dict[str, Any]) -> None:
        for watcher in list(self.watchers(hearing_id)):
            watcher(message)

    def follow(self, hearing_id: int, floor: Floor) -> bool:
        """The room follows a committed floor; whether it is news. Two commands
        may commit in one order and arrive here in the other: the version
        decides, and an older floor is never applied over a newer."""
        applied = self._applied.get(hearing_id, -1)
        if floor.version < applied:
            return False
        self._applied[hearing_id] = floor.version
        room = self.rooms.get(hearing_id)
        if room is not None:
            room.apply(floor.media_state())
        return floor.version > applied

    def announce(self, hearing_id: int, floor: Floor) -> None:
        """A committed floor: to the room, and, if it changed, to the
        endpoints and the panels."""
        if not self.follow(hearing_id, floor):
            return
        room = self.rooms.get(hearing_id)
        for seat, listener in list(room.listeners.items()) if room is not None else ():
            listener(floor.public_view(seat))
        self.tell(hearing_id, {"type": "floor", "version": floor.version, "floor": floor.to_json()})

    def presence(self, hearing_id: int) -> None:
        room = self.rooms.get(hearing_id)
        self.tell(hearing_id, {"type": "presence", "seats": presence(room)})

    def waiting(self, hearing_id: int, seat: str) -> bool:
        room = self.rooms.get(hearing_id)
        return room is not None and seat in room.listeners

    def deny(self, hearing_id: int, seat: str) -> None:
        room = self.rooms.get(hearing_id)
        listener = room.listeners.get(seat) if room is not None else None
        if listener is not None:
            listener({"type": "denied"})

    async def hearing_moved(self, hearing_id: int, state: HearingState) -> None:
        """The lifecycle moved: the panels redraw; a hearing that has ended
        disconnects everyone and closes its room."""
        transitions = [t.value for t in available(state)]
        self.tell(hearing_id, {"type": "hearing", "state": state.value, "transitions": transitions})
        if state in FINAL_STATES:
            room = self.rooms.get(hearing_id)
            for listener in list(room.listeners.values()) if room is not None else ():
                listener({"type": "ended"})
            await self.rooms.close(hearing_id)
            self._applied.pop(hearing_id, None)


def presence(room: Room | None) -> dict[str, Any]:
    """Who is connected: the socket (present), the media, its health."""
    if room is None:
        return {}
    seats: dict[str, Any] = {}
    for seat in sorted(set(room.listeners) | set(room.peers)):
        peer = room.peers.get(seat)
        seats[seat] = {
            "present": seat in room.listeners,
            "media": peer is not None,
            "health": peer.health.to_json() if peer is not None and peer.health is not None else None,
        }
    return seats


def panels(request: Request | WebSocket) -> Panels:
    registry: Panels = request.app.state.panels
    return registry


async def _visible_floor(request: Request | WebSocket, user_id: int, hearing_id: int) -> tuple[Floor, dict[str, Any]]:
    """The floor of a hearing this staff member may see, with the hearing's
    state and who is at each seat (from the docket)."""

    def load(db: Session) -> tuple[Floor, dict[str, Any]]:
        hearing = booking.visible_hearing(db, db.get_one(StaffUser, user_id), hearing_id)
        people: dict[str, list[dict[str, str]]] = {seats.CUSTODY: [{"role": "detainee", "name": hearing.detainee_name}]}
        for party in hearing.participants:
            seat = SEAT_OF_CONNECTION.get(party.connection)
            if seat is not None and not (party.role is ParticipantRole.DETAINEE and seat == seats.CUSTODY):
                people.setdefault(seat, []).append({"role": party.role.value, "name": party.display_name})
        return presiding.current(db, hearing_id), {"hearing_state": hearing.state.value, "people": people}

    return await services(request).run(load)


def snapshot(registry: Panels, hearing_id: int, floor: Floor, hearing: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "version": floor.version,
        "floor": floor.to_json(),
        **hearing,
        "seats": presence(registry.rooms.get(hearing_id)),
        # The recorder comes with the recording issue; the panel says so plainly.
        "recording": False,
    }


async def floor_snapshot(request: Request) -> Response:
    hearing_id: int = request.path_params["hearing_id"]
    floor, hearing = await _visible_floor(request, staff(request).user_id, hearing_id)
    return JSONResponse(snapshot(panels(request), hearing_id, floor, hearing))


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
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The command is not JSON.") from None
    return commands.parse(parsed)


async def floor_command(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    command = await _command(request)
    registry = panels(request)
    if command.action == "deny" and not registry.waiting(hearing_id, command.seat or ""):
        # Only a connection that is there can be turned away; the floor
        # below also refuses a seat that is already admitted.
        raise FloorError("not_waiting", "That participant is not waiting in the lobby.")
    floor = await services(request).run(
        lambda db: presiding.act(db, principal.actor, hearing_id, command, courtroom_id=principal.courtroom_id)
    )
    if command.action == "deny":
        registry.deny(hearing_id, command.seat or "")  # the floor itself is unchanged
    else:
        registry.announce(hearing_id, floor)
    return JSONResponse({"version": floor.version, "floor": floor.to_json()})


async def panel_socket(websocket: WebSocket) -> None:
    """The live feed: a snapshot first, then every floor, presence, health
    and level update, until the panel goes away."""
    hearing_id: int = websocket.path_params["hearing_id"]
    await websocket.accept()
    try:
        if not same_origin(websocket):
            raise PermissionDenied("This socket may only be opened from the hearing's own pages.")
        principal = await authenticate_staff(websocket)
        websocket.state.actor = principal.actor
        if not principal.can(Permission.VIEW_HEARINGS):
            raise PermissionDenied()
        floor, hearing = await _visible_floor(websocket, principal.user_id, hearing_id)
    except HearingError as exc:
        await refuse_socket(websocket, exc)
        return
    registry = panels(websocket)
    outbox = Outbox(websocket, PANEL_OUTBOX)
    outbox.deliver(snapshot(registry, hearing_id, floor, hearing))
    registry.watchers(hearing_id).add(outbox.deliver)
    outbox.start(f"panel {hearing_id} writer")
    try:
        with contextlib.suppress(WebSocketDisconnect):
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass  # the panel sends nothing that matters; commands go over HTTP
    finally:
        registry.watchers(hearing_id).discard(outbox.deliver)
        await outbox.stop()


ROUTES = [
    route(
        "/hearings/{hearing_id:int}/floor", floor_snapshot, audience=Audience.STAFF, permission=Permission.VIEW_HEARINGS
    ),
    route(
        "/hearings/{hearing_id:int}/floor",
        floor_command,
        audience=Audience.STAFF,
        permission=Permission.CONDUCT_HEARING,
        methods=["POST"],
    ),
    GuardedWebSocketRoute(
        "/ws/hearings/{hearing_id:int}/panel",
        panel_socket,
        audience=Audience.STAFF,
        name="panel_socket",
        permission=Permission.VIEW_HEARINGS,
    ),
]
