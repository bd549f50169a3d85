"""Enrolled devices: courtroom rigs and custody endpoints.

A device holds one live credential, a 256-bit token that the server keeps
only as a keyed hash. Agents send it in a header; a kiosk browser gets it
as a cookie by opening a one-time enrollment link, which issues a fresh
token (the printed one then stops working: one device, one credential).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth import standing
from hearing.auth.keys import KeyRing
from hearing.db.models import Endpoint, Hearing
from hearing.docket import sites
from hearing.docket.parties import EndpointKind
from hearing.errors import (
    AlreadyExists,
    DeviceNotAuthorised,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

ENROLLMENT_VALIDITY = timedelta(hours=24)
DEVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
TOKEN_MAX_LENGTH = 128


@dataclasses.dataclass(frozen=True)
class DeviceCredentials:
    endpoint_id: int
    token: str
    enrollment_code: str


def token_hash(keys: KeyRing, token: str) -> bytes:
    return hmac.new(keys.device_token, token.encode("ascii", "replace"), hashlib.sha256).digest()


def device_actor(endpoint: Endpoint) -> Actor:
    return Actor("device", endpoint.id, endpoint.kind.value)


def enroll(
    db: Session, keys: KeyRing, actor: Actor, *, kind: EndpointKind, name: str, site: str, now: datetime
) -> DeviceCredentials:
    if not DEVICE_NAME.match(name):
        raise InvalidInput("A device name is 1-64 letters, digits, spaces, '.', '_' or '-'.", field="name")
    if db.scalar(select(Endpoint.id).where(Endpoint.name == name)) is not None:
        raise AlreadyExists(f"A device named {name} is already enrolled.")
    endpoint = Endpoint(kind=kind, name=name, enrolled_at=now)
    if kind.at_courtroom:
        endpoint.courtroom_id = sites.courtroom_named(db, site).id
    else:
        endpoint.facility_id = sites.facility_named(db, site).id
    token, code = _issue(keys, endpoint, now)
    db.add(endpoint)
    db.flush()
    append(db, actor, Action.DEVICE_ENROLLED, endpoint_id=endpoint.id, name=name, kind=kind.value, site=site)
    return DeviceCredentials(endpoint.id, token, code)


def _issue(keys: KeyRing, endpoint: Endpoint, now: datetime) -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    code = secrets.token_urlsafe(32)
    endpoint.token_hash = token_hash(keys, token)
    endpoint.enrollment_code_hash = token_hash(keys, code)
    endpoint.enrollment_expires_at = now + ENROLLMENT_VALIDITY
    return token, code


def revoke(db: Session, actor: Actor, name: str, now: datetime) -> Endpoint:
    endpoint = db.scalar(select(Endpoint).where(Endpoint.name == name))
    if endpoint is None:
        raise NotFound(f"No device named {name}.")
    if endpoint.revoked_at is None:
        endpoint.revoked_at = now
        endpoint.enrollment_code_hash = None
        append(db, actor, Action.DEVICE_REVOKED, endpoint_id=endpoint.id, name=name)
    return endpoint


def authenticate(db: Session, keys: KeyRing, token: str, now: datetime) -> Endpoint:
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise DeviceNotAuthorised()
    # The lookup is by keyed hash: an attacker cannot steer it towards a
    # near-miss, so the index lookup leaks nothing useful through timing.
    credential = token_hash(keys, token)
    endpoint = db.scalar(select(Endpoint).where(Endpoint.token_hash == credential))
    # The same rule as for the device's open sockets (auth/standing.py).
    if endpoint is None or standing.device_ending(endpoint, credential) is not None:
        raise DeviceNotAuthorised()
    if endpoint.last_seen_at is None or now - endpoint.last_seen_at > timedelta(seconds=60):
        endpoint.last_seen_at = now
    return endpoint


def enroll_kiosk(db: Session, keys: KeyRing, code: str, now: datetime) -> tuple[Endpoint, str]:
    """Redeem a one-time enrollment link for a fresh device token."""
    if not code or len(code) > TOKEN_MAX_LENGTH:
        raise DeviceNotAuthorised()
    endpoint = db.scalar(select(Endpoint).where(Endpoint.enrollment_code_hash == token_hash(keys, code)))
    if (
        endpoint is None
        or endpoint.revoked_at is not None
        or endpoint.enrollment_expires_at is None
        or endpoint.enrollment_expires_at < now
    ):
        raise DeviceNotAuthorised()
    token = secrets.token_urlsafe(32)
    endpoint.token_hash = token_hash(keys, token)
    endpoint.enrollment_code_hash = None
    endpoint.enrollment_expires_at = None
    append(db, device_actor(endpoint), Action.DEVICE_KIOSK_ENROLLED, endpoint_id=endpoint.id)
    return endpoint, token


def check_site(endpoint: Endpoint, hearing: Hearing) -> None:
    """A device reaches only its own site's hearings."""
    if endpoint.kind.at_courtroom:
        ok = hearing.courtroom_id == endpoint.courtroom_id
    else:
        ok = hearing.facility_id == endpoint.facility_id
    if not ok:
        raise PermissionDenied("This device is not at this hearing's courtroom or custody facility.")


def reissue(db: Session, keys: KeyRing, actor: Actor, name: str, now: datetime) -> DeviceCredentials:
    """New credentials for an enrolled device; the old token stops working."""
    endpoint = db.scalar(select(Endpoint).where(Endpoint.name == name))
    if endpoint is None:
        raise NotFound(f"No device named {name}.")
    token, code = _issue(keys, endpoint, now)
    reactivated = endpoint.revoked_at is not None
    endpoint.revoked_at = None
    append(db, actor, Action.DEVICE_REISSUED, endpoint_id=endpoint.id, name=name, reactivated=reactivated)
    return DeviceCredentials(endpoint.id, token, code)


def touch(db: Session, endpoint_id: int, now: datetime) -> None:
    """Record that a device was seen, in a short write of its own:
    `authenticate` runs in a read-only transaction."""
    db.execute(
        update(Endpoint)
        .where(Endpoint.id == endpoint_id, or_(Endpoint.last_seen_at.is_(None), Endpoint.last_seen_at < now))
        .values(last_seen_at=now)
    )
