"""Remote parties and their one-time codes, as services: adding and removing
a remote party, issuing and revoking codes, and the hearing's choice to ask
registered interpreters for their TOTP. What the gateway does with a code
(redeem it for a session, the second factor, the session) is
hearing/interpreter/admission.py.

Each function works in the caller's transaction (the unit of work commits)
and appends its audit entry there (invariant 3). The code is kept only as
HMAC-SHA256 under its own key of `invitation:code`: the stored hash is
bound to the invitation, and so to one hearing and one person, and the
database alone gives an attacker nothing to test guesses against.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import totp
from hearing.auth.keys import KeyRing
from hearing.auth.permissions import Permission, allowed
from hearing.db.models import Base, Hearing, OneTimeCode, Participant, RegisteredInterpreter, RemoteSession, StaffUser
from hearing.docket.lifecycle import FINAL_STATES, LIVE_STATES
from hearing.docket.parties import Connection, ParticipantRole
from hearing.errors import (
    CodeUnchanged,
    HearingEnded,
    HearingNotFound,
    InvalidInput,
    NotFound,
    NotRemote,
    PermissionDenied,
    TotpNotEnrolled,
)
from hearing.fields import MAX_ID, free_text
from hearing.interpreter import codes, invitation, otp
from hearing.interpreter.codes import CodeStanding
from hearing.routing import seats
from hearing.speaker_order import presiding

R = ParticipantRole
REMOTE_ROLES = frozenset({R.INTERPRETER, R.DEFENCE_COUNSEL, R.PROSECUTOR, R.WITNESS})
NAME_MAX = 200
CONTACT_MAX = 200
LANGUAGE_MAX = 64
# How many times a fresh invitation is drawn if it collides (it will not:
# 31^10 values).
INVITATION_DRAWS = 5

# --- what the services hand back ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Issued:
    """A fresh code, shown once: the clerk sends it with the invitation."""

    code: str
    invitation: str
    code_id: int
    valid_from: datetime
    valid_until: datetime
    seat: str
    reissued: bool


@dataclasses.dataclass(frozen=True)
class RemoteParty:
    """A remote party as the clerk's page lists it (never the code)."""

    participant_id: int
    role: ParticipantRole
    name: str
    language: str | None
    contact: str
    seat: str
    code_state: str  # none | live | used | revoked | locked | expired
    invitation: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    registered_interpreter_id: int | None
    totp_ready: bool  # a registered interpreter with a confirmed authenticator


# --- keyed hashes -------------------------------------------------------------------


def code_hash(keys: KeyRing, invitation: str, code: str) -> bytes:
    return hmac.new(keys.remote_code, f"{invitation}:{code}".encode("ascii"), hashlib.sha256).digest()


# --- helpers ------------------------------------------------------------------------


def authorise(db: Session, actor: Actor) -> None:
    """The clerks (Permission.INVITE_REMOTE) and the operator's CLI; the web
    layer checks the route's permission first, this holds for any caller."""
    if actor.kind == "system":
        return
    if actor.kind == "user" and actor.id is not None and 0 < actor.id <= MAX_ID:
        user = db.get(StaffUser, actor.id)
        if user is not None and user.disabled_at is None and allowed(user.role, Permission.INVITE_REMOTE):
            return
    raise PermissionDenied("Only the court's clerks invite remote parties.")


def find_hearing(db: Session, hearing_id: int, *, lock: bool = False) -> Hearing:
    if not 0 < hearing_id <= MAX_ID:
        raise HearingNotFound()
    query = select(Hearing).where(Hearing.id == hearing_id)
    hearing = db.scalar(query.with_for_update() if lock else query)
    if hearing is None:
        raise HearingNotFound()
    return hearing


def _not_ended(hearing: Hearing) -> None:
    if hearing.state in FINAL_STATES:
        raise HearingEnded()


def is_remote_party(party: Participant) -> bool:
    return party.connection is Connection.REMOTE and party.role in REMOTE_ROLES


def _party(db: Session, hearing: Hearing, participant_id: int) -> Participant:
    party = db.get(Participant, participant_id) if 0 < participant_id <= MAX_ID else None
    if party is None or party.hearing_id != hearing.id:
        raise NotFound("No such participant in this hearing.")
    if not is_remote_party(party):
        raise NotRemote(field="participant_id")
    return party


def language_of(hearing: Hearing, party: Participant) -> str | None:
    """The party's language; for the interpreter the booking made
    ("Interpreter (arabisk)"), the booking's."""
    if party.language is None and party.role is R.INTERPRETER:
        return hearing.interpreter_language
    return party.language


def seat_of(party: Participant) -> str:
    return seats.remote_seat(seats.Party(party.id, party.role, party.connection, party.display_name))


def code_standing(row: OneTimeCode) -> CodeStanding:
    return CodeStanding(
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        failed_attempts=row.failed_attempts,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
        locked_at=row.locked_at,
    )


def _newest_code(db: Session, participant_id: int) -> OneTimeCode | None:
    query = (
        select(OneTimeCode)
        .where(OneTimeCode.participant_id == participant_id)
        .order_by(OneTimeCode.issued_at.desc(), OneTimeCode.id.desc())
        .limit(1)
    )
    return db.scalar(query)


def registered_entry(db: Session, registered_id: int | None) -> RegisteredInterpreter | None:
    if registered_id is None:
        return None
    return db.get(RegisteredInterpreter, registered_id) if 0 < registered_id <= MAX_ID else None


def totp_ready(interpreter: RegisteredInterpreter | None) -> bool:
    return (
        interpreter is not None
        and interpreter.disabled_at is None
        and interpreter.totp_confirmed
        and interpreter.totp_secret_enc is not None
    )


def asks_totp(hearing: Hearing, party: Participant) -> bool:
    """Whether this party joins with code + TOTP: the hearing requires it,
    and they are the interpreter (the only role on the court's register)."""
    return hearing.require_totp and party.role is R.INTERPRETER


def require_enrolled(db: Session, hearing: Hearing, party: Participant) -> None:
    # The court asked for the TOTP: an interpreter who has none cannot be
    # let in by the code alone. Said to the clerk now, not to the
    # interpreter at the door of the hearing.
    if asks_totp(hearing, party) and not totp_ready(registered_entry(db, party.registered_interpreter_id)):
        raise TotpNotEnrolled(field="participant_id")


def rowcount(result: object) -> int:
    return cast(CursorResult[object], result).rowcount


# --- the clerk's side ---------------------------------------------------------------


def add_remote_party(
    db: Session,
    actor: Actor,
    hearing_id: int,
    role: ParticipantRole,
    name: str,
    *,
    language: str | None = None,
    contact: str = "",
    registered_interpreter_id: int | None = None,
) -> Participant:
    """A remote party joins the hearing's docket; once the floor exists,
    their seat waits in the lobby."""
    authorise(db, actor)
    if role not in REMOTE_ROLES:
        raise InvalidInput(
            "A remote party is an interpreter, defence counsel, a prosecutor or a witness.", field="role"
        )
    name = free_text(name, field="name", limit=NAME_MAX)
    contact = free_text(contact, field="contact", limit=CONTACT_MAX, required=False)
    hearing = find_hearing(db, hearing_id, lock=True)
    _not_ended(hearing)
    language = free_text(language or "", field="language", limit=LANGUAGE_MAX, required=False) or None
    registered: RegisteredInterpreter | None = None
    if registered_interpreter_id is not None:
        if role is not R.INTERPRETER:
            raise InvalidInput("Only an interpreter is on the court's register.", field="registered_interpreter_id")
        registered = registered_entry(db, registered_interpreter_id)
        if registered is None or registered.disabled_at is not None:
            raise NotFound("No such registered interpreter.")
    if role is R.INTERPRETER:
        language = language or hearing.interpreter_language
        if not language:
            raise InvalidInput("An interpreter's language is required.", field="language")
    party = Participant(
        hearing=hearing,
        role=role,
        display_name=name,
        connection=Connection.REMOTE,
        contact=contact,
        language=language,
        registered_interpreter_id=registered.id if registered is not None else None,
    )
    db.add(party)
    db.flush()
    require_enrolled(db, hearing, party)
    seat = seat_of(party)
    presiding.seat_added(db, hearing, seat)
    # The role and language, not the name: personal data stays in the hearing
    # record, which retention rules can erase.
    append(
        db,
        actor,
        Action.REMOTE_PARTY_ADDED,
        hearing_id=hearing.id,
        participant_id=party.id,
        role=role.value,
        seat=seat,
        language=language,
        registered_interpreter_id=party.registered_interpreter_id,
    )
    return party


def remove_remote_party(db: Session, actor: Actor, hearing_id: int, participant_id: int) -> None:
    """The party leaves the docket: their codes and sessions go with them
    (the audit log keeps what happened), their seat leaves the floor."""
    authorise(db, actor)
    hearing = find_hearing(db, hearing_id, lock=True)
    _not_ended(hearing)
    party = _party(db, hearing, participant_id)
    seat = seat_of(party)
    for session in db.scalars(select(RemoteSession).where(RemoteSession.participant_id == party.id)):
        db.delete(session)
    db.flush()
    for code in db.scalars(select(OneTimeCode).where(OneTimeCode.participant_id == party.id)):
        db.delete(code)
    db.flush()
    hearing.participants.remove(party)
    db.delete(party)
    db.flush()
    presiding.seat_removed(db, hearing, seat)
    append(db, actor, Action.REMOTE_PARTY_REMOVED, hearing_id=hearing.id, participant_id=participant_id, seat=seat)


def issue_code(
    db: Session, keys: KeyRing, actor: Actor, hearing_id: int, participant_id: int, *, now: datetime, early_minutes: int
) -> Issued:
    """A fresh code for the party, valid for the hearing's booking window.
    A live earlier code of theirs is revoked in the same transaction; a
    session the earlier code opened stays until the new code is used (a
    clerk's second click does not throw the interpreter out; a lost browser
    gets a new code)."""
    authorise(db, actor)
    hearing = find_hearing(db, hearing_id, lock=True)
    _not_ended(hearing)
    party = _party(db, hearing, participant_id)
    require_enrolled(db, hearing, party)
    valid_from, valid_until = codes.window(hearing.scheduled_start, hearing.scheduled_end, early_minutes)
    if now >= codes.closes_at(valid_until, hearing_live=hearing.state in LIVE_STATES):
        raise HearingEnded("The hearing's booking window has passed: a code would never work.")
    seat = seat_of(party)
    earlier = _newest_code(db, party.id)
    reissued = earlier is not None
    if earlier is not None and codes.dead(code_standing(earlier)) is None and earlier.revoked_at is None:
        earlier.revoked_at = now
        append(
            db,
            actor,
            Action.REMOTE_CODE_REVOKED,
            hearing_id=hearing.id,
            participant_id=party.id,
            seat=seat,
            code_id=earlier.id,
        )
    code = codes.new_code()
    invitation = _fresh_invitation(db)
    row = OneTimeCode(
        invitation=invitation,
        hearing_id=hearing.id,
        participant_id=party.id,
        code_hash=code_hash(keys, invitation, code),
        valid_from=valid_from,
        valid_until=valid_until,
        failed_attempts=0,
        issued_by_id=actor.id if actor.kind == "user" else None,
        issued_at=now,
    )
    db.add(row)
    db.flush()
    append(
        db,
        actor,
        Action.REMOTE_CODE_ISSUED,
        hearing_id=hearing.id,
        participant_id=party.id,
        seat=seat,
        code_id=row.id,
        reissued=reissued,
        start=valid_from.isoformat(),
        end=valid_until.isoformat(),
    )
    return Issued(code, invitation, row.id, valid_from, valid_until, seat, reissued)


def _fresh_invitation(db: Session) -> str:
    for _ in range(INVITATION_DRAWS):
        invitation = codes.new_invitation()
        if db.scalar(select(OneTimeCode.id).where(OneTimeCode.invitation == invitation)) is None:
            return invitation
    raise AssertionError("no fresh invitation in five draws of 2^49")  # pragma: no cover


def revoke_code(db: Session, actor: Actor, hearing_id: int, participant_id: int, *, now: datetime) -> None:
    """The party's live code stops working. A code already used, revoked,
    locked or past its window is CodeUnchanged: to take an admitted party
    out, remove them (or the judge turns them away)."""
    authorise(db, actor)
    hearing = find_hearing(db, hearing_id, lock=True)
    _not_ended(hearing)
    party = _party(db, hearing, participant_id)
    row = _newest_code(db, party.id)
    if row is None or codes.state(code_standing(row), now, hearing_live=hearing.state in LIVE_STATES) != "live":
        raise CodeUnchanged()
    row.revoked_at = now
    append(
        db,
        actor,
        Action.REMOTE_CODE_REVOKED,
        hearing_id=hearing.id,
        participant_id=party.id,
        seat=seat_of(party),
        code_id=row.id,
    )


def remote_parties(db: Session, hearing_id: int, *, now: datetime) -> list[RemoteParty]:
    """The hearing's remote parties, each with the state of their newest code."""
    hearing = find_hearing(db, hearing_id)
    live = hearing.state in LIVE_STATES
    listed = []
    for party in hearing.participants:
        if not is_remote_party(party):
            continue
        row = _newest_code(db, party.id)
        standing = code_standing(row) if row is not None else None
        listed.append(
            RemoteParty(
                participant_id=party.id,
                role=party.role,
                name=party.display_name,
                language=language_of(hearing, party),
                contact=party.contact,
                seat=seat_of(party),
                code_state=codes.state(standing, now, hearing_live=live),
                invitation=row.invitation if row is not None else None,
                valid_from=row.valid_from if row is not None else None,
                valid_until=row.valid_until if row is not None else None,
                registered_interpreter_id=party.registered_interpreter_id,
                totp_ready=totp_ready(registered_entry(db, party.registered_interpreter_id)),
            )
        )
    return listed


def set_require_totp(db: Session, actor: Actor, hearing_id: int, on: bool) -> None:
    """Whether registered interpreters join this hearing with code + TOTP.
    Turning it on while an interpreter party has no confirmed authenticator
    is TotpNotEnrolled: the court would otherwise find out at the hearing."""
    authorise(db, actor)
    hearing = find_hearing(db, hearing_id, lock=True)
    _not_ended(hearing)
    if hearing.require_totp == on:
        raise InvalidInput(f"The hearing already {'requires' if on else 'does not require'} TOTP.", field="on")
    hearing.require_totp = on
    if on:
        for party in hearing.participants:
            if is_remote_party(party):
                require_enrolled(db, hearing, party)
    append(db, actor, Action.REMOTE_TOTP_REQUIRED_SET, hearing_id=hearing.id, require_totp=on)


# --- a registered interpreter's TOTP (hearing/interpreter/register.py enrols it) ---


def totp_label(interpreter_id: int) -> str:
    """What a registered interpreter's TOTP secret is encrypted bound to (the
    staff's are bound to their user name; the prefix keeps the two apart)."""
    return f"interpreter:{interpreter_id}"


def totp_secret(keys: KeyRing, interpreter: RegisteredInterpreter) -> str:
    assert interpreter.totp_secret_enc is not None
    return totp.decrypt_secret(keys.totp_encryption, totp_label(interpreter.id), interpreter.totp_secret_enc)


def verify_totp(db: Session, keys: KeyRing, interpreter: RegisteredInterpreter, typed: str, now: datetime) -> bool:
    """Whether `typed` is the interpreter's TOTP now, accepted once: the
    step is stored by a conditional update, so two tabs (or a replay) with
    the same code cannot both pass."""
    secret = otp.secret_bytes(totp_secret(keys, interpreter))
    step = otp.accepted_step(secret, typed, now, interpreter.totp_last_step)
    if step is None:
        return False
    table = Base.metadata.tables["registered_interpreter"]
    taken = db.execute(
        update(table)
        .where(
            table.c.id == interpreter.id,
            or_(table.c.totp_last_step.is_(None), table.c.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    db.expire(interpreter)
    return rowcount(taken) == 1


# --- the invitation ------------------------------------------------------------------


def invitation_facts(
    db: Session, issued: Issued, *, gateway_base_url: str, tz: ZoneInfo, now: datetime
) -> invitation.InvitationFacts:
    """What the invitation for a code just issued says (hearing/interpreter/invitation.py)."""
    row = db.get_one(OneTimeCode, issued.code_id)
    hearing = db.get_one(Hearing, row.hearing_id)
    party = db.get_one(Participant, row.participant_id)
    return invitation.InvitationFacts(
        case_number=hearing.case_number,
        court=hearing.courtroom.court.name,
        role=party.role,
        name=party.display_name,
        language=language_of(hearing, party),
        start=hearing.scheduled_start,
        end=hearing.scheduled_end,
        valid_from=issued.valid_from,
        join_url=invitation.join_url(gateway_base_url, issued.invitation),
        code=issued.code,
        tz=tz,
        hearing_id=hearing.id,
        participant_id=party.id,
        code_id=row.id,
        issued_at=now,
    )
