"""The media signaling socket: `/ws/hearings/{id}/media`.

The hearing's judge (staff session) or a device at its courtroom or custody
facility connects, is given its seat, and negotiates one peer connection
with the server's room. Bad messages get an error message with a stable code
and change nothing; silence for longer than the liveness timeout closes the
socket. Joining and leaving are audited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiortc.sdp import candidate_from_sdp
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import devices
from hearing.auth.permissions import Permission
from hearing.db.models import Endpoint, Hearing
from hearing.docket.lifecycle import LIVE_STATES
from hearing.errors import HearingError, HearingNotFound, HearingNotOpen, PermissionDenied
from hearing.media import signaling
from hearing.media.room import Room
from hearing.routing import seats
from hearing.speaker_order import commands, presiding
from hearing.web.errors import record_refusal, refuse_socket
from hearing.web.feed import Outbox
from hearing.web.panel import panels
from hearing.web.routing import (
    Audience,
    GuardedWebSocketRoute,
    authenticate_device,
    authenticate_staff,
    device_token,
    same_origin,
    services,
)

logger = logging.getLogger(__name__)

# Clients ping every 2 s; 5 s of silence means the link is gone.
LIVENESS_SECONDS = 5.0
OUTBOX_MESSAGES = 64
DISMISSALS = {
    "denied": "The judge did not admit this connection.",
    "ended": "The hearing has ended.",
}


async def _admit(websocket: WebSocket, hearing_id: int) -> tuple[str, Actor]:
    """The seat this connection takes, or a domain error saying why not."""
    svc = services(websocket)
    if not same_origin(websocket):
        raise PermissionDenied("This socket may only be opened from the hearing's own pages.")
    actor: Actor
    if device_token(websocket):
        device = await authenticate_device(websocket)
        actor = websocket.state.actor = device.actor

        def check_device(db: Session) -> str:
            endpoint = db.get_one(Endpoint, device.endpoint_id)
            hearing = _hearing(db, hearing_id)
            devices.check_site(endpoint, hearing)
            _require_live(hearing)
            return seats.seat_for_device(endpoint.kind)

        return await svc.run(check_device), actor
    principal = await authenticate_staff(websocket)
    actor = websocket.state.actor = principal.actor

    def check_judge(db: Session) -> str:
        hearing = _hearing(db, hearing_id)
        if not principal.can(Permission.CONDUCT_HEARING) or hearing.courtroom_id != principal.courtroom_id:
            raise PermissionDenied("Only the hearing's judge joins from a staff session.")
        _require_live(hearing)
        return seats.JUDGE

    return await svc.run(check_judge), actor


def _hearing(db: Session, hearing_id: int) -> Hearing:
    hearing = db.get(Hearing, hearing_id)
    if hearing is None:
        raise HearingNotFound()
    return hearing


def _require_live(hearing: Hearing) -> None:
    # Checked after the caller's right to the hearing: no state to strangers.
    if hearing.state not in LIVE_STATES:
        raise HearingNotOpen()


async def media_socket(websocket: WebSocket) -> None:
    hearing_id: int = websocket.path_params["hearing_id"]
    await websocket.accept()
    try:
        seat, actor = await _admit(websocket, hearing_id)
    except HearingError as exc:
        await refuse_socket(websocket, exc)
        return
    svc = services(websocket)
    registry = panels(websocket)
    # A new room starts closed to everyone but the bench; the hearing's own
    # floor is applied below, before this seat can have sent any media.
    room = await registry.rooms.open(hearing_id, presiding.initial().media_state())
    room.observers = registry.watchers(hearing_id)
    joined = {"seat": seat, **({"reconnected": True} if room.returning(seat) else {})}
    await svc.run(lambda db: append(db, actor, Action.PARTICIPANT_JOINED, hearing_id=hearing_id, **joined))
    # Room and floor events go out through a bounded outbox, after the welcome.
    outbox = Outbox(websocket, OUTBOX_MESSAGES)
    # The judge turns a waiting seat away, or ends the hearing: the server
    # closes the connection, it does not ask the client to.
    dismissed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def deliver(message: dict[str, object]) -> None:
        if message["type"] in DISMISSALS and not dismissed.done():
            dismissed.set_result(str(message["type"]))
            return
        outbox.deliver(message)

    room.listeners[seat] = deliver
    # Read the floor now that this seat listens: a change committed after
    # this read reaches it through the outbox; this one, in the welcome.
    floor = await svc.run(lambda db: presiding.current(db, hearing_id))
    registry.follow(hearing_id, floor)
    registry.presence(hearing_id)
    welcome = {"type": "welcome", "seat": seat, "hearing": hearing_id, "floor": floor.public_view(seat)}
    await websocket.send_json(welcome)
    outbox.start(f"media socket {seat} writer")
    conversation = Conversation(websocket, hearing_id, seat, actor, room)
    talking = asyncio.create_task(conversation.run(), name=f"media socket {seat}")
    reason = "left"
    try:
        await asyncio.wait({talking, dismissed}, return_when=asyncio.FIRST_COMPLETED)
        reason = dismissed.result() if dismissed.done() else talking.result()
    finally:
        talking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await talking
        if room.listeners.get(seat) is deliver:
            del room.listeners[seat]
        if reason in DISMISSALS:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.send_json({"type": reason, "message": DISMISSALS[reason]})
        await outbox.stop()
        await room.leave(seat)
        registry.presence(hearing_id)
        await svc.run(
            lambda db: append(db, actor, Action.PARTICIPANT_LEFT, hearing_id=hearing_id, seat=seat, reason=reason)
        )
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code={"left": 1000, "ended": 1000, "denied": 4403}.get(reason, 4408))


class Conversation:
    """One seat's messages: media negotiation, liveness, and its people's
    requests to speak."""

    def __init__(self, websocket: WebSocket, hearing_id: int, seat: str, actor: Actor, room: Room) -> None:
        self.websocket = websocket
        self.hearing_id = hearing_id
        self.seat = seat
        self.actor = actor
        self.room = room

    async def run(self) -> str:
        while True:
            try:
                message = await asyncio.wait_for(self.websocket.receive(), timeout=LIVENESS_SECONDS)
            except TimeoutError:
                return "timeout"
            if message["type"] == "websocket.disconnect":
                return "disconnected"
            raw = message.get("text") or message.get("bytes") or ""
            try:
                reply = await self.handle(signaling.parse(raw))
            except signaling.SignalingError as exc:
                await self.websocket.send_text(exc.to_json())
                continue
            if reply is None:
                return "left"
            if reply:
                await self.websocket.send_json(reply)

    async def handle(self, message: signaling.Message) -> dict[str, object] | None:
        room, seat = self.room, self.seat
        match message:
            case signaling.Offer(sdp=sdp, views=views):
                try:
                    answer = await room.join(seat, sdp, views)
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
                    await room.add_candidate(seat, candidate)
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
                return None
        raise signaling.SignalingError("unknown_message", "Unknown message.")

    async def ask(self, command: commands.Command) -> None:
        """A request to speak (or its withdrawal) from this seat's people."""
        websocket = self.websocket
        try:
            floor = await services(websocket).run(
                lambda db: presiding.act(db, self.actor, self.hearing_id, command, seat=self.seat)
            )
        except HearingError as exc:
            if isinstance(exc, PermissionDenied):
                await record_refusal(websocket, self.actor, "WEBSOCKET")
            raise signaling.SignalingError(exc.code, exc.message) from None
        panels(websocket).announce(self.hearing_id, floor)


ROUTES = [
    GuardedWebSocketRoute(
        "/ws/hearings/{hearing_id:int}/media", media_socket, audience=Audience.PARTICIPANT, name="media_socket"
    ),
]
