"""Whether an identity still stands: the one rule for a staff session and a
device credential, for an HTTP request and an open socket alike.

HTTP asks once per request (`signin.load_session`, `devices.authenticate`);
a socket's identity was checked at its handshake and is asked again, in
batches, by every process that holds it open (hearing/live/watch.py), and
inside the transaction of every command it sends. The answer is None while
the identity stands, else why not: the reason its sockets are closed with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.db.models import Endpoint, Hearing, RemoteSession, StaffSession, StaffUser
from hearing.docket.lifecycle import FINAL_STATES

# Why an identity no longer stands (also how its sockets end: web/errors.py).
REVOKED = "revoked"  # the device was revoked, or its credential replaced
SIGNED_OUT = "signed_out"
SESSION_ENDED = "session_ended"  # idle or past its absolute age
DISABLED = "disabled"
# issue 12, gateway: a remote party's session ended (the hearing ended, its
# window passed, or the court ended it).
REMOTE_ENDED = "remote_ended"
# A session's last_seen_at is refreshed at most this often (reads stay reads).
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclasses.dataclass(frozen=True)
class SessionLimits:
    idle: timedelta
    max_age: timedelta


class _Session(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_seen_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...


class _User(Protocol):
    @property
    def disabled_at(self) -> datetime | None: ...


class _Device(Protocol):
    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def token_hash(self) -> bytes: ...


def session_ending(session: _Session, user: _User, now: datetime, limits: SessionLimits) -> str | None:
    # The account first: disabling also ends the sessions, and the socket
    # should say the account was disabled, not that someone signed out.
    # A guessing lockout (`locked_until`) is not here on purpose: it refuses
    # new sign-ins, but whoever holds a session already proved password and
    # code, and five wrong passwords from a stranger must not cut the judge
    # off in the middle of a hearing. Stopping an account now is `disable`.
    if user.disabled_at is not None:
        return DISABLED
    if session.ended_at is not None:
        return SIGNED_OUT
    if now - session.last_seen_at > limits.idle or now - session.created_at > limits.max_age:
        return SESSION_ENDED
    return None


def device_ending(endpoint: _Device, credential: bytes) -> str | None:
    """`credential` is the keyed hash of the token the device presented: a
    reissued or re-enrolled device holds a new one, and the old stops."""
    if endpoint.revoked_at is not None or endpoint.token_hash != credential:
        return REVOKED
    return None


def sessions_ending(
    db: Session, session_ids: Collection[int], now: datetime, limits: SessionLimits, *, in_use: Collection[int] = ()
) -> tuple[dict[int, str], set[int]]:
    """Of these sessions, those that no longer stand, and why (one query,
    reading only); and of those `in_use` by a live link (the judge's media
    socket), the ones whose last_seen_at is due for the refresh a request
    would give it (a live link is not idle): the caller writes that."""
    if not session_ids:
        return {}, set()
    rows = db.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffSession.user_id == StaffUser.id)
        .where(StaffSession.id.in_(sorted(session_ids)))
    ).all()
    found: dict[int, str] = {}
    due: set[int] = set()
    for record, user in rows:
        reason = session_ending(record, user, now, limits)
        if reason is not None:
            found[record.id] = reason
        elif record.id in in_use and now - record.last_seen_at > TOUCH_INTERVAL:
            due.add(record.id)
    missing = set(session_ids) - {record.id for record, _ in rows}
    return {**found, **dict.fromkeys(missing, SESSION_ENDED)}, due


def devices_ending(db: Session, credentials: Collection[tuple[int, bytes]]) -> dict[tuple[int, bytes], str]:
    """Of these (endpoint id, credential) pairs, those that no longer stand (one query)."""
    if not credentials:
        return {}
    ids = sorted({endpoint_id for endpoint_id, _ in credentials})
    endpoints: Mapping[int, Endpoint] = {e.id: e for e in db.scalars(select(Endpoint).where(Endpoint.id.in_(ids)))}
    found: dict[tuple[int, bytes], str] = {}
    for endpoint_id, credential in credentials:
        endpoint = endpoints.get(endpoint_id)
        reason = REVOKED if endpoint is None else device_ending(endpoint, credential)
        if reason is not None:
            found[(endpoint_id, credential)] = reason
    return found


# --- issue 12, gateway: remote sessions --------------------------------------------------


def remote_sessions_ending(db: Session, session_ids: Collection[int], now: datetime) -> dict[int, str]:
    """Of these remote sessions (opened by one-time codes), those that no
    longer stand: ended, expired, never verified, or of a hearing that has
    reached a final state (one query, reading only). The rule is the one
    hearing/interpreter/issuing.py's `load_session` applies to a request."""
    if not session_ids:
        return {}
    rows = db.execute(
        select(
            RemoteSession.id, RemoteSession.ended_at, RemoteSession.expires_at, RemoteSession.verified_at, Hearing.state
        )
        .join(Hearing, RemoteSession.hearing_id == Hearing.id)
        .where(RemoteSession.id.in_(sorted(session_ids)))
    ).all()
    standing = {
        session_id
        for session_id, ended_at, expires_at, verified_at, state in rows
        if ended_at is None and verified_at is not None and expires_at > now and state not in FINAL_STATES
    }
    return dict.fromkeys(set(session_ids) - standing, REMOTE_ENDED)
