"""The media signaling socket: `/ws/hearings/{id}/media`.

The hearing's judge (staff session) or a device at its courtroom or custody
facility connects, is given its seat, and negotiates one peer connection
with the hearing's room. A seat has one connection: a newer one replaces
it. Bad messages get an error message with a stable code and change
nothing; silence for longer than the liveness timeout closes the socket.
Joining and leaving are audited. The session, once admitted, is
hearing/web/seat.py's (shared with the remote party's socket at the gateway).
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.websockets import WebSocket

from hearing.auth import devices
from hearing.auth.permissions import Permission
from hearing.db.models import Endpoint, Hearing
from hearing.docket.lifecycle import LIVE_STATES, HearingState
from hearing.docket.parties import EndpointKind
from hearing.errors import HearingNotFound, HearingNotOpen, NoBoothSeat, PermissionDenied
from hearing.routing import seats
from hearing.speaker_order import presiding
from hearing.speaker_order.floor import Floor
from hearing.web import seat as seat_session
from hearing.web.routing import Audience, DevicePrincipal, StaffPrincipal, services
from hearing.web.sockets import socket_route

# Read at each connection (tests shorten it): 5 s of silence means the link is gone.
LIVENESS_SECONDS = seat_session.LIVENESS_SECONDS


def _hearing(db: Session, hearing_id: int) -> Hearing:
    hearing = db.get(Hearing, hearing_id)
    if hearing is None:
        raise HearingNotFound()
    return hearing


async def _admit(websocket: WebSocket, hearing_id: int) -> tuple[str, Floor, HearingState]:
    """The seat this connection takes, with the hearing's floor and state,
    or a domain error saying why not."""
    principal: StaffPrincipal | DevicePrincipal = websocket.state.principal

    def check(db: Session) -> tuple[str, Floor, HearingState]:
        hearing = _hearing(db, hearing_id)
        if isinstance(principal, DevicePrincipal):
            endpoint = db.get_one(Endpoint, principal.endpoint_id)
            devices.check_site(endpoint, hearing)
            # The officer assigned the hearing room: its kiosk alone takes the seat.
            if endpoint.kind is EndpointKind.CUSTODY and hearing.custody_endpoint_id not in (None, endpoint.id):
                raise PermissionDenied("This hearing is assigned to another hearing room.")
            seat = seats.seat_for_device(endpoint.kind)
        elif principal.can(Permission.CONDUCT_HEARING) and hearing.courtroom_id == principal.courtroom_id:
            seat = seats.JUDGE
        else:
            raise PermissionDenied("Only the hearing's judge joins from a staff session.")
        # Checked after the caller's right to the hearing: no state to strangers.
        if hearing.state not in LIVE_STATES:
            raise HearingNotOpen()
        floor = presiding.current(db, hearing)
        if seat not in floor.seat_roles:
            # A booth serves a hearing whose counsel sits in the courtroom.
            raise NoBoothSeat()
        return seat, floor, hearing.state

    return await services(websocket).run(check)


async def media_socket(websocket: WebSocket) -> None:
    hearing_id: int = websocket.path_params["hearing_id"]
    seat, floor, state = await _admit(websocket, hearing_id)
    await seat_session.serve(websocket, hearing_id, seat, floor, state, liveness=LIVENESS_SECONDS)


ROUTES = [
    socket_route(
        "/ws/hearings/{hearing_id:id}/media", media_socket, audience=Audience.PARTICIPANT, name="media_socket"
    ),
]
