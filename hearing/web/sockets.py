"""Sockets like routes: one guard, one loop per client.

`socket_route()` wraps every socket handler the same way, as `route()` does
HTTP handlers: accept, check the Origin, authenticate, check the permission,
and refuse with a stable error and close code (hearing/web/errors.py). The
handler runs only for an authorised caller.

`ClientLoop` is one connection's loop, after Galène's `clientLoop`: one wait
over the client's next message, the queue of what others want it told, and
its liveness deadline. Every send to the socket comes from this loop, so two
writers can never interleave; others only `deliver()` (bounded: a slow
client loses the oldest reports, never holds up the sender) or `dismiss()`.

The guard also names the socket's identity (a staff session, or a device
and the credential it presented) for the process's socket watch
(hearing/live/watch.py), which closes the socket once that identity no
longer stands; `identities_ending` is the watch's question to the database,
asked with the same rule as HTTP authentication (hearing/auth/standing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from hearing.actors import ANONYMOUS
from hearing.auth import devices, signin, standing
from hearing.auth.permissions import Permission
from hearing.clock import utcnow
from hearing.config import Settings
from hearing.errors import HearingError, PermissionDenied
from hearing.live.watch import Check, DeviceIdentity, Identity, RemoteIdentity, SocketWatch, StaffIdentity
from hearing.services import Services
from hearing.web.errors import refuse_socket, socket_ending, socket_error
from hearing.web.routing import (
    Audience,
    DevicePrincipal,
    GuardedWebSocketRoute,
    RemotePrincipal,
    StaffPrincipal,
    authenticate_device,
    authenticate_remote,
    authenticate_staff,
    device_token,
    same_origin,
    services,
)

logger = logging.getLogger(__name__)

Message = dict[str, Any]
# What a handler answers to one message: a reply, nothing ({}), or LEAVE.
Reply = Message | None
LEAVE: Reply = None
MessageHandler = Callable[[str | bytes], Awaitable[Reply]]
SocketHandler = Callable[[WebSocket], Awaitable[None]]


def socket_route(
    path: str, handler: SocketHandler, *, audience: Audience, name: str, permission: Permission | None = None
) -> GuardedWebSocketRoute:
    if audience is Audience.PUBLIC:
        raise ValueError("sockets are for staff, devices and the hearing's participants")

    async def guarded(websocket: WebSocket) -> None:
        await websocket.accept()
        websocket.state.actor = ANONYMOUS
        try:
            if not same_origin(websocket):
                raise PermissionDenied("This socket may only be opened from the hearing's own pages.")
            principal: StaffPrincipal | DevicePrincipal | RemotePrincipal
            # A device socket (the kiosk's, the test call's) takes a device
            # only: a staff session presents no device token and is refused, 4401.
            if audience is Audience.DEVICE or (audience is Audience.PARTICIPANT and device_token(websocket)):
                principal = await authenticate_device(websocket)
            elif audience is Audience.REMOTE:
                # The gateway's socket: a remote party's session, nothing else.
                principal = await authenticate_remote(websocket)
            else:
                principal = await authenticate_staff(websocket)
            websocket.state.principal, websocket.state.actor = principal, principal.actor
            websocket.state.identity = _identity(websocket, principal)
            if permission is not None and not (isinstance(principal, StaffPrincipal) and principal.can(permission)):
                raise PermissionDenied()
            # Before the handler joins (and audits) anything: a reconnect
            # storm is refused here, 4429, and writes nothing.
            websocket.app.state.connection_limiter.hit(f"{name} {websocket.state.identity!r}")
            await handler(websocket)
        except HearingError as exc:
            if websocket.client_state is WebSocketState.CONNECTED:
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await refuse_socket(websocket, exc)

    return GuardedWebSocketRoute(path, guarded, audience=audience, name=name, permission=permission)


def _identity(websocket: WebSocket, principal: StaffPrincipal | DevicePrincipal | RemotePrincipal) -> Identity:
    if isinstance(principal, RemotePrincipal):
        return RemoteIdentity(principal.session_id, principal.participant_id)
    if isinstance(principal, DevicePrincipal):
        credential = devices.token_hash(services(websocket).keys, device_token(websocket) or "")
        return DeviceIdentity(principal.endpoint_id, credential)
    return StaffIdentity(principal.session_id, principal.user_id)


def identity(websocket: WebSocket) -> Identity:
    found: Identity = websocket.state.identity
    return found


def socket_watch(connection: HTTPConnection) -> SocketWatch:
    watch: SocketWatch = connection.app.state.socket_watch
    return watch


def identities_ending(
    db: Session, settings: Settings, identities: Collection[Identity], in_use: Collection[Identity] = ()
) -> tuple[dict[Identity, str], set[int]]:
    """Of these identities, those that no longer stand, and why: one query
    for the staff sessions, one for the devices, however many there are,
    reading only; and the sessions in use whose last_seen_at is due."""
    limits = standing.SessionLimits(
        timedelta(seconds=settings.session_idle_seconds), timedelta(seconds=settings.session_max_seconds)
    )
    staff = {i: i.session_id for i in identities if isinstance(i, StaffIdentity)}
    device = {i: (i.endpoint_id, i.credential) for i in identities if isinstance(i, DeviceIdentity)}
    busy = {i.session_id for i in in_use if isinstance(i, StaffIdentity)}
    sessions, due = standing.sessions_ending(db, set(staff.values()), utcnow(), limits, in_use=busy)
    credentials = standing.devices_ending(db, set(device.values()))
    ending: dict[Identity, str] = {i: sessions[key] for i, key in staff.items() if key in sessions}
    ending.update({i: credentials[key] for i, key in device.items() if key in credentials})
    remote = {i: i.session_id for i in identities if isinstance(i, RemoteIdentity)}
    remote_ending = standing.remote_sessions_ending(db, set(remote.values()), utcnow())
    ending.update({i: remote_ending[key] for i, key in remote.items() if key in remote_ending})
    return ending, due


def standing_check(svc: Services) -> Check:
    """The socket watch's question, in one read-only transaction (it must
    not take SQLite's write lock every few seconds); a live link's activity
    refresh, once a minute, is a short write of its own."""

    async def check(identities: frozenset[Identity], in_use: frozenset[Identity]) -> Mapping[Identity, str]:
        ending, due = await svc.read(lambda db: identities_ending(db, svc.settings, identities, in_use))
        if due:
            now = utcnow()

            def touch(db: Session) -> None:
                for session in sorted(due):
                    signin.touch_session(db, session, now)

            await svc.run(touch)
        return ending

    return check


class ClientLoop:
    def __init__(self, websocket: WebSocket, *, name: str, queue_size: int, liveness: float | None = None) -> None:
        self.websocket = websocket
        self.name = name
        self._queue: asyncio.Queue[Message] = asyncio.Queue(queue_size)
        self._liveness = liveness
        self._dismissed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def __repr__(self) -> str:
        return f"ClientLoop({self.name})"

    def deliver(self, message: Message) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(message)

    def dismiss(self, reason: str) -> None:
        if not self._dismissed.done():
            self._dismissed.set_result(reason)

    async def run(self, first: Message, handle: MessageHandler) -> str:
        """Send `first`, then serve the client until it leaves, goes silent
        for longer than the liveness timeout, or is dismissed; returns why
        (`left`, `disconnected`, `timeout`, or the dismissal's reason)."""
        if not await self._send(first):
            return "disconnected"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self._liveness or 0)
        receiving: asyncio.Future[Any] = asyncio.ensure_future(self.websocket.receive())
        waiting: asyncio.Future[Any] = asyncio.ensure_future(self._queue.get())
        try:
            while True:
                timeout = None if self._liveness is None else max(0.0, deadline - loop.time())
                done, _ = await asyncio.wait(
                    {receiving, waiting, self._dismissed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if self._dismissed.done():
                    return str(self._dismissed.result())
                if not done:
                    return "timeout"
                if waiting in done:
                    if not await self._send(waiting.result()):
                        return "disconnected"
                    waiting = asyncio.ensure_future(self._queue.get())
                if receiving in done:
                    event = receiving.result()
                    if event["type"] == "websocket.disconnect":
                        return "disconnected"
                    if self._liveness is not None:
                        deadline = loop.time() + self._liveness
                    reply = await self._answer(handle, event.get("text") or event.get("bytes") or "")
                    if reply is LEAVE:
                        return "left"
                    if reply and not await self._send(reply):
                        return "disconnected"
                    receiving = asyncio.ensure_future(self.websocket.receive())
        finally:
            for task in (receiving, waiting):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task

    async def close(self, reason: str) -> None:
        """Say why the session ends, where there is something to say, and close."""
        if self.websocket.client_state is not WebSocketState.CONNECTED:
            return
        last, code = socket_ending(reason)
        if last is not None:
            await self._send(last)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.websocket.close(code=code)

    async def _answer(self, handle: MessageHandler, raw: str | bytes) -> Reply:
        try:
            return await handle(raw)
        except HearingError as exc:
            return socket_error(exc)

    async def _send(self, message: Message) -> bool:
        try:
            await self.websocket.send_json(message)
        except (RuntimeError, WebSocketDisconnect, OSError):
            return False
        return True
