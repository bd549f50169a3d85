"""Reading the log in plain words (hearing/audit/sentences.py says them).
Needs the key-encryption key, and is itself audited: whoever reads a
hearing's log leaves an entry saying so."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, tzinfo
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit import entry
from hearing.audit.actions import Action
from hearing.audit.log import AuditLog, append, log_of, scope_of
from hearing.audit.query import SystemQuery
from hearing.audit.sentences import Who, describe
from hearing.db.models import AuditEntry, AuditKey, Endpoint, Hearing, StaffUser
from hearing.errors import HearingNotFound, InvalidInput
from hearing.fields import MAX_ID

# Why a payload is missing (sentences.NOTES says it in words).
SHREDDED = "shredded"
UNREADABLE = "unreadable"


@dataclasses.dataclass(frozen=True)
class ReadEntry:
    seq: int
    at: datetime
    actor: Who
    action: str
    payload: dict[str, Any] | None
    note: str | None = None

    def in_words(self, lang: str, tz: tzinfo) -> str:
        """The entry as a sentence in `lang` (da or en), its times in `tz`
        (the court's: Settings.timezone)."""
        return describe(self.action, self.actor, self.payload, self.note, lang=lang, tz=tz)


def _actor_names(db: Session, rows: list[AuditEntry]) -> dict[tuple[str, int], str]:
    """Users' display names and devices' names, where they still exist."""
    users = {r.actor_id for r in rows if r.actor_kind == "user" and r.actor_id is not None}
    devices = {r.actor_id for r in rows if r.actor_kind == "device" and r.actor_id is not None}
    names: dict[tuple[str, int], str] = {}
    if users:
        for uid, name in db.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(users))):
            names[("user", uid)] = name
    if devices:
        for did, name in db.execute(select(Endpoint.id, Endpoint.name).where(Endpoint.id.in_(devices))):
            names[("device", did)] = name
    return names


def _actor(row: AuditEntry, names: dict[tuple[str, int], str]) -> Who:
    name = names.get((row.actor_kind, row.actor_id)) if row.actor_id is not None else None
    return Who(row.actor_kind, row.actor_id, row.actor_role, name)


def decrypt(log: AuditLog, key: AuditKey, row: AuditEntry) -> tuple[dict[str, Any] | None, str | None]:
    if key.wrapped is None:
        return None, SHREDDED
    aead = log.cipher(key.id, key.wrapped, key.kek_fingerprint)
    try:
        plain = aead.decrypt(row.nonce, row.ciphertext, entry.associated_data(row.seq, row.hearing_id, row.action))
    except InvalidTag:
        return None, UNREADABLE
    return json.loads(plain), None


def has_log(db: Session, hearing_id: int) -> bool:
    """Whether the auditor can ask for this hearing's log: it exists, or it
    existed and left entries (the log outlives what it describes)."""
    if not 0 < hearing_id <= MAX_ID:
        return False
    if db.scalar(select(Hearing.id).where(Hearing.id == hearing_id)) is not None:
        return True
    return db.scalar(select(AuditKey.id).where(AuditKey.scope == scope_of(hearing_id))) is not None


def read(db: Session, reader: Actor, hearing_id: int | None) -> list[ReadEntry]:
    """A hearing's entries (or the system's, for None), decrypted, oldest first.
    An id that names no hearing is refused before anything is written."""
    if hearing_id is not None and not has_log(db, hearing_id):
        raise HearingNotFound()
    log = log_of(db)
    condition = AuditEntry.hearing_id.is_(None) if hearing_id is None else AuditEntry.hearing_id == hearing_id
    rows = list(db.scalars(select(AuditEntry).where(condition).order_by(AuditEntry.seq)))
    keys = {k.id: k for k in db.scalars(select(AuditKey).where(AuditKey.id.in_({r.key_id for r in rows})))}
    names = _actor_names(db, rows)
    result = []
    for row in rows:
        payload, note = decrypt(log, keys[row.key_id], row)
        result.append(ReadEntry(row.seq, row.at, _actor(row, names), row.action, payload, note))
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


@dataclasses.dataclass(frozen=True)
class SystemPage:
    """One page of the system's events, newest first; `older` is the
    `before` that turns to the next page (None on the last)."""

    entries: list[ReadEntry]
    older: int | None


def read_system(db: Session, reader: Actor, query: SystemQuery) -> SystemPage:
    """The system's own entries (sign-ins, refusals without a hearing,
    devices, accounts, keys) that match `query`, decrypted. Audited like a
    hearing's reading, with the filters that were used."""
    log = log_of(db)
    conditions: list[ColumnElement[bool]] = [AuditEntry.hearing_id.is_(None)]
    if query.since is not None:
        conditions.append(AuditEntry.at >= query.since)
    if query.until is not None:
        conditions.append(AuditEntry.at < query.until)
    if query.action is not None:
        conditions.append(AuditEntry.action == query.action)
    if query.before is not None:
        conditions.append(AuditEntry.seq < query.before)
    if query.actor is not None:
        actor_id = query.actor.id
        if query.actor.username is not None:
            actor_id = db.scalar(select(StaffUser.id).where(StaffUser.username == query.actor.username))
            if actor_id is None:
                raise InvalidInput(f"No staff user is called {query.actor.username}.", field="actor")
        conditions.append(AuditEntry.actor_kind == query.actor.kind)
        if actor_id is not None:
            conditions.append(AuditEntry.actor_id == actor_id)
    # One more than the page holds: whether there is an older page.
    found = select(AuditEntry).where(*conditions).order_by(AuditEntry.seq.desc()).limit(query.limit + 1)
    rows = list(db.scalars(found))
    older = rows[query.limit - 1].seq if len(rows) > query.limit else None
    rows = rows[: query.limit]
    keys = {k.id: k for k in db.scalars(select(AuditKey).where(AuditKey.id.in_({r.key_id for r in rows})))}
    names = _actor_names(db, rows)
    entries = []
    for row in rows:
        payload, note = decrypt(log, keys[row.key_id], row)
        entries.append(ReadEntry(row.seq, row.at, _actor(row, names), row.action, payload, note))
    append(db, reader, Action.AUDIT_SYSTEM_READ, entries=len(entries), filters=query.described())
    return SystemPage(entries, older)
