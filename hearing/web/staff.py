"""Staff sign-in, first-time TOTP enrolment, sign-out, and the home page."""

from __future__ import annotations

from typing import Any

import segno
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hearing.auth import signin, users
from hearing.auth.permissions import Permission
from hearing.clock import utcnow
from hearing.db.models import StaffSession, StaffUser
from hearing.errors import AuthenticationFailed, CsrfRejected, EnrolmentRequired, InvalidInput, RateLimited
from hearing.web import csrf, language
from hearing.web.errors import wants_json
from hearing.web.pages import read_form, render
from hearing.web.routing import (
    Audience,
    cookie_names,
    delete_cookie,
    limit_guessing,
    route,
    services,
    session_signer,
    set_cookie,
    staff,
)
from hearing.web.sockets import socket_watch

ENROLMENT_TICKET_SECONDS = 10 * 60
MAX_USERNAME = 64
MAX_SECRET = 256


def _safe_next(target: str | None) -> str:
    # Only local paths: never an open redirect to another site.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:500]
    return "/"


def _ticket_serializer(request: Request, step: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services(request).keys.session_signing, salt=step)


def _signed_in(db: Session, result: signin.SignInResult) -> dict[str, str] | None:
    """Who has just signed in, for an API client's answer."""
    if not result.ok or result.user_id is None:
        return None
    user = db.get_one(StaffUser, result.user_id)
    return {"username": user.username, "display_name": user.display_name, "role": user.role.value}


def _session_response(request: Request, token: str, target: str, user: dict[str, str]) -> Response:
    svc = services(request)
    session = session_signer(svc).sign(token.encode()).decode()
    # A new CSRF cookie, bound to the new session: whatever token was known
    # for the browser's old cookie (a planted one, say) no longer works.
    csrf_token = csrf.rotate(request, svc.keys.csrf, session=session)
    response: Response
    if wants_json(request):
        # An API client gets the cookies in an answer, not a redirect to
        # follow, and the form token that now goes with them.
        response = JSONResponse({"user": user, "next": _safe_next(target), "csrf_token": csrf_token})
    else:
        response = RedirectResponse(_safe_next(target), status_code=303)
    set_cookie(request, response, cookie_names(request).session, session)
    csrf.set_cookie(request, response)
    return response


async def signin_page(request: Request) -> Response:
    return render(request, "signin.html", {"next": _safe_next(request.query_params.get("next"))})


async def signin_submit(request: Request) -> Response:
    try:
        return await _signin(request)
    except (AuthenticationFailed, RateLimited, CsrfRejected) as exc:
        if wants_json(request):
            raise  # JSON, from the one error mapping
        # Back to the form, with the one generic message (or the rate limit)
        # and its code, which a person reporting it can quote.
        return render(request, "signin.html", {"next": "/", "error": exc.code}, status=exc.status)


async def _signin(request: Request) -> Response:
    limit_guessing(request)
    fields = await read_form(request)
    username = fields.get("username", "").strip().lower()
    password = fields.get("password", "")
    code = fields.get("code", "")
    target = _safe_next(fields.get("next"))
    svc = services(request)
    if not username or not password or len(username) > MAX_USERNAME or len(password) > MAX_SECRET:
        raise AuthenticationFailed()

    # Read, hash outside any transaction (a bounded pool: beyond it the
    # attempt is refused as busy), then record the outcome in a short write.
    attempt = await svc.read(lambda db: signin.prepare(db, username))
    password_ok = await svc.check_password(password, attempt.password_hash)

    def finish(db: Session) -> tuple[signin.SignInResult, dict[str, str] | None]:
        result = signin.record(db, svc.keys, attempt, password_ok, code, utcnow())
        return result, _signed_in(db, result)

    result, user = await svc.run(finish)
    if result.needs_enrolment and result.user_id is not None:
        ticket = _ticket_serializer(request, PASSWORD_STEP).dumps({"user": result.user_id, "next": target})
        enrol = f"/signin/enrol?ticket={ticket}"
        if wants_json(request):
            # Scanning a QR code takes a person: the client hands them the link.
            refusal = EnrolmentRequired()
            body = {"error": refusal.code, "message": refusal.message, "enrol": enrol}
            return JSONResponse(body, status_code=refusal.status)
        return RedirectResponse(enrol, status_code=303)
    if result.session_token is None or user is None:
        raise AuthenticationFailed()
    return _session_response(request, result.session_token, target, user)


# A first sign-in's tickets: after the password (PASSWORD), then after the
# enrolment code too (REVEALED, naming the secret shown). Each lasts 10 minutes.
PASSWORD_STEP = "totp-enrolment"  # noqa: S105 (a salt's name)
REVEALED_STEP = "totp-enrolment-revealed"


def _read_ticket(request: Request, ticket: str | None, step: str = PASSWORD_STEP) -> dict[str, Any]:
    """The user, the page to go to after enrolment and (once revealed) the
    secret's fingerprint, from a ticket of this step."""
    if not ticket or len(ticket) > 512:
        raise AuthenticationFailed()
    try:
        data = _ticket_serializer(request, step).loads(ticket, max_age=ENROLMENT_TICKET_SECONDS)
    except BadSignature:
        raise AuthenticationFailed() from None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        raise AuthenticationFailed()
    if step == REVEALED_STEP and not isinstance(data.get("secret"), str):
        raise AuthenticationFailed()
    return {"user": data["user"], "next": _safe_next(data.get("next")), "secret": data.get("secret", "")}


async def enrol_page(request: Request) -> Response:
    """After the password: the form for the enrolment code (no secret yet)."""
    ticket = request.query_params.get("ticket")
    user_id = _read_ticket(request, ticket)["user"]
    if not await services(request).read(lambda db: signin.awaiting_enrolment(db, user_id)):
        raise AuthenticationFailed()
    return render(request, "enrol_code.html", {"ticket": ticket})


async def _revealed_page(
    request: Request, ticket: dict[str, Any], status: int = 200, error: str | None = None
) -> Response:
    svc = services(request)
    user_id, fingerprint = ticket["user"], ticket["secret"]
    uri = await svc.read(lambda db: signin.enrolment_uri(db, svc.keys, user_id, fingerprint))
    if uri is None:
        raise AuthenticationFailed()
    qr = segno.make(uri, error="m").svg_data_uri(scale=5)
    signed = _ticket_serializer(request, REVEALED_STEP).dumps(ticket)
    context = {"qr": qr, "ticket": signed, "secret_uri": uri, "error": error}
    return render(request, "enrol.html", context, status=status)


async def enrol_code_submit(request: Request) -> Response:
    """Password and enrolment code: the code is used up, and the new
    authenticator is shown, to be confirmed with its first code."""
    limit_guessing(request)
    fields = await read_form(request)
    ticket = _read_ticket(request, fields.get("ticket"))
    code = fields.get("enrolment_code", "")
    if not code or len(code) > users.MAX_CODE_INPUT:
        raise AuthenticationFailed()
    svc = services(request)
    user_id = ticket["user"]
    fingerprint = await svc.run(lambda db: signin.redeem_enrolment_code(db, svc.keys, user_id, code, utcnow()))
    if fingerprint is None:
        raise AuthenticationFailed()
    return await _revealed_page(request, {**ticket, "secret": fingerprint})


async def enrol_submit(request: Request) -> Response:
    limit_guessing(request)
    fields = await read_form(request)
    ticket = _read_ticket(request, fields.get("ticket"), REVEALED_STEP)
    svc = services(request)
    code = fields.get("code", "")
    if len(code) > 16:
        raise InvalidInput("A code is six digits.", field="code")
    user_id, fingerprint = ticket["user"], ticket["secret"]

    def confirm(db: Session) -> tuple[signin.SignInResult, dict[str, str] | None]:
        result = signin.confirm_enrolment(db, svc.keys, user_id, fingerprint, code, utcnow())
        return result, _signed_in(db, result)

    result, user = await svc.run(confirm)
    if result.session_token is None or user is None:
        if wants_json(request):
            raise AuthenticationFailed()
        # A mistyped code: the same authenticator again, to try once more.
        return await _revealed_page(request, ticket, AuthenticationFailed.status, AuthenticationFailed.code)
    return _session_response(request, result.session_token, ticket["next"], user)


async def signout(request: Request) -> Response:
    await read_form(request)
    principal = staff(request)
    svc = services(request)

    def end(db: Session) -> None:
        record = db.get(StaffSession, principal.session_id)
        if record is not None and record.ended_at is None:
            signin.end_session(db, record, utcnow())

    await svc.run(end)
    # This process's sockets of the session close now; other nodes' within
    # their recheck interval.
    socket_watch(request).dismiss_session(principal.session_id, "signed_out")
    response = RedirectResponse("/signin", status_code=303)
    delete_cookie(request, response, cookie_names(request).session)
    csrf.rotate(request, svc.keys.csrf, session="")
    csrf.set_cookie(request, response)
    return response


async def home(request: Request) -> Response:
    principal = staff(request)
    if principal.can(Permission.KEEP_CUSTODY):
        return RedirectResponse("/custody", status_code=303)  # the officer's desk
    if principal.can(Permission.VIEW_HEARINGS):
        return RedirectResponse("/hearings", status_code=303)
    if principal.can(Permission.READ_AUDIT):
        return RedirectResponse("/audit", status_code=303)
    return render(request, "home.html")


async def choose_language(request: Request) -> Response:
    fields = await read_form(request)
    chosen = fields.get("lang", "")
    if chosen not in language.LANGUAGES:
        raise InvalidInput("Choose da or en.", field="lang")
    # The hearing page switches in place (its video link stays up): it asks for JSON.
    target = _safe_next(fields.get("next"))
    response: Response = (
        JSONResponse({"lang": chosen}) if wants_json(request) else RedirectResponse(target, status_code=303)
    )
    set_cookie(request, response, cookie_names(request).language, chosen, max_age=365 * 86400)
    return response


ROUTES = [
    route("/", home, audience=Audience.STAFF),
    route("/signin", signin_page, audience=Audience.PUBLIC),
    route("/signin", signin_submit, audience=Audience.PUBLIC, methods=["POST"], name="signin_submit"),
    route("/signin/enrol", enrol_page, audience=Audience.PUBLIC),
    route("/signin/enrol", enrol_submit, audience=Audience.PUBLIC, methods=["POST"], name="enrol_submit"),
    route(
        "/signin/enrol/code", enrol_code_submit, audience=Audience.PUBLIC, methods=["POST"], name="enrol_code_submit"
    ),
    route("/signout", signout, audience=Audience.STAFF, methods=["POST"]),
    route("/language", choose_language, audience=Audience.PUBLIC, methods=["POST"]),
]
