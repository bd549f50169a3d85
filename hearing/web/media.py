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
from urllib.parse import urlsplit

from aiortc.sdp import candidate_from_sdp
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from hearing.audit.actions import Action
from hearing.audit.log import ANONYMOUS, Actor, append
from hearing.auth import devices
from hearing.auth.permissions import Permission
from hearing.db.models import Endpoint, Hearing
from hearing.docket.lifecycle import LIVE_STATES
from hearing.errors import HearingError, HearingNotFound, HearingNotOpen, PermissionDenied
from hearing.media import seats, signaling
from hearing.media.room import Room
from hearing.media.rooms import Rooms
from hearing.web.errors import record_refusal
from hearing.web.routing import (
    Audience,
    GuardedWebSocketRoute,
    authenticate_device,
    authenticate_staff,
    device_token,
    services,
)

logger = logging.getLogger(__name__)

# Clients ping every 2 s; 5 s of silence means the link is gone.
LIVENESS_SECONDS = 5.0
OUTBOX_MESSAGES = 64


async def _admit(websocket: WebSocket, hearing_id: int) -> tuple[str, Actor]:
    """The seat this connection takes, or a domain error saying why not."""
    svc = services(websocket)
    # A browser names the page that opened the socket: only our own pages may
    # (cookies are SameSite=Strict too; this also stops cross-site sockets).
    origin = websocket.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != websocket.headers.get("host"):
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


async def _refuse(websocket: WebSocket, error: HearingError) -> None:
    if isinstance(error, PermissionDenied):
        await record_refusal(websocket, getattr(websocket.state, "actor", ANONYMOUS), "WEBSOCKET")
    await websocket.send_json({"type": "error", "error": error.code, "message": error.message})
    await websocket.close(code=4000 + error.status)


async def media_socket(websocket: WebSocket) -> None:
    hearing_id: int = websocket.path_params["hearing_id"]
    await websocket.accept()
    try:
        seat, actor = await _admit(websocket, hearing_id)
    except HearingError as exc:
        await _refuse(websocket, exc)
        return
    svc = services(websocket)
    rooms: Rooms = websocket.app.state.rooms
    room = await rooms.open(hearing_id, seats.SEAT_ROLES)
    joined = {"seat": seat, **({"reconnected": True} if room.returning(seat) else {})}
    await svc.run(lambda db: append(db, actor, Action.PARTICIPANT_JOINED, hearing_id=hearing_id, **joined))
    await websocket.send_json({"type": "welcome", "seat": seat, "hearing": hearing_id})
    # Room events (health, levels) go out through a bounded outbox: a slow
    # socket loses old reports, never holds up the room.
    outbox: asyncio.Queue[dict[str, object]] = asyncio.Queue(OUTBOX_MESSAGES)

    def deliver(message: dict[str, object]) -> None:
        if outbox.full():
            outbox.get_nowait()
        outbox.put_nowait(message)

    room.listeners[seat] = deliver
    writer = asyncio.create_task(_write(websocket, outbox), name=f"media socket {seat} writer")
    reason = "left"
    try:
        reason = await _converse(websocket, room, seat)
    finally:
        if room.listeners.get(seat) is deliver:
            del room.listeners[seat]
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await room.leave(seat)
        await svc.run(
            lambda db: append(db, actor, Action.PARTICIPANT_LEFT, hearing_id=hearing_id, seat=seat, reason=reason)
        )
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=1000 if reason == "left" else 4408)


async def _write(websocket: WebSocket, outbox: asyncio.Queue[dict[str, object]]) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.send_json(await outbox.get())


async def _converse(websocket: WebSocket, room: Room, seat: str) -> str:
    while True:
        try:
            message = await asyncio.wait_for(websocket.receive(), timeout=LIVENESS_SECONDS)
        except TimeoutError:
            return "timeout"
        if message["type"] == "websocket.disconnect":
            return "disconnected"
        raw = message.get("text") or message.get("bytes") or ""
        try:
            parsed = signaling.parse(raw)
            reply = await _handle(room, seat, parsed)
        except signaling.SignalingError as exc:
            await websocket.send_text(exc.to_json())
            continue
        if reply is None:
            return "left"
        if reply:
            await websocket.send_json(reply)


async def _handle(room: Room, seat: str, message: signaling.Message) -> dict[str, object] | None:
    match message:
        case signaling.Offer(sdp=sdp):
            try:
                answer = await room.join(seat, sdp)
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
        case signaling.Answer():
            raise signaling.SignalingError("unexpected_message", "The server makes no offers; send an offer.")
        case signaling.Leave():
            return None
    raise signaling.SignalingError("unknown_message", "Unknown message.")


ROUTES = [
    GuardedWebSocketRoute(
        "/ws/hearings/{hearing_id:int}/media", media_socket, audience=Audience.PARTICIPANT, name="media_socket"
    ),
]
