"""Reading the log in plain words. Needs the key-encryption key, and is
itself audited: whoever reads a hearing's log leaves an entry saying so."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit import entry
from hearing.audit.actions import Action
from hearing.audit.log import AuditLog, append, log_of
from hearing.db.models import AuditEntry, AuditKey, Endpoint, StaffUser

SHREDDED = "(payload destroyed with the hearing's audit key)"
UNREADABLE = "(payload does not decrypt: it was altered or moved)"


@dataclasses.dataclass(frozen=True)
class ReadEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    payload: dict[str, Any] | None
    note: str | None = None

    @property
    def sentence(self) -> str:
        return describe(self.action, self.actor, self.payload, self.note)


def _actor_names(db: Session, rows: list[AuditEntry]) -> dict[tuple[str, int], str]:
    users = {r.actor_id for r in rows if r.actor_kind == "user" and r.actor_id is not None}
    devices = {r.actor_id for r in rows if r.actor_kind == "device" and r.actor_id is not None}
    names: dict[tuple[str, int], str] = {}
    if users:
        for uid, name in db.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(users))):
            names[("user", uid)] = name
    if devices:
        for did, name in db.execute(select(Endpoint.id, Endpoint.name).where(Endpoint.id.in_(devices))):
            names[("device", did)] = f"device {name}"
    return names


def _actor_label(row: AuditEntry, names: dict[tuple[str, int], str]) -> str:
    if row.actor_kind in {"system", "anonymous"}:
        return {"system": "the system", "anonymous": "someone not signed in"}[row.actor_kind] + (
            f" ({row.actor_role})" if row.actor_role else ""
        )
    name = names.get((row.actor_kind, row.actor_id or 0), f"{row.actor_kind} #{row.actor_id}")
    return f"{name} ({row.actor_role.replace('_', ' ')})" if row.actor_role else name


def decrypt(log: AuditLog, key: AuditKey, row: AuditEntry) -> tuple[dict[str, Any] | None, str | None]:
    if key.wrapped is None:
        return None, SHREDDED
    aead = log.cipher(key.id, key.wrapped, key.kek_fingerprint)
    try:
        plain = aead.decrypt(row.nonce, row.ciphertext, entry.associated_data(row.seq, row.hearing_id, row.action))
    except InvalidTag:
        return None, UNREADABLE
    return json.loads(plain), None


def read(db: Session, reader: Actor, hearing_id: int | None) -> list[ReadEntry]:
    """A hearing's entries (or the system's, for None), decrypted, oldest first."""
    log = log_of(db)
    condition = AuditEntry.hearing_id.is_(None) if hearing_id is None else AuditEntry.hearing_id == hearing_id
    rows = list(db.scalars(select(AuditEntry).where(condition).order_by(AuditEntry.seq)))
    keys = {k.id: k for k in db.scalars(select(AuditKey).where(AuditKey.id.in_({r.key_id for r in rows})))}
    names = _actor_names(db, rows)
    result = []
    for row in rows:
        payload, note = decrypt(log, keys[row.key_id], row)
        result.append(ReadEntry(row.seq, row.at, _actor_label(row, names), row.action, payload, note))
    # Record the reading. A shredded hearing's reading is a system event:
    # nothing can be encrypted under a destroyed key.
    shredded = hearing_id is not None and any(k.wrapped is None for k in keys.values())
    append(
        db,
        reader,
        Action.AUDIT_READ,
        hearing_id=None if shredded else hearing_id,
        hearing=hearing_id,
        entries=len(result),
    )
    return result


def hearings_with_entries(db: Session) -> list[tuple[int, int, datetime]]:
    """(hearing id, number of entries, last entry time), newest first."""
    query = (
        select(AuditEntry.hearing_id, func.count(), func.max(AuditEntry.at))
        .where(AuditEntry.hearing_id.is_not(None))
        .group_by(AuditEntry.hearing_id)
        .order_by(func.max(AuditEntry.seq).desc())
    )
    return [(hid, count, last) for hid, count, last in db.execute(query) if hid is not None]


_SENTENCES = {
    Action.SITE_ADDED: "{actor} added {site} {name}",
    Action.USER_CREATED: "{actor} created the account {username} ({role})",
    Action.USER_TOTP_RESET: "{actor} reset the authenticator of {username}",
    Action.USER_PASSWORD_RESET: "{actor} reset the password of {username}",
    Action.USER_TOTP_CONFIRMED: "{actor} confirmed a new authenticator",
    Action.USER_SIGNED_IN: "{actor} signed in",
    Action.USER_SIGN_IN_FAILED: "{actor} failed to sign in as {username} ({reason})",
    Action.USER_LOCKED: "{actor} was locked out until {until}",
    Action.USER_SIGNED_OUT: "{actor} signed out",
    Action.DEVICE_ENROLLED: "{actor} enrolled device {name}",
    Action.DEVICE_REISSUED: "{actor} issued new credentials to device {name}",
    Action.DEVICE_KIOSK_ENROLLED: "{actor} completed kiosk enrollment",
    Action.DEVICE_REVOKED: "{actor} revoked device {name}",
    Action.ACCESS_DENIED: "{actor} was refused {method} {path}",
    Action.HEARING_BOOKED: "{actor} booked case {case_number} from {start} to {end}",
    Action.PARTICIPANT_JOINED: "{actor} joined the hearing's media as {seat}",
    Action.PARTICIPANT_LEFT: "{actor} left the hearing's media as {seat} ({reason})",
    Action.HEARING_OPENED: "{actor} opened the hearing (the lobby)",
    Action.HEARING_STARTED: "{actor} started the hearing",
    Action.HEARING_PAUSED: "{actor} paused the hearing",
    Action.HEARING_RESUMED: "{actor} resumed the hearing",
    Action.CONSULTATION_STARTED: "{actor} started a private consultation",
    Action.CONSULTATION_ENDED: "{actor} ended the private consultation",
    Action.HEARING_ADJOURNED: "{actor} adjourned the hearing",
    Action.HEARING_CLOSED: "{actor} closed the hearing",
    Action.HEARING_CONVERTED_TO_PHYSICAL: "{actor} converted the hearing to a physical hearing",
    Action.AUDIT_READ: "{actor} read the audit log of hearing {hearing} ({entries} entries)",
    Action.AUDIT_KEY_SHREDDED: "{actor} destroyed the audit key of hearing {hearing}",
    Action.AUDIT_KEK_ROTATED: "{actor} rotated the audit key-encryption key",
    Action.AUDIT_CHECKPOINT_EXPORTED: "{actor} exported the checkpoint of size {size}",
}


def describe(action: str, actor: str, payload: dict[str, Any] | None, note: str | None = None) -> str:
    try:
        template = _SENTENCES[Action(action)]
    except ValueError:
        template = "{actor}: " + action
    if payload is None:
        return f"{actor}: {action} {note or ''}".strip()
    try:
        return template.format(actor=actor, **payload)
    except (KeyError, IndexError):
        return f"{actor}: {action} {json.dumps(payload, sort_keys=True)}"
