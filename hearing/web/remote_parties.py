"""The clerk's remote parties (issue 12): on the hearing's page, who joins
from outside and the state of each one's code; adding a party, issuing,
re-issuing and revoking codes, the hearing's TOTP requirement; the page
that shows a fresh code once, with the invitation in Danish and English,
and the invitation's calendar file. And the court's register of
interpreters, with their authenticators' enrolment.

Every change is one of the codes' services (hearing/interpreter/issuing.py,
register.py), which authorise, change and audit in one transaction; this
module reads forms, calls them and draws pages. A party added or removed
while the hearing runs changes its floor: the live hearing follows it, and
the judge's panel shows the new seat's lobby card at once.
"""

from __future__ import annotations

from typing import Any

import pyotp
import segno
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hearing.auth import totp
from hearing.auth.keys import KeyRing
from hearing.auth.permissions import Permission
from hearing.clock import utcnow
from hearing.config import Settings
from hearing.db.models import Hearing, OneTimeCode, RegisteredInterpreter, StaffUser
from hearing.docket import booking
from hearing.docket.parties import ParticipantRole
from hearing.errors import AuthenticationFailed, HearingError, HearingNotFound, InvalidInput, NotFound
from hearing.fields import ID_DIGITS, whole_number
from hearing.interpreter import invitation, issuing, register
from hearing.interpreter.codes import grouped
from hearing.speaker_order import presiding
from hearing.web import shown_once
from hearing.web.pages import read_form, render
from hearing.web.remote_view import ROLES, section
from hearing.web.routing import Audience, live_hearings, route, services, staff

R = ParticipantRole
ADD_FIELDS = frozenset({"role", "name", "language", "contact", "registered_interpreter_id"})


# --- reading the clerk's forms --------------------------------------------------------


def _id(raw: str | None, field: str) -> int | None:
    if raw is None or raw == "":
        return None
    if len(raw) > ID_DIGITS + 2:
        raise InvalidInput("That is not one of the choices.", field=field)
    return whole_number(raw, field=field)


def _role(raw: str | None) -> ParticipantRole:
    try:
        role = ParticipantRole(raw or "")
    except ValueError:
        role = None
    if role not in ROLES:
        raise InvalidInput(
            "A remote party is an interpreter, defence counsel, a prosecutor or a witness.", field="role"
        )
    return role


def _only(fields: dict[str, str], allowed: frozenset[str]) -> None:
    unexpected = set(fields) - allowed
    if unexpected:
        raise InvalidInput("The form has unexpected fields.", field=sorted(unexpected)[0][:40])


def _visible(db: Session, request: Request, hearing_id: int) -> Hearing:
    return booking.visible_hearing(db, db.get_one(StaffUser, staff(request).user_id), hearing_id)


async def _follow(request: Request, hearing_id: int, *, gone: str | None = None) -> None:
    """The hearing's floor may have gained or lost a seat: a live hearing
    follows it (the judge's panel shows a new seat's lobby card); a removed
    party's connection is closed."""
    live = live_hearings(request).get(hearing_id)
    if live is None:
        return
    floor = await services(request).read(lambda db: presiding.current(db, db.get_one(Hearing, hearing_id)))
    live.follow(floor)
    if gone is not None:
        live.turn_away(gone)


def _back(hearing_id: int) -> Response:
    return RedirectResponse(f"/hearings/{hearing_id}#remote-parties", status_code=303)


# --- the routes: a hearing's remote parties -----------------------------------------------


async def add_party(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    fields = await read_form(request)
    svc = services(request)
    await svc.read(lambda db: _visible(db, request, hearing_id))

    def add(db: Session) -> None:
        _only(fields, ADD_FIELDS)
        role = _role(fields.get("role"))
        registered_id = _id(fields.get("registered_interpreter_id"), "registered_interpreter_id")
        name, contact = fields.get("name", ""), fields.get("contact", "")
        if registered_id is not None and role is R.INTERPRETER:
            # Chosen from the register: what the clerk left empty comes from there.
            entry = register.entry(db, registered_id)
            name, contact = name.strip() or entry.name, contact.strip() or entry.contact
        issuing.add_remote_party(
            db,
            principal.actor,
            hearing_id,
            role,
            name,
            language=fields.get("language") if role is R.INTERPRETER else None,
            contact=contact,
            registered_interpreter_id=registered_id,
        )

    try:
        await svc.run(add)
    except HearingNotFound:
        raise
    except (InvalidInput, NotFound) as exc:
        # The clerk's mistake (or a register entry gone meanwhile): the form
        # again, as filled in, saying what was wrong. Nothing was added.
        return await _form_again(request, hearing_id, fields, exc)
    await _follow(request, hearing_id)
    return _back(hearing_id)


async def _form_again(request: Request, hearing_id: int, fields: dict[str, str], error: HearingError) -> Response:
    """The add form again, as the clerk filled it, with what was wrong."""
    svc = services(request)

    def load(db: Session) -> dict[str, Any]:
        hearing = _visible(db, request, hearing_id)
        remote = section(db, hearing, svc.settings.timezone, utcnow())
        return {"hearing_id": hearing.id, "case_number": hearing.case_number, "remote": remote}

    context = {**await svc.read(load), "values": fields, "error": error}
    return render(request, "remote_party_form.html", context, status=error.status)


async def require_totp(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    fields = await read_form(request)
    _only(fields, frozenset({"require_totp"}))
    choice = fields.get("require_totp")
    if choice not in ("on", "off"):
        raise InvalidInput("Choose on or off.", field="require_totp")

    def switch(db: Session) -> None:
        _visible(db, request, hearing_id)
        issuing.set_require_totp(db, principal.actor, hearing_id, choice == "on")

    await services(request).run(switch)
    return _back(hearing_id)


def _code_page(hearing_id: int, participant_id: int) -> str:
    return f"/hearings/{hearing_id}/remote/{participant_id}/code"


async def issue_code(request: Request) -> Response:
    """Issue (or re-issue) a party's code, then show it once on the GET
    this redirects to (hearing/web/shown_once.py)."""
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    participant_id: int = request.path_params["participant_id"]
    fields = await read_form(request)
    _only(fields, frozenset())
    svc = services(request)

    def issue(db: Session) -> issuing.Issued:
        _visible(db, request, hearing_id)
        early = svc.settings.remote_code_early_minutes
        return issuing.issue_code(
            db, svc.keys, principal.actor, hearing_id, participant_id, now=utcnow(), early_minutes=early
        )

    issued = await svc.run(issue)
    page = _code_page(hearing_id, participant_id)
    response = RedirectResponse(page, status_code=303)
    secret = {"code": issued.code, "invitation": issued.invitation}
    shown_once.hand_over(request, response, page=page, session_id=principal.session_id, secret=secret)
    return response


async def shown_code(request: Request) -> Response:
    """The fresh code and the invitation to send, once: the answer deletes
    what carried the code here, so a reload finds it gone."""
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    participant_id: int = request.path_params["participant_id"]
    svc = services(request)
    page = _code_page(hearing_id, participant_id)
    handed = shown_once.take(request, page=page, session_id=principal.session_id)
    tz = svc.settings.timezone

    def load(db: Session) -> dict[str, Any]:
        hearing = _visible(db, request, hearing_id)
        party = _remote_party(db, hearing.id, participant_id)
        context: dict[str, Any] = {"hearing": hearing, "party": party, "shown": None}
        # Shown only while it is still the party's live code: re-issued or
        # revoked in the meantime, it is gone as well.
        if handed is not None and party.invitation == handed.get("invitation") and party.code_state == "live":
            code = str(handed.get("code", ""))
            facts = _facts(db, svc.settings, party, code=code)
            context["shown"] = {"code": grouped(code), "letter": invitation.text(facts)}
        context["valid_from"] = party.valid_from.astimezone(tz) if party.valid_from else None
        context["valid_until"] = party.valid_until.astimezone(tz) if party.valid_until else None
        return context

    context = await svc.read(load)
    response = render(request, "remote_code.html", context)
    shown_once.forget(request, response)
    return response


def _facts(db: Session, settings: Settings, party: issuing.RemoteParty, *, code: str) -> invitation.InvitationFacts:
    """What the invitation says of the party's newest code (`code` itself
    only where it is shown: the calendar file never carries it)."""
    row = db.scalar(select(OneTimeCode).where(OneTimeCode.invitation == party.invitation))
    if row is None or row.participant_id != party.participant_id:
        raise NotFound("This remote party has no code.")
    issued = issuing.Issued(code, row.invitation, row.id, row.valid_from, row.valid_until, party.seat, False)
    return issuing.invitation_facts(
        db, issued, gateway_base_url=settings.gateway_base_url, tz=settings.timezone, now=row.issued_at
    )


def _remote_party(db: Session, hearing_id: int, participant_id: int) -> issuing.RemoteParty:
    parties = issuing.remote_parties(db, hearing_id, now=utcnow())
    found = next((p for p in parties if p.participant_id == participant_id), None)
    if found is None:
        raise NotFound("No such remote party in this hearing.")
    return found


async def revoke_code(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    participant_id: int = request.path_params["participant_id"]
    fields = await read_form(request)
    _only(fields, frozenset())

    def revoke(db: Session) -> None:
        _visible(db, request, hearing_id)
        issuing.revoke_code(db, principal.actor, hearing_id, participant_id, now=utcnow())

    await services(request).run(revoke)
    return _back(hearing_id)


async def remove_party(request: Request) -> Response:
    principal = staff(request)
    hearing_id: int = request.path_params["hearing_id"]
    participant_id: int = request.path_params["participant_id"]
    fields = await read_form(request)
    _only(fields, frozenset())

    def remove(db: Session) -> str:
        _visible(db, request, hearing_id)
        seat = _remote_party(db, hearing_id, participant_id).seat
        issuing.remove_remote_party(db, principal.actor, hearing_id, participant_id)
        return seat

    seat = await services(request).run(remove)
    await _follow(request, hearing_id, gone=seat)
    return _back(hearing_id)


async def invitation_ics(request: Request) -> Response:
    """The invitation's calendar entry: the hearing, its time and the join
    address; never the code (that goes in the message, once)."""
    hearing_id: int = request.path_params["hearing_id"]
    participant_id: int = request.path_params["participant_id"]
    svc = services(request)

    def load(db: Session) -> tuple[str, bytes]:
        hearing = _visible(db, request, hearing_id)
        party = _remote_party(db, hearing.id, participant_id)
        if party.invitation is None:
            raise NotFound("This remote party has no code yet: issue one first.")
        return hearing.case_number, invitation.ics(_facts(db, svc.settings, party, code=""))

    case, body = await svc.read(load)
    filename = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in case).strip("-") or "hearing"
    headers = {"Content-Disposition": f'attachment; filename="hearing-{filename}.ics"'}
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


# --- the routes: the register of interpreters ------------------------------------------------


async def interpreters(
    request: Request, *, status: int = 200, error: HearingError | None = None, values: dict[str, str] | None = None
) -> Response:
    entries = await services(request).read(register.entries)
    context = {"entries": entries, "error": error, "values": values or {}}
    return render(request, "interpreters.html", context, status=status)


async def interpreters_page(request: Request) -> Response:
    return await interpreters(request)


async def add_interpreter(request: Request) -> Response:
    principal = staff(request)
    fields = await read_form(request)

    def add(db: Session) -> None:
        _only(fields, frozenset({"name", "languages", "contact"}))
        register.register(
            db,
            principal.actor,
            name=fields.get("name", ""),
            languages=fields.get("languages", ""),
            contact=fields.get("contact", ""),
            now=utcnow(),
        )

    try:
        await services(request).run(add)
    except InvalidInput as exc:
        return await interpreters(request, status=exc.status, error=exc, values=fields)
    return RedirectResponse("/interpreters", status_code=303)


def _totp_page(interpreter_id: int) -> str:
    return f"/interpreters/{interpreter_id}/totp"


async def begin_totp(request: Request) -> Response:
    """A new authenticator for the interpreter: shown on the next page as a
    QR code, to be confirmed with the app's first code."""
    principal = staff(request)
    interpreter_id: int = request.path_params["interpreter_id"]
    fields = await read_form(request)
    _only(fields, frozenset())
    svc = services(request)
    await svc.run(lambda db: register.begin_totp(db, svc.keys, principal.actor, interpreter_id))
    return RedirectResponse(_totp_page(interpreter_id), status_code=303)


async def totp_page(request: Request, *, status: int = 200, error: HearingError | None = None) -> Response:
    interpreter_id: int = request.path_params["interpreter_id"]
    svc = services(request)

    def load(db: Session) -> tuple[register.Entry, str | None]:
        return register.entry(db, interpreter_id), _enrolment_uri(db, svc.keys, interpreter_id)

    entry, uri = await svc.read(load)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5) if uri is not None else None
    context = {"entry": entry, "qr": qr, "secret_uri": uri, "error": error}
    return render(request, "interpreter_totp.html", context, status=status)


def _enrolment_uri(db: Session, keys: KeyRing, interpreter_id: int) -> str | None:
    """The app's provisioning URI of an enrolment begun and not yet
    confirmed (the QR again, until the first code confirms it), as
    register.begin_totp made it; None otherwise."""
    interpreter = db.get_one(RegisteredInterpreter, interpreter_id)
    if interpreter.totp_confirmed or interpreter.totp_secret_enc is None or interpreter.disabled_at is not None:
        return None
    secret = issuing.totp_secret(keys, interpreter)
    label = f"{interpreter.name} (#{interpreter.id})"
    return pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=totp.ISSUER)


async def totp_page_get(request: Request) -> Response:
    return await totp_page(request)


async def confirm_totp(request: Request) -> Response:
    principal = staff(request)
    interpreter_id: int = request.path_params["interpreter_id"]
    fields = await read_form(request)
    _only(fields, frozenset({"code"}))
    code = fields.get("code", "")
    if len(code) > 16:
        raise InvalidInput("A code is six digits.", field="code")
    svc = services(request)
    try:
        await svc.run(
            lambda db: register.confirm_totp(db, svc.keys, principal.actor, interpreter_id, code, now=utcnow())
        )
    except AuthenticationFailed as exc:
        # The interpreter's code, not the clerk's sign-in: the page again
        # (400, the QR still there) rather than a 401 that means "sign in".
        return await totp_page(request, status=400, error=exc)
    return RedirectResponse("/interpreters", status_code=303)


_PARTY = "/hearings/{hearing_id:id}/remote/{participant_id:id}"
_INTERPRETER = "/interpreters/{interpreter_id:id}"
STAFF, INVITE, POST = Audience.STAFF, Permission.INVITE_REMOTE, ["POST"]

ROUTES = [
    route("/hearings/{hearing_id:id}/remote", add_party, audience=STAFF, permission=INVITE, methods=POST),
    route("/hearings/{hearing_id:id}/remote/totp", require_totp, audience=STAFF, permission=INVITE, methods=POST),
    route(f"{_PARTY}/code", issue_code, audience=STAFF, permission=INVITE, methods=POST),
    route(f"{_PARTY}/code", shown_code, audience=STAFF, permission=INVITE),
    route(f"{_PARTY}/revoke", revoke_code, audience=STAFF, permission=INVITE, methods=POST),
    route(f"{_PARTY}/remove", remove_party, audience=STAFF, permission=INVITE, methods=POST),
    route(f"{_PARTY}/invitation.ics", invitation_ics, audience=STAFF, permission=INVITE),
    route("/interpreters", interpreters_page, audience=STAFF, permission=INVITE),
    route("/interpreters", add_interpreter, audience=STAFF, permission=INVITE, methods=POST),
    route(f"{_INTERPRETER}/totp", begin_totp, audience=STAFF, permission=INVITE, methods=POST),
    route(f"{_INTERPRETER}/totp", totp_page_get, audience=STAFF, permission=INVITE),
    route(f"{_INTERPRETER}/totp/confirm", confirm_totp, audience=STAFF, permission=INVITE, methods=POST),
]
