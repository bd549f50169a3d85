"""Staff sign-in: password plus TOTP, lockout, and sessions.

An attempt is three steps, so that the slow part holds no database lock:
`prepare` reads the account in a read-only transaction, the caller verifies
the password outside any transaction (`Services.check_password`, a bounded
pool), and `record` decides and records the outcome (attempt counter,
lockout, audit entry, session) in one short write transaction, refusing the
attempt if the password changed in between. The caller answers with one
generic message whatever the cause.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hearing.actors import ANONYMOUS, Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import standing, totp, users
from hearing.auth.keys import KeyRing
from hearing.db.models import StaffSession, StaffUser

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
# Refreshing last_seen_at at most once a minute keeps reads from writing.
TOUCH_INTERVAL = standing.TOUCH_INTERVAL


@dataclasses.dataclass(frozen=True)
class SignInResult:
    """ok: a session was started. needs_enrolment: the password was right
    and the user must now confirm a TOTP authenticator. Neither: refused."""

    user_id: int | None = None
    session_token: str | None = None
    needs_enrolment: bool = False

    @property
    def ok(self) -> bool:
        return self.session_token is not None


REFUSED = SignInResult()


def user_actor(user: StaffUser) -> Actor:
    return Actor("user", user.id, user.role.value)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


@dataclasses.dataclass(frozen=True)
class Attempt:
    """What an attempt read before its password is hashed: the account, if
    there is one, and the hash the password is checked against."""

    username: str
    user_id: int | None = None
    password_hash: str | None = None


# Refusals that say nothing about the password guessed: not counted.
_UNCOUNTED = frozenset({"locked", "changed"})


def _refuse(db: Session, user: StaffUser | None, username: str, now: datetime, reason: str) -> SignInResult:
    actor = user_actor(user) if user else ANONYMOUS
    append(db, actor, Action.USER_SIGN_IN_FAILED, username=username[:64], reason=reason)
    if user is not None and reason not in _UNCOUNTED:
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            user.failed_attempts = 0
            user.locked_until = now + LOCKOUT
            append(db, actor, Action.USER_LOCKED, until=user.locked_until.isoformat())
    return REFUSED


def start_session(db: Session, user: StaffUser, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    record = StaffSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now)
    db.add(record)
    db.flush()
    user.failed_attempts = 0
    append(db, user_actor(user), Action.USER_SIGNED_IN, session_id=record.id)
    return token


def prepare(db: Session, username: str) -> Attempt:
    """Step one, in a read-only transaction: whose password to check."""
    row = db.execute(select(StaffUser.id, StaffUser.password_hash).where(StaffUser.username == username)).first()
    return Attempt(username) if row is None else Attempt(username, row.id, row.password_hash)


def record(db: Session, keys: KeyRing, attempt: Attempt, password_ok: bool, code: str, now: datetime) -> SignInResult:
    """Step three, in a write transaction: the outcome of an attempt whose
    password was checked against `attempt.password_hash`."""
    username = attempt.username
    user = None
    if attempt.user_id is not None:
        # Locked for the transaction on PostgreSQL, so that concurrent
        # failures count one by one (SQLite's BEGIN IMMEDIATE serialises).
        user = db.scalar(
            select(StaffUser)
            .where(StaffUser.id == attempt.user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if user is None or user.username != username:
        return _refuse(db, None, username, now, "unknown_user")
    if user.password_hash != attempt.password_hash:
        # Reset while this attempt was hashed: what it checked is gone.
        return _refuse(db, user, username, now, "changed")
    if user.disabled_at is not None:
        return _refuse(db, user, username, now, "disabled")
    if user.locked_until is not None and user.locked_until > now:
        return _refuse(db, user, username, now, "locked")
    if not password_ok:
        return _refuse(db, user, username, now, "password")
    if not user.totp_confirmed:
        return SignInResult(user_id=user.id, needs_enrolment=True)
    secret = totp.decrypt_secret(keys.totp_encryption, user.username, user.totp_secret_enc)
    step = totp.accepted_step(secret, code, now, user.totp_last_step)
    if step is None:
        return _refuse(db, user, username, now, "totp")
    user.totp_last_step = step
    return SignInResult(user_id=user.id, session_token=start_session(db, user, now))


def secret_fingerprint(user: StaffUser) -> str:
    """Names the authenticator secret an enrolment revealed: a reset after
    that makes the enrolment's later steps refuse."""
    return hashlib.sha256(user.totp_secret_enc).hexdigest()[:32]


def awaiting_enrolment(db: Session, user_id: int) -> bool:
    user = db.get(StaffUser, user_id)
    return user is not None and not user.totp_confirmed and user.disabled_at is None


def redeem_enrolment_code(db: Session, keys: KeyRing, user_id: int, code: str, now: datetime) -> str | None:
    """Second step of a first sign-in (after the password): the enrolment
    code the administrator handed over. Used up here; returns the
    fingerprint of the secret that may now be shown, or None (refused, and
    recorded like any failed sign-in)."""
    user = db.scalar(
        select(StaffUser).where(StaffUser.id == user_id).with_for_update().execution_options(populate_existing=True)
    )
    if user is None or user.totp_confirmed or user.disabled_at is not None:
        return None
    if user.locked_until is not None and user.locked_until > now:
        _refuse(db, user, user.username, now, "locked")
        return None
    expected = user.enrolment_code_hash
    if expected is None or not hmac.compare_digest(expected, users.code_hash(keys, user.id, code)):
        _refuse(db, user, user.username, now, "enrolment_code")
        return None
    if user.enrolment_code_expires_at is None or user.enrolment_code_expires_at <= now:
        _refuse(db, user, user.username, now, "enrolment_code_expired")
        return None
    user.enrolment_code_hash = None
    user.enrolment_code_expires_at = None
    append(db, user_actor(user), Action.USER_ENROLMENT_CODE_USED)
    return secret_fingerprint(user)


def confirm_enrolment(
    db: Session, keys: KeyRing, user_id: int, fingerprint: str, code: str, now: datetime
) -> SignInResult:
    """Last step of a first sign-in: the first code from the new authenticator,
    whose secret (`fingerprint`) was revealed after the enrolment code."""
    user = db.get(StaffUser, user_id)
    if user is None or user.totp_confirmed or user.disabled_at is not None:
        return REFUSED
    if not hmac.compare_digest(secret_fingerprint(user), fingerprint):
        return REFUSED
    if user.locked_until is not None and user.locked_until > now:
        return _refuse(db, user, user.username, now, "locked")
    secret = totp.decrypt_secret(keys.totp_encryption, user.username, user.totp_secret_enc)
    step = totp.accepted_step(secret, code, now, user.totp_last_step)
    if step is None:
        return _refuse(db, user, user.username, now, "totp")
    user.totp_confirmed = True
    user.totp_last_step = step
    append(db, user_actor(user), Action.USER_TOTP_CONFIRMED)
    return SignInResult(user_id=user.id, session_token=start_session(db, user, now))


def enrolment_uri(db: Session, keys: KeyRing, user_id: int, fingerprint: str) -> str | None:
    user = db.get(StaffUser, user_id)
    if user is None or user.totp_confirmed or not hmac.compare_digest(secret_fingerprint(user), fingerprint):
        return None
    secret = totp.decrypt_secret(keys.totp_encryption, user.username, user.totp_secret_enc)
    return totp.provisioning_uri(secret, user.username)


def load_session(db: Session, token: str, now: datetime, *, idle: timedelta, max_age: timedelta) -> StaffSession | None:
    record = db.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    # The same rule as for the session's open sockets (auth/standing.py).
    if record is None or standing.session_ending(record, record.user, now, standing.SessionLimits(idle, max_age)):
        return None
    if now - record.last_seen_at > TOUCH_INTERVAL:
        record.last_seen_at = now
    return record


def touch_session(db: Session, session_id: int, now: datetime) -> None:
    """Refresh a session's last_seen_at in a short write of its own, so that
    reading the session (`load_session`, in a read-only transaction) never
    needs the write lock."""
    db.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None), StaffSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


def end_session(db: Session, record: StaffSession, now: datetime) -> None:
    record.ended_at = now
    append(db, user_actor(record.user), Action.USER_SIGNED_OUT, session_id=record.id)
