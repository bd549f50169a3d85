"""The external gateway: what a remote party reaches, and nothing else.

The gateway (`create_gateway_app` in hearing/app.py, its own listener on
the interface facing outside) serves the join page (`/join`, and
`/join/{invitation}` from the invitation's link), the code step (`POST
/join`), the authenticator step where the hearing asks for one
(`/join/verify`), the remote party's page (`/remote`), its signaling
socket (`/ws/remote/media`), its language switch and an allow-list of
static files. Every other path answers a plain 404.

A code opens a remote session (hearing/interpreter/issuing.py): its token
is the remote cookie, and everything after the code step (the page, the
socket, a reconnect) authenticates with it, never with the code again.
Code submissions are rate-limited per source and in all; every failure is
the one generic `CodeRejected`; failures against invitations that name
nothing are counted (hearing/interpreter/attempts.py) and appended once a
window as REMOTE_CODE_UNKNOWN.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from hearing.actors import SYSTEM
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.clock import utcnow
from hearing.db.models import Hearing
from hearing.docket.lifecycle import LIVE_STATES, HearingState
from hearing.docket.summary import summarise
from hearing.errors import (
    CodeRejected,
    CsrfRejected,
    HearingError,
    HearingNotFound,
    HearingNotOpen,
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    RateLimited,
    RemoteSessionEnded,
    RequestTooLarge,
)
from hearing.interpreter import admission, codes
from hearing.interpreter.attempts import WINDOW_SECONDS, Tally, UnknownAttempts
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.speaker_order.floor import Floor
from hearing.web import csrf, language
from hearing.web import seat as seat_session
from hearing.web.errors import wants_json
from hearing.web.pages import TEMPLATES, read_form, render
from hearing.web.routing import (
    Audience,
    RemotePrincipal,
    client_address,
    cookie_names,
    delete_cookie,
    remote,
    remote_token,
    route,
    services,
    set_cookie,
)
from hearing.web.sockets import socket_route

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# What the gateway's pages load, and all the gateway serves of the static
# directory: the staff pages' scripts are not reachable through it.
STATIC_FILES = ("remote.js", "media_link.js", "style.css", "favicon.svg")
# The remote cookie outlives a closed browser for the day; the session's own
# end (the hearing's end, or past its window) is the service's to decide.
REMOTE_COOKIE_SECONDS = 24 * 3600
# The page pings every 2 s; 5 s of silence means the link is gone.
LIVENESS_SECONDS = seat_session.LIVENESS_SECONDS
# How often the gateway looks whether a window of unknown attempts has closed.
UNKNOWN_FLUSH_SECONDS = 5.0
# What the remote page's script needs to say things, in both languages.
REMOTE_TEXT = ("remote.",)
# Where the language switch may send the browser back to: the gateway's own pages.
GATEWAY_PAGES = ("/join", "/join/verify", "/remote")


# --- attempts: rate limits and the count of unknown invitations ----------------------


def source(connection: HTTPConnection) -> str:
    """Who is trying: the internal app's rule (web/routing.py's `client_address`)."""
    return client_address(connection)


def limit_attempts(request: Request) -> None:
    """A code or authenticator submission: at most so many a minute from
    one source, and so many in all (a spread-out guess is bounded too)."""
    state = request.app.state
    state.attempts_per_source.hit(source(request))
    state.attempts_global.hit("gateway")


class UnknownLog:
    """The gateway's count of attempts against unknown invitations, and the
    task that appends each closed window as one REMOTE_CODE_UNKNOWN entry
    (system actor); what is counted when the gateway stops is appended then.
    Started once; `stop()` tells the task to stop and awaits it between two
    rounds (an append in a worker thread is never abandoned half way). A
    tally the database did not take is kept and appended the next round."""

    def __init__(
        self, svc: Services, *, window: float = WINDOW_SECONDS, interval: float = UNKNOWN_FLUSH_SECONDS
    ) -> None:
        self._svc = svc
        self.attempts = UnknownAttempts(time.monotonic, window=window)
        self.interval = interval
        self._unsent: list[Tally] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def __repr__(self) -> str:
        return f"UnknownLog({self.attempts!r})"

    def count(self, connection: HTTPConnection) -> None:
        self.attempts.count(source(connection))

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=repr(self))

    async def stop(self) -> None:
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        await self.flush(everything=True)

    async def flush(self, *, everything: bool = False) -> bool:
        """Append the tally of a window that has closed (or whatever is
        counted: the gateway stops), and any a failed round kept; whether
        anything was appended."""
        tally = self.attempts.drain() if everything else self.attempts.due()
        if tally is not None:
            self._unsent.append(tally)
        appended = False
        while self._unsent:
            await self._append(self._unsent[0])
            self._unsent.pop(0)
            appended = True
        return appended

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):  # not wait_for: see hearing/media/room.py
                    await self._stopping.wait()
            if self._stopping.is_set():
                return
            try:
                await self.flush()
            except Exception:  # the database away for a moment: the next round tries again
                logger.warning("%r: could not append the count", self, exc_info=True)

    async def _append(self, tally: Tally) -> None:
        fields = {"repeated": tally.repeated, "sources": tally.sources, "window_seconds": tally.window_seconds}
        await self._svc.run(lambda db: append(db, SYSTEM, Action.REMOTE_CODE_UNKNOWN, **fields))


def unknown_log(connection: HTTPConnection) -> UnknownLog:
    log: UnknownLog = connection.app.state.unknown_attempts
    return log


# --- the join page and the code step --------------------------------------------------------


def _invitation(raw: str) -> str | None:
    # Ten characters of the invitation alphabet (hearing/interpreter/codes.py);
    # anything else names nothing and is never looked up.
    return codes.normalise_invitation(raw.strip())


def _join_context(*, invitation: str = "", error: str | None = None) -> dict[str, object]:
    return {"invitation": invitation, "error": error}


async def join_page(request: Request) -> Response:
    # Showing the page uses nothing up: link previews and scanners may open it.
    raw = request.path_params.get("invitation", "")
    invitation = _invitation(raw) or ""
    return render(request, "remote_join.html", _join_context(invitation=invitation))


async def join_submit(request: Request) -> Response:
    limit_attempts(request)
    fields = await read_form(request)
    invitation = _invitation(fields.get("invitation", ""))
    # The code as typed: the service reads it (grouping, separators) and
    # charges whatever it is to the invitation's code, malformed or not.
    code = fields.get("code", "")
    request.state.invitation = invitation or ""
    if invitation is None:
        unknown_log(request).count(request)
        raise CodeRejected()
    svc = services(request)
    now = utcnow()
    result = await svc.run(lambda db: admission.redeem(db, svc.keys, invitation, code, now=now))
    return _session_opened(request, result)


def _session_opened(request: Request, redeemed: admission.Redeemed | admission.Rejected) -> Response:
    """The code (or the authenticator) passed: the remote cookie, a CSRF
    cookie bound to it, and the next step. Refused: the one generic answer,
    an attempt at no known invitation counted."""
    if isinstance(redeemed, admission.Rejected):
        if not redeemed.known:
            unknown_log(request).count(request)
        raise CodeRejected()
    target = "/join/verify" if redeemed.needs_totp else "/remote"
    response: Response = (
        JSONResponse({"next": target}) if wants_json(request) else RedirectResponse(target, status_code=303)
    )
    set_cookie(request, response, cookie_names(request).remote, redeemed.token, max_age=REMOTE_COOKIE_SECONDS)
    csrf.rotate(request, services(request).keys.csrf, session=redeemed.token)
    csrf.set_cookie(request, response)
    return response


# --- the authenticator step ------------------------------------------------------------------


async def verify_page(request: Request) -> Response:
    token = remote_token(request)
    svc = services(request)
    now = utcnow()
    info = None
    if token is not None:
        info = await svc.read(lambda db: admission.load_session(db, svc.keys, token, now=now, verified_only=False))
    if info is None:
        return RedirectResponse("/join", status_code=303)
    if info.verified:
        return RedirectResponse("/remote", status_code=303)
    return render(request, "remote_verify.html", {"error": None})


async def verify_submit(request: Request) -> Response:
    limit_attempts(request)
    fields = await read_form(request)
    token = remote_token(request)
    code = fields.get("code", "")
    if token is None:
        unknown_log(request).count(request)
        raise CodeRejected()
    svc = services(request)
    now = utcnow()
    result = await svc.run(lambda db: admission.second_factor(db, svc.keys, token, code, now=now))
    return _session_opened(request, result)


# --- the remote party's page ---------------------------------------------------------------


async def remote_page(request: Request) -> Response:
    principal = remote(request)
    svc = services(request)
    tz = svc.settings.timezone

    def load(db: Session) -> dict[str, object]:
        hearing = db.get(Hearing, principal.hearing_id)
        if hearing is None:
            raise RemoteSessionEnded()
        summary = summarise(hearing, tz)
        return {
            "case_number": summary["case_number"],
            "start": summary["start"].strftime("%H:%M"),
            "end": summary["end"].strftime("%H:%M"),
            "court": summary["court"],
            "courtroom": summary["courtroom"],
        }

    hearing = await svc.read(load)
    context = {
        "party": principal,
        "kind": principal.seat.split("-")[0],
        "hearing": hearing,
        "remote_text": {code: language.texts(code, REMOTE_TEXT) for code in language.LANGUAGES},
    }
    return render(request, "remote_hearing.html", context)


async def choose_language(request: Request) -> Response:
    fields = await read_form(request)
    chosen = fields.get("lang", "")
    if chosen not in language.LANGUAGES:
        raise InvalidInput("Choose da or en.", field="lang")
    target = fields.get("next", "")
    if not (target in GATEWAY_PAGES or (target.startswith("/join/") and _invitation(target[6:]))):
        target = "/join"
    # The remote page switches in place (its media link stays up): it asks for JSON.
    response: Response = (
        JSONResponse({"lang": chosen}) if wants_json(request) else RedirectResponse(target, status_code=303)
    )
    set_cookie(request, response, cookie_names(request).language, chosen, max_age=365 * 86400)
    return response


# --- the remote party's media socket ---------------------------------------------------------


async def _admit(websocket: WebSocket, principal: RemotePrincipal) -> tuple[Floor, HearingState]:
    def check(db: Session) -> tuple[Floor, HearingState]:
        hearing = db.get(Hearing, principal.hearing_id)
        if hearing is None:
            raise HearingNotFound()
        if hearing.state not in LIVE_STATES:
            raise HearingNotOpen()
        floor = presiding.current(db, hearing)
        if principal.seat not in floor.seat_roles:
            raise PermissionDenied("This seat is no longer part of the hearing.")
        return floor, hearing.state

    return await services(websocket).run(check)


async def remote_media_socket(websocket: WebSocket) -> None:
    """The seat is the session's; it waits in the lobby until the judge
    admits it (the floor does that: a remote seat starts there)."""
    principal: RemotePrincipal = websocket.state.principal
    floor, state = await _admit(websocket, principal)
    addresses: Sequence[str] = websocket.app.state.gateway_media_addresses
    await seat_session.serve(
        websocket,
        principal.hearing_id,
        principal.seat,
        floor,
        state,
        liveness=LIVENESS_SECONDS,
        host_addresses=addresses,
    )


# --- errors at the gateway ------------------------------------------------------------------

# The page's words for the errors a remote party can meet (the messages of
# hearing/errors.py are English).
ERROR_WORDS = {
    CodeRejected.code: "remote.error.code_rejected",
    RemoteSessionEnded.code: "remote.error.session_ended",
    NotAuthenticated.code: "remote.error.session_ended",
    CsrfRejected.code: "remote.error.csrf",
    RateLimited.code: "remote.error.rate_limited",
    RequestTooLarge.code: "remote.error.too_large",
    InvalidInput.code: "remote.error.invalid",
}


def _words(lang: str, code: str) -> str | None:
    key = ERROR_WORDS.get(code)
    return language.TEXT[key][lang] if key else None


async def gateway_error(request: Request, exc: Exception) -> Response:
    """A domain error at the gateway: JSON for JSON clients; for a browser,
    the page the person was on, with the error in their language."""
    assert isinstance(exc, HearingError)
    if wants_json(request):
        return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)
    lang = language.language(request)
    words = _words(lang, exc.code) or exc.message
    response: Response
    if isinstance(exc, NotAuthenticated) and request.method == "GET":
        token = remote_token(request)
        if token is None and not isinstance(exc, RemoteSessionEnded):
            return RedirectResponse("/join", status_code=303)
        if token is not None and await _awaits_second_factor(request, token):
            return RedirectResponse("/join/verify", status_code=303)
        response = render(request, "remote_join.html", _join_context(error=words), status=exc.status)
        delete_cookie(request, response, cookie_names(request).remote)
        return response
    if isinstance(exc, CodeRejected | RateLimited | CsrfRejected) and request.url.path == "/join/verify":
        return render(request, "remote_verify.html", {"error": words}, status=exc.status)
    if isinstance(exc, CodeRejected | RateLimited | CsrfRejected | InvalidInput) and request.url.path == "/join":
        invitation = getattr(request.state, "invitation", "")
        return render(request, "remote_join.html", _join_context(invitation=invitation, error=words), status=exc.status)
    return _error_page(request, exc.status, exc.code, words)


async def _awaits_second_factor(request: Request, token: str) -> bool:
    svc = services(request)
    now = utcnow()
    info = await svc.read(lambda db: admission.load_session(db, svc.keys, token, now=now, verified_only=False))
    return info is not None and not info.verified


def _error_page(request: Request, status: int, code: str, words: str) -> Response:
    lang = language.language(request)
    context = {"request": request, "lang": lang, "t": language.translator(lang), "status": status, "code": code}
    context["message"] = words
    return TEMPLATES.TemplateResponse(request, "remote_error.html", context, status_code=status)


async def gateway_http_error(request: Request, exc: Exception) -> Response:
    """A path (or a method on it) the gateway does not serve is a plain 404:
    the gateway does not say what exists elsewhere."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        return not_found_response()
    # Starlette's own refusals of a form it cannot read (too many parts, files).
    code = "request_too_large" if exc.status_code == 413 else "bad_request"
    if wants_json(request):
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        return JSONResponse({"error": code, "message": message}, status_code=exc.status_code)
    lang = language.language(request)
    return _error_page(request, exc.status_code, code, language.TEXT["remote.error.invalid"][lang])


async def gateway_server_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error at the gateway", extra={"path": request.url.path})
    if wants_json(request):
        return JSONResponse(
            {"error": "internal_error", "message": "Something went wrong on the server."}, status_code=500
        )
    lang = language.language(request)
    return _error_page(request, 500, "internal_error", language.TEXT["error.internal"][lang])


def not_found_response() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """The gateway's router default: a 404 for HTTP (through the handler
    above), and for a socket the same 404 as its handshake's answer."""
    if scope["type"] == "websocket":
        websocket = WebSocket(scope, receive, send)
        if "websocket.http.response" in scope.get("extensions", {}):
            await websocket.send_denial_response(not_found_response())
        else:
            await websocket.close(code=1008)
        return
    raise HTTPException(status_code=404)


# --- the routes -----------------------------------------------------------------------------


def _static(name: str) -> BaseRoute:
    path = STATIC_DIR / name

    async def static_file(request: Request) -> Response:
        return FileResponse(path)

    return route(f"/static/{name}", static_file, audience=Audience.PUBLIC, name=f"static_{name}")


ROUTES: list[BaseRoute] = [
    route("/join", join_page, audience=Audience.PUBLIC),
    route("/join", join_submit, audience=Audience.PUBLIC, methods=["POST"], name="join_submit"),
    # Before /join/{invitation}: "verify" is the step's name, never an invitation's.
    route("/join/verify", verify_page, audience=Audience.PUBLIC),
    route("/join/verify", verify_submit, audience=Audience.PUBLIC, methods=["POST"], name="verify_submit"),
    route("/join/{invitation}", join_page, audience=Audience.PUBLIC, name="join_invitation"),
    route("/remote", remote_page, audience=Audience.REMOTE),
    route("/remote/language", choose_language, audience=Audience.PUBLIC, methods=["POST"], name="remote_language"),
    socket_route("/ws/remote/media", remote_media_socket, audience=Audience.REMOTE, name="remote_media_socket"),
    *(_static(name) for name in STATIC_FILES),
]
