"""Staff accounts: creation, TOTP (re)enrolment, disabling."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import passwords, totp
from hearing.auth.keys import KeyRing
from hearing.auth.roles import Role
from hearing.db.models import Courtroom, CustodyFacility, StaffSession, StaffUser
from hearing.errors import AccountUnchanged, AlreadyExists, InvalidInput, NotFound
from hearing.fields import free_text

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
DISPLAY_NAME_MAX = 200


@dataclasses.dataclass(frozen=True)
class Enrolment:
    """What the new user needs once, shown once and never stored in clear."""

    user_id: int
    username: str
    totp_secret: str
    provisioning_uri: str


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
    append(db, actor, Action.USER_CREATED, user_id=user.id, username=username, role=role.value)
    return Enrolment(user.id, username, secret, totp.provisioning_uri(secret, username))


def get_by_username(db: Session, username: str) -> StaffUser:
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound(f"No user {username}.")
    return user


def reset_totp(db: Session, keys: KeyRing, actor: Actor, username: str) -> Enrolment:
    """A new secret; the user confirms it on their next sign-in."""
    user = get_by_username(db, username)
    secret = totp.new_secret()
    user.totp_secret_enc = totp.encrypt_secret(keys.totp_encryption, username, secret)
    user.totp_confirmed = False
    user.totp_last_step = None
    append(db, actor, Action.USER_TOTP_RESET, user_id=user.id, username=username)
    return Enrolment(user.id, username, secret, totp.provisioning_uri(secret, username))


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
