"""The media signaling socket: `/ws/hearings/{id}/media`.

The hearing's judge (staff session) or a device at its courtroom or custody
facility connects, is given its seat, and negotiates one peer connection
with the hearing's room. A seat has one connection: a newer one replaces
it. Bad messages get an error message with a stable code and change
nothing; silence for longer than the liveness timeout closes the socket.
Joining and leaving are audited.
"""

from __future__ import annotations

import logging

from aiortc.sdp import candidate_from_sdp
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import devices
from hearing.auth.permissions import Permission
from hearing.db.models import Endpoint, Hearing
from hearing.docket.lifecycle import LIVE_STATES, HearingState
from hearing.errors import HearingNotFound, HearingNotOpen, PermissionDenied
from hearing.live.hearing import LiveHearing
from hearing.media import signaling
from hearing.routing import seats
from hearing.speaker_order import commands, presiding
from hearing.speaker_order.floor import Floor
from hearing.web.errors import record_refusal
from hearing.web.routing import Audience, DevicePrincipal, StaffPrincipal, live_hearings, services
from hearing.web.sockets import LEAVE, ClientLoop, Reply, socket_route

logger = logging.getLogger(__name__)

# Clients ping every 2 s; 5 s of silence means the link is gone.
LIVENESS_SECONDS = 5.0
OUTBOX_MESSAGES = 64


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
            seat = seats.seat_for_device(endpoint.kind)
        elif principal.can(Permission.CONDUCT_HEARING) and hearing.courtroom_id == principal.courtroom_id:
            seat = seats.JUDGE
        else:
            raise PermissionDenied("Only the hearing's judge joins from a staff session.")
        # Checked after the caller's right to the hearing: no state to strangers.
        if hearing.state not in LIVE_STATES:
            raise HearingNotOpen()
        return seat, presiding.current(db, hearing), hearing.state

    return await services(websocket).run(check)


async def media_socket(websocket: WebSocket) -> None:
    hearing_id: int = websocket.path_params["hearing_id"]
    actor: Actor = websocket.state.actor
    svc = services(websocket)
    seat, floor, state = await _admit(websocket, hearing_id)
    live = await live_hearings(websocket).open(hearing_id, floor, state)
    client = ClientLoop(
        websocket, name=f"media {hearing_id}/{seat}", queue_size=OUTBOX_MESSAGES, liveness=LIVENESS_SECONDS
    )
    joined = {"seat": seat, **({"reconnected": True} if live.returning(seat) else {})}
    await svc.run(lambda db: append(db, actor, Action.PARTICIPANT_JOINED, hearing_id=hearing_id, **joined))
    await live.seat_connected(seat, client)
    reason = "disconnected"
    try:
        # Every floor committed from now on reaches this seat through its
        # channel; the newest before, in the welcome.
        welcome = {"type": "welcome", "seat": seat, "hearing": hearing_id, "floor": live.floor.public_view(seat)}
        reason = await client.run(welcome, Conversation(websocket, live, seat, actor).handle)
    finally:
        await live.seat_disconnected(seat, client)
        await svc.run(
            lambda db: append(db, actor, Action.PARTICIPANT_LEFT, hearing_id=hearing_id, seat=seat, reason=reason)
        )
        await client.close(reason)


class Conversation:
    """One seat's messages: media negotiation, liveness, and its people's
    requests to speak."""

    def __init__(self, websocket: WebSocket, live: LiveHearing, seat: str, actor: Actor) -> None:
        self.websocket = websocket
        self.live = live
        self.seat = seat
        self.actor = actor

    async def handle(self, raw: str | bytes) -> Reply:
        self.live.heard_from(self.seat)
        live, seat = self.live, self.seat
        match signaling.parse(raw):
            case signaling.Offer(sdp=sdp, views=views):
                unknown = sorted(set(views) - set(live.floor.seat_roles))
                if unknown:
                    raise signaling.SignalingError("unknown_seat", f"No such seat in this hearing: {unknown[0]!r}.")
                try:
                    answer = await live.negotiate(seat, sdp, views)
                except ValueError as exc:
                    raise signaling.SignalingError("bad_sdp", f"The offer was not accepted: {exc}") from None
                return {"type": "answer", "sdp": answer}
            case signaling.Candidate(candidate=text, sdp_mid=mid, sdp_mline_index=index):
                try:
                    candidate = candidate_from_sdp(text.removeprefix("candidate:"))
                except (AssertionError, ValueError, IndexError, KeyError):  # aiortc asserts on bad input
                    raise signaling.SignalingError("bad_candidate", "The ICE candidate could not be read.") from None
                candidate.sdpMid, candidate.sdpMLineIndex = mid, index
                try:
                    await live.add_candidate(seat, candidate)
                except (KeyError, ValueError):
                    raise signaling.SignalingError("bad_candidate", "Send an offer before candidates.") from None
                return {}
            case signaling.Ping(nonce=nonce):
                return {"type": "pong", "nonce": nonce}
            case signaling.FloorRequest(action=action, speaker=speaker):
                await self.ask(commands.Command(action, speaker=speaker))
                return {}
            case signaling.Answer():
                raise signaling.SignalingError("unexpected_message", "The server makes no offers; send an offer.")
            case signaling.Leave():
                return LEAVE
        raise signaling.SignalingError("unknown_message", "Unknown message.")

    async def ask(self, command: commands.Command) -> None:
        """A request to speak (or its withdrawal) from this seat's people."""
        live = self.live
        try:
            floor = await services(self.websocket).run(
                lambda db: presiding.act(db, self.actor, live.id, command, seat=self.seat)
            )
        except PermissionDenied:
            await record_refusal(self.websocket, self.actor, "WEBSOCKET")
            raise
        live.follow(floor)


ROUTES = [
    socket_route(
        "/ws/hearings/{hearing_id:id}/media", media_socket, audience=Audience.PARTICIPANT, name="media_socket"
    ),
]
