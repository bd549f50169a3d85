"""At the door: what the gateway does with a one-time code. `redeem` takes
an attempt at a code and opens a remote session; `second_factor` takes a
registered interpreter's TOTP after it; `load_session` says who stands
behind a session's token (hearing/interpreter/issuing.py issues the codes).

Each function works in the caller's transaction and appends its audit
entry there (invariant 3). `redeem` and `second_factor` never raise for a
refused attempt: they return a `Rejected`, so that the caller's transaction
commits the failure's count and its audit entry, and the caller answers with
the one generic message (errors.CodeRejected). An unknown invitation
appends nothing (`known=False`): the gateway counts those, so that guessing
cannot flood the log. Admission is one conditional update of the code's
row: two submissions of one code cannot both succeed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hearing.actors import ANONYMOUS, Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth.keys import KeyRing
from hearing.db.models import Base, Hearing, OneTimeCode, Participant, RemoteSession
from hearing.docket.lifecycle import FINAL_STATES, LIVE_STATES
from hearing.docket.parties import ParticipantRole
from hearing.interpreter import codes, issuing
from hearing.interpreter.codes import LATE_GRACE, MAX_FAILURES, Verdict

TOKEN_MAX = 128
# Failures of one code recorded one by one; past this many the count in the
# row goes on, the entries stop (the lock entry has long since been written).
AUDITED_FAILURES = 4 * MAX_FAILURES

_codes = Base.metadata.tables["one_time_code"]


@dataclasses.dataclass(frozen=True)
class Redeemed:
    token: str
    session_id: int
    participant_id: int
    hearing_id: int
    seat: str
    role: ParticipantRole
    needs_totp: bool


@dataclasses.dataclass(frozen=True)
class Rejected:
    # A codes.Verdict value, or "session_ended" for a second factor on no live session.
    reason: str
    known: bool


@dataclasses.dataclass(frozen=True)
class RemoteSessionInfo:
    session_id: int
    participant_id: int
    hearing_id: int
    seat: str
    role: ParticipantRole
    name: str
    language: str | None
    verified: bool


SESSION_ENDED = "session_ended"


def token_hash(keys: KeyRing, token: str) -> bytes:
    return hmac.new(keys.remote_session, token.encode("ascii", "replace"), hashlib.sha256).digest()


def redeem(db: Session, keys: KeyRing, invitation: str, code: str, *, now: datetime) -> Redeemed | Rejected:
    """One attempt at a code: a session on success, a counted and audited
    refusal otherwise (see the module's docstring)."""
    found = codes.normalise_invitation(invitation)
    row = db.scalar(select(OneTimeCode).where(OneTimeCode.invitation == found)) if found is not None else None
    if found is None or row is None:
        return Rejected(Verdict.WRONG_CODE.value, known=False)
    typed = codes.normalise(code)
    # Hash and compare whatever came, so a malformed attempt costs the same.
    given = issuing.code_hash(keys, found, typed if typed is not None else "-")
    matches = hmac.compare_digest(given, row.code_hash) and typed is not None
    hearing = db.get_one(Hearing, row.hearing_id)
    party = db.get_one(Participant, row.participant_id)
    live = hearing.state in LIVE_STATES
    outcome = codes.verdict(
        issuing.code_standing(row), matches, now, hearing_ended=hearing.state in FINAL_STATES, hearing_live=live
    )
    if outcome is not Verdict.ACCEPTED:
        return _refuse(db, row, party, outcome, now)
    needs_totp = issuing.asks_totp(hearing, party)
    if needs_totp and not issuing.totp_ready(issuing.registered_entry(db, party.registered_interpreter_id)):
        # Enrolment disabled after the code was issued: the court still asks
        # for the TOTP, and the code alone does not let them in.
        return _refuse(db, row, party, Verdict.WRONG_TOTP, now, counted=False)
    earliest_end = now - LATE_GRACE if live else now
    taken = db.execute(
        update(_codes)
        .where(
            _codes.c.id == row.id,
            _codes.c.used_at.is_(None),
            _codes.c.revoked_at.is_(None),
            _codes.c.locked_at.is_(None),
            _codes.c.failed_attempts < MAX_FAILURES,
            _codes.c.valid_from <= now,
            _codes.c.valid_until > earliest_end,
        )
        .values(used_at=now)
    )
    if issuing.rowcount(taken) != 1:
        # Another attempt took it first (or revoked or locked it) between our
        # read and our update: the verdict on the row as it now stands.
        db.refresh(row)
        again = codes.verdict(issuing.code_standing(row), True, now, hearing_ended=False, hearing_live=live)
        return _refuse(db, row, party, Verdict.USED if again is Verdict.ACCEPTED else again, now)
    db.refresh(row)
    # One person, one session: a new code (re-issued for a lost browser)
    # ends what an earlier one opened.
    db.execute(
        update(RemoteSession)
        .where(RemoteSession.participant_id == party.id, RemoteSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    token = secrets.token_urlsafe(32)
    session = RemoteSession(
        token_hash=token_hash(keys, token),
        code_id=row.id,
        participant_id=party.id,
        hearing_id=hearing.id,
        created_at=now,
        expires_at=hearing.scheduled_end + LATE_GRACE,
        verified_at=None if needs_totp else now,
    )
    db.add(session)
    db.flush()
    seat = issuing.seat_of(party)
    append(
        db,
        remote_actor(party),
        Action.REMOTE_CODE_USED,
        hearing_id=hearing.id,
        participant_id=party.id,
        seat=seat,
        code_id=row.id,
        needs_totp=needs_totp,
    )
    return Redeemed(token, session.id, party.id, hearing.id, seat, party.role, needs_totp)


def remote_actor(party: Participant) -> Actor:
    return Actor("remote", party.id, party.role.value)


def _refuse(
    db: Session, row: OneTimeCode, party: Participant, outcome: Verdict, now: datetime, *, counted: bool | None = None
) -> Rejected:
    """Count (atomically) and audit one failed attempt at a known code; lock
    the code at MAX_FAILURES. `counted` overrides codes.counts()."""
    seat = issuing.seat_of(party)
    attempts = row.failed_attempts
    count = codes.counts(outcome) if counted is None else counted
    if count:
        attempts = db.execute(
            update(_codes)
            .where(_codes.c.id == row.id)
            .values(failed_attempts=_codes.c.failed_attempts + 1)
            .returning(_codes.c.failed_attempts)
        ).scalar_one()
    if not count or attempts <= AUDITED_FAILURES:
        append(
            db,
            ANONYMOUS,
            Action.REMOTE_CODE_FAILED,
            hearing_id=row.hearing_id,
            code_id=row.id,
            seat=seat,
            attempts=attempts,
            reason=outcome.value,
        )
    if count and attempts >= MAX_FAILURES:
        # Only a code that could still have admitted someone is locked: a used
        # code's guesses cost its session nothing (the TOTP step locks below).
        still_open = [_codes.c.locked_at.is_(None), _codes.c.revoked_at.is_(None)]
        if outcome is not Verdict.WRONG_TOTP:
            still_open.append(_codes.c.used_at.is_(None))
        locked = db.execute(update(_codes).where(_codes.c.id == row.id, *still_open).values(locked_at=now))
        if issuing.rowcount(locked) == 1:
            append(
                db,
                ANONYMOUS,
                Action.REMOTE_CODE_LOCKED,
                hearing_id=row.hearing_id,
                code_id=row.id,
                seat=seat,
                attempts=attempts,
            )
            if outcome is Verdict.WRONG_TOTP:
                # The session the code opened waited for this factor: it ends.
                db.execute(
                    update(RemoteSession)
                    .where(RemoteSession.code_id == row.id, RemoteSession.ended_at.is_(None))
                    .values(ended_at=now)
                )
    db.expire(row)
    return Rejected(outcome.value, known=True)


def _session(db: Session, keys: KeyRing, token: str) -> RemoteSession | None:
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX:
        return None
    return db.scalar(select(RemoteSession).where(RemoteSession.token_hash == token_hash(keys, token)))


def _open(db: Session, session: RemoteSession | None, now: datetime) -> tuple[RemoteSession, Hearing] | None:
    """The session and its hearing, if the session may still be used."""
    if session is None or session.ended_at is not None or now >= session.expires_at:
        return None
    hearing = db.get_one(Hearing, session.hearing_id)
    if hearing.state in FINAL_STATES:
        return None
    return session, hearing


def second_factor(db: Session, keys: KeyRing, token: str, totp_code: str, *, now: datetime) -> Redeemed | Rejected:
    """The registered interpreter's TOTP, after the code: the session is
    verified. Single use per time step (as for staff); a wrong TOTP counts
    against the code's lock, and at the lock the session ends."""
    opened = _open(db, _session(db, keys, token), now)
    if opened is None:
        return Rejected(SESSION_ENDED, known=False)
    session, hearing = opened
    party = db.get_one(Participant, session.participant_id)
    seat = issuing.seat_of(party)
    if session.verified_at is not None:
        return Redeemed(token, session.id, party.id, hearing.id, seat, party.role, needs_totp=False)
    row = db.get_one(OneTimeCode, session.code_id)
    if row.locked_at is not None or row.revoked_at is not None:
        return Rejected(SESSION_ENDED, known=False)
    interpreter = issuing.registered_entry(db, party.registered_interpreter_id)
    if (
        interpreter is None
        or not issuing.totp_ready(interpreter)
        or not issuing.verify_totp(db, keys, interpreter, totp_code, now)
    ):
        return _refuse(db, row, party, Verdict.WRONG_TOTP, now, counted=True)
    verified = db.execute(
        update(RemoteSession)
        .where(RemoteSession.id == session.id, RemoteSession.verified_at.is_(None), RemoteSession.ended_at.is_(None))
        .values(verified_at=now)
    )
    if issuing.rowcount(verified) != 1:
        return Rejected(SESSION_ENDED, known=False)
    append(
        db,
        remote_actor(party),
        Action.REMOTE_TOTP_PASSED,
        hearing_id=hearing.id,
        participant_id=party.id,
        seat=seat,
        code_id=row.id,
    )
    return Redeemed(token, session.id, party.id, hearing.id, seat, party.role, needs_totp=False)


def load_session(
    db: Session, keys: KeyRing, token: str, *, now: datetime, verified_only: bool = True
) -> RemoteSessionInfo | None:
    """The remote party behind a session token, or None if the token is
    unknown, the session ended or expired, the hearing ended, or (unless
    `verified_only` is False: the TOTP step's own page) a factor is missing."""
    opened = _open(db, _session(db, keys, token), now)
    if opened is None:
        return None
    session, hearing = opened
    if verified_only and session.verified_at is None:
        return None
    party = db.get_one(Participant, session.participant_id)
    return RemoteSessionInfo(
        session_id=session.id,
        participant_id=party.id,
        hearing_id=session.hearing_id,
        seat=issuing.seat_of(party),
        role=party.role,
        name=party.display_name,
        language=issuing.language_of(hearing, party),
        verified=session.verified_at is not None,
    )


def end_session(db: Session, keys: KeyRing, token: str, *, now: datetime) -> None:
    """The party leaves for good (the page's "leave" button): the session
    ends; the code stays used, so coming back needs a new code."""
    session = _session(db, keys, token)
    if session is None or session.ended_at is not None:
        return
    session.ended_at = now
    party = db.get_one(Participant, session.participant_id)
    append(
        db,
        remote_actor(party),
        Action.PARTICIPANT_LEFT,
        hearing_id=session.hearing_id,
        seat=issuing.seat_of(party),
        reason="signed_out",
    )
