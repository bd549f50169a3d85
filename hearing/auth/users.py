"""Staff accounts: creation, TOTP (re)enrolment, disabling.

A new account, and one whose authenticator was reset, gets a one-time
enrolment code for the administrator to hand over out of band: the
enrolment page shows the new authenticator only to someone with the
password *and* that code. The code is stored only as a keyed hash, expires
and is cleared when used (`signin.redeem_enrolment_code`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import passwords, totp
from hearing.auth.keys import KeyRing
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.db.models import Courtroom, CustodyFacility, StaffSession, StaffUser
from hearing.errors import AccountUnchanged, AlreadyExists, InvalidInput, NotFound
from hearing.fields import free_text

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
DISPLAY_NAME_MAX = 200
# Read aloud or typed from a note: no 0/O, 1/I/L or U. 12 of 30 symbols,
# about 59 bits; guessing also meets the lockout and the rate limit.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12
MAX_CODE_INPUT = 32
ENROLMENT_CODE_VALID = timedelta(hours=72)


@dataclasses.dataclass(frozen=True)
class Enrolment:
    """What the new user needs once, shown once and never stored in clear."""

    user_id: int
    username: str
    totp_secret: str
    provisioning_uri: str
    # For the administrator to hand over; None for an account created confirmed.
    enrolment_code: str | None = None
    enrolment_code_expires_at: datetime | None = None


def normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c not in " -")


def code_hash(keys: KeyRing, user_id: int, code: str) -> bytes:
    # Keyed and bound to the account: a database reader learns nothing, and
    # one account's code is no good for another.
    message = f"{user_id}:{normalise_code(code)}".encode("utf-8", "replace")
    return hmac.new(keys.enrolment_code, message, hashlib.sha256).digest()


def _issue_code(keys: KeyRing, user: StaffUser, now: datetime, valid: timedelta) -> tuple[str, datetime]:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))
    user.enrolment_code_hash = code_hash(keys, user.id, code)
    user.enrolment_code_expires_at = now + valid
    return code, user.enrolment_code_expires_at


def validate_username(username: str) -> str:
    if not USERNAME.match(username):
        raise InvalidInput(
            "A user name is 2-64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter.",
            field="username",
        )
    return username


def add_user(
    db: Session,
    keys: KeyRing,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    courtroom: Courtroom | None = None,
    facility: CustodyFacility | None = None,
    totp_confirmed: bool = False,
    now: datetime | None = None,
    code_valid: timedelta = ENROLMENT_CODE_VALID,
) -> Enrolment:
    validate_username(username)
    display_name = free_text(display_name, field="display_name", limit=DISPLAY_NAME_MAX, label="A display name")
    if role is Role.JUDGE and courtroom is None:
        raise InvalidInput("A judge needs a courtroom.", field="courtroom")
    if role is Role.CUSTODY_OFFICER and facility is None:
        raise InvalidInput("A custody officer needs a custody facility.", field="facility")
    if db.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise AlreadyExists(f"User {username} already exists.")
    secret = totp.new_secret()
    user = StaffUser(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=passwords.hash_password(password),
        totp_secret_enc=totp.encrypt_secret(keys.totp_encryption, username, secret),
        totp_confirmed=totp_confirmed,
        courtroom_id=courtroom.id if courtroom and role is Role.JUDGE else None,
        facility_id=facility.id if facility and role is Role.CUSTODY_OFFICER else None,
        failed_attempts=0,
    )
    db.add(user)
    db.flush()
    code, expires = (None, None) if totp_confirmed else _issue_code(keys, user, now or utcnow(), code_valid)
    issued: dict[str, Any] = {"enrolment_code_expires_at": expires.isoformat()} if expires else {}
    append(db, actor, Action.USER_CREATED, user_id=user.id, username=username, role=role.value, **issued)
    return Enrolment(user.id, username, secret, totp.provisioning_uri(secret, username), code, expires)


def get_by_username(db: Session, username: str) -> StaffUser:
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound(f"No user {username}.")
    return user


def reset_totp(
    db: Session,
    keys: KeyRing,
    actor: Actor,
    username: str,
    *,
    now: datetime | None = None,
    code_valid: timedelta = ENROLMENT_CODE_VALID,
) -> Enrolment:
    """A new secret and a new enrolment code; at their next sign-in the user
    sets the new authenticator up with their password and the code."""
    user = get_by_username(db, username)
    secret = totp.new_secret()
    user.totp_secret_enc = totp.encrypt_secret(keys.totp_encryption, username, secret)
    user.totp_confirmed = False
    user.totp_last_step = None
    code, expires = _issue_code(keys, user, now or utcnow(), code_valid)
    append(
        db,
        actor,
        Action.USER_TOTP_RESET,
        user_id=user.id,
        username=username,
        enrolment_code_expires_at=expires.isoformat(),
    )
    return Enrolment(user.id, username, secret, totp.provisioning_uri(secret, username), code, expires)


def reset_password(db: Session, actor: Actor, username: str, password: str) -> None:
    user = get_by_username(db, username)
    user.password_hash = passwords.hash_password(password)
    user.failed_attempts = 0
    user.locked_until = None
    append(db, actor, Action.USER_PASSWORD_RESET, user_id=user.id, username=username)


def disable_user(db: Session, actor: Actor, username: str, now: datetime) -> int:
    """The account can no longer sign in, and every session of it ends here
    (each process's socket watch closes its sockets within its interval).
    Returns how many sessions were ended."""
    user = get_by_username(db, username)
    if user.disabled_at is not None:
        raise AccountUnchanged(f"User {username} is already disabled.")
    user.disabled_at = now
    sessions = db.scalars(
        select(StaffSession).where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
    ).all()
    for record in sessions:
        record.ended_at = now
    append(db, actor, Action.USER_DISABLED, user_id=user.id, username=username, sessions_ended=len(sessions))
    return len(sessions)


def enable_user(db: Session, actor: Actor, username: str) -> None:
    """The account may sign in again (with new sessions: the old stay ended)."""
    user = get_by_username(db, username)
    if user.disabled_at is None:
        raise AccountUnchanged(f"User {username} is not disabled.")
    user.disabled_at = None
    append(db, actor, Action.USER_ENABLED, user_id=user.id, username=username)
