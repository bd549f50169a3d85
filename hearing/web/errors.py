"""Errors to HTTP and to sockets, in one place: JSON for API clients, a page
for people, an error message and a close code for a socket."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.websockets import WebSocket

from hearing.actors import ANONYMOUS, Actor
from hearing.audit.actions import Action
from hearing.audit.log import append, scope_for
from hearing.errors import HearingError, NotAuthenticated, PermissionDenied
from hearing.web import language
from hearing.web.pages import render
from hearing.web.routing import services

logger = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "request_too_large"}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _respond(request: Request, status: int, code: str, message: str, message_lang: str | None = "en") -> Response:
    if wants_json(request):
        return JSONResponse({"error": code, "message": message}, status_code=status)
    context = {"status": status, "code": code, "message": message, "message_lang": message_lang}
    return render(request, "error.html", context, status=status)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HearingError)
    if isinstance(exc, NotAuthenticated) and not wants_json(request) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    if isinstance(exc, PermissionDenied):
        principal = getattr(request.state, "principal", None)
        await record_refusal(request, principal.actor if principal is not None else ANONYMOUS, request.method)
    if exc.status >= 500:
        logger.error("server error", extra={"code": exc.code, "path": request.url.path})
    return _respond(request, exc.status, exc.code, exc.message)


async def record_refusal(connection: HTTPConnection, actor: Actor, method: str) -> None:
    """The refused action itself was rolled back; the refusal is recorded on
    its own, so that probing shows in the audit log: in the refused hearing's
    trail where there is one, in the system's where the id names none."""
    await _record(connection, actor, Action.ACCESS_DENIED, method=method)


async def record_repeated_refusal(
    connection: HTTPConnection, actor: Actor, method: str, count: int, **why: str
) -> None:
    """`count` more refusals like the one `record_refusal` appended, counted
    instead of appended one by one (hearing/live/pacing.py), in the same trail."""
    await _record(connection, actor, Action.ACCESS_DENIED_REPEATED, method=method, repeated=count, **why)


async def _record(connection: HTTPConnection, actor: Actor, action: Action, **fields: Any) -> None:
    hearing_id = connection.path_params.get("hearing_id")
    path = connection.url.path[:200]
    target = hearing_id if isinstance(hearing_id, int) else None

    def record(db: Session) -> None:
        append(db, actor, action, hearing_id=scope_for(db, target), path=path, target_hearing=target, **fields)

    await services(connection).run(record)


# How a socket session ends: the last message the client is told (if any)
# and the close code. A refusal before the session closes with 4000 + the
# error's HTTP status instead.
SOCKET_ENDINGS: dict[str, tuple[str | None, int]] = {
    "left": (None, 1000),
    "disconnected": (None, 1000),
    "timeout": (None, 4408),
    "denied": ("The judge did not admit this connection.", 4403),
    "ended": ("The hearing has ended.", 1000),
    "replaced": ("A newer connection has taken this seat.", 4409),
    # The identity that opened the socket no longer stands (auth/standing.py).
    # One code for all, the one a reconnect's handshake would get: sign in
    # or enrol again, do not just reconnect. The last message says why.
    "revoked": ("This device's credential was revoked or replaced.", 4401),
    "signed_out": ("The session was signed out.", 4401),
    "session_ended": ("The session has expired. Sign in again.", 4401),
    "disabled": ("The account was disabled.", 4401),
    # issue 12, gateway: a remote party's session ended (the hearing ended, or the court ended it).
    "remote_ended": ("Your access to the hearing has ended.", 4401),
}


def socket_error(error: HearingError) -> dict[str, str]:
    """A bad message's answer: the socket stays open."""
    return {"type": "error", "error": error.code, "message": error.message}


def socket_ending(reason: str) -> tuple[dict[str, str] | None, int]:
    message, code = SOCKET_ENDINGS[reason]
    return ({"type": reason, "message": message} if message is not None else None), code


async def refuse_socket(websocket: WebSocket, error: HearingError) -> None:
    """A socket's refusal: recorded like a route's, then said and closed."""
    if isinstance(error, PermissionDenied):
        await record_refusal(websocket, getattr(websocket.state, "actor", ANONYMOUS), "WEBSOCKET")
    await websocket.send_json(socket_error(error))
    await websocket.close(code=4000 + error.status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    return _respond(request, exc.status_code, code, message)


async def server_error(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log only; neither answer says what failed.
    logger.exception("unhandled error", extra={"path": request.url.path})
    if wants_json(request):
        return _respond(request, 500, "internal_error", "Something went wrong on the server.")
    t = language.translator(language.language(request))
    return _respond(request, 500, "internal_error", t("error.internal"), message_lang=None)
