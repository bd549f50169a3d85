"""Staff sign-in: password plus TOTP, lockout, and sessions.

Failures are recorded (attempt counter, lockout, audit entry) and committed,
and the caller answers with one generic message whatever the cause.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import ANONYMOUS, Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import passwords, standing, totp
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


def _refuse(db: Session, user: StaffUser | None, username: str, now: datetime, reason: str) -> SignInResult:
    actor = user_actor(user) if user else ANONYMOUS
    append(db, actor, Action.USER_SIGN_IN_FAILED, username=username[:64], reason=reason)
    if user is not None and reason != "locked":
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


def sign_in(db: Session, keys: KeyRing, username: str, password: str, code: str, now: datetime) -> SignInResult:
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        passwords.burn_time(password)
        return _refuse(db, None, username, now, "unknown_user")
    password_ok = passwords.verify_password(password, user.password_hash)
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


def confirm_enrolment(db: Session, keys: KeyRing, user_id: int, code: str, now: datetime) -> SignInResult:
    """Second half of a first sign-in: the first code from the new authenticator."""
    user = db.get(StaffUser, user_id)
    if user is None or user.totp_confirmed or user.disabled_at is not None:
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


def enrolment_uri(db: Session, keys: KeyRing, user_id: int) -> str | None:
    user = db.get(StaffUser, user_id)
    if user is None or user.totp_confirmed:
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


def end_session(db: Session, record: StaffSession, now: datetime) -> None:
    record.ended_at = now
    append(db, user_actor(record.user), Action.USER_SIGNED_OUT, session_id=record.id)
