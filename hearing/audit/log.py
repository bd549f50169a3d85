"""Appending to the audit log, always inside the caller's transaction.

A mutating service function calls `append` before its unit of work commits,
so a change and its entry land together or not at all. Each append locks
the log's head row: on PostgreSQL `SELECT ... FOR UPDATE`, on SQLite the
database lock that `BEGIN IMMEDIATE` already holds. That makes sequence
numbers gap-free and the hash chain consistent across tasks and processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit import checkpoint as notes
from hearing.audit import entry, keys
from hearing.audit.actions import Action
from hearing.audit.keys import AuditKeys
from hearing.audit.merkle import Frontier
from hearing.clock import utcnow
from hearing.db.models import AuditCheckpoint, AuditKey, Base, Hearing
from hearing.errors import ConfigurationError, Conflict
from hearing.fields import MAX_ID

SESSION_KEY = "audit_log"


@dataclasses.dataclass(frozen=True)
class Event:
    actor: Actor
    action: Action
    hearing_id: int | None = None
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)


class AuditKeyShredded(Conflict):
    code = "audit_key_shredded"
    default_message = "This hearing's audit key has been destroyed; nothing more can be logged for it."


def scope_of(hearing_id: int | None) -> str:
    return "system" if hearing_id is None else f"hearing:{hearing_id}"


def scope_for(db: Session, hearing_id: int | None) -> int | None:
    """The hearing an entry about `hearing_id` can be written under: the
    hearing itself while it exists and its data key is intact, the system
    otherwise. An entry about an id that names no hearing must not create a
    data key for it (which would make it look like a hearing with a log),
    and nothing can be encrypted under a destroyed key."""
    if hearing_id is None or not 0 < hearing_id <= MAX_ID:
        return None
    if db.scalar(select(Hearing.id).where(Hearing.id == hearing_id)) is None:
        return None
    wrapped = db.execute(select(AuditKey.wrapped).where(AuditKey.scope == scope_of(hearing_id))).first()
    return None if wrapped is not None and wrapped[0] is None else hearing_id


class AuditLog:
    """What every session of a process needs to write the log: keys, the
    checkpoint policy, and a cache of unwrapped data keys."""

    def __init__(self, audit_keys: AuditKeys, *, checkpoint_every: int = 1000, checkpoint_seconds: float = 60) -> None:
        if checkpoint_every < 1 or checkpoint_seconds <= 0:
            raise ConfigurationError("checkpoint interval must be positive")
        self.keys = audit_keys
        self.checkpoint_every = checkpoint_every
        self.checkpoint_interval = timedelta(seconds=checkpoint_seconds)
        self._ciphers: dict[tuple[int, bytes], AESGCM] = {}

    def cipher(self, key_id: int, wrapped: bytes, kek_fingerprint: bytes) -> AESGCM:
        cached = self._ciphers.get((key_id, wrapped))
        if cached is not None:
            return cached
        if kek_fingerprint != self.keys.kek_fingerprint:
            raise ConfigurationError(
                "audit data keys are wrapped under another key-encryption key"
                " (an interrupted 'hearing keys rotate-kek'? run it again)"
            )
        aead = AESGCM(keys.unwrap(self.keys.kek, wrapped))
        self._ciphers[(key_id, wrapped)] = aead
        return aead

    def forget_keys(self) -> None:
        self._ciphers.clear()

    def data_keys(self, connection: Connection, hearing_ids: set[int | None]) -> dict[int | None, tuple[int, AESGCM]]:
        """The data keys for these hearings' entries, created on first use, in
        one query. Called with the head row locked, so two writers cannot
        both create the same key."""
        scopes = {scope_of(h): h for h in hearing_ids}
        found = connection.execute(_KEYS_BY_SCOPE, {"scopes": list(scopes)}).all()
        result: dict[int | None, tuple[int, AESGCM]] = {}
        for key_id, scope, wrapped, fingerprint in found:
            if wrapped is None:
                raise AuditKeyShredded()
            result[scopes[scope]] = (key_id, self.cipher(key_id, wrapped, fingerprint))
        for scope, hearing_id in scopes.items():
            if hearing_id not in result:
                wrapped = keys.wrap(self.keys.kek, os.urandom(32))
                key_id = connection.execute(
                    _NEW_KEY,
                    {
                        "scope": scope,
                        "hearing_id": hearing_id,
                        "wrapped": wrapped,
                        "kek_fingerprint": self.keys.kek_fingerprint,
                        "created_at": utcnow(),
                    },
                ).scalar_one()
                result[hearing_id] = (key_id, self.cipher(key_id, wrapped, self.keys.kek_fingerprint))
        return result


def log_of(db: Session) -> AuditLog:
    log = db.info.get(SESSION_KEY)
    if not isinstance(log, AuditLog):
        raise ConfigurationError("this database session has no audit log attached")
    return log


def _encode_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode("utf-8")


def append(db: Session, actor: Actor, action: Action, *, hearing_id: int | None = None, **payload: Any) -> int:
    """Append one entry; returns its sequence number."""
    return append_many(db, [Event(actor, action, hearing_id, payload)])[0]


# Core statements, built once: the append path runs for every change in the
# system, and the ORM's per-statement work dominated it (bench/audit_bench.py).
_entries = Base.metadata.tables["audit_entry"]
_heads = Base.metadata.tables["audit_head"]
_keys = Base.metadata.tables["audit_key"]
_LOCK_HEAD = (
    select(_heads.c.size, _heads.c.chain_hash, _heads.c.frontier, _heads.c.checkpoint_size, _heads.c.checkpoint_at)
    .where(_heads.c.id == 1)
    .with_for_update()
)
_COLUMNS = tuple(_entries.columns.keys())
_INSERT_SQL: dict[str, tuple[str, bool]] = {}
_UPDATE_HEAD = update(_heads).where(_heads.c.id == 1)
_KEYS_BY_SCOPE = select(AuditKey.id, AuditKey.scope, AuditKey.wrapped, AuditKey.kek_fingerprint).where(
    AuditKey.scope.in_(bindparam("scopes", expanding=True))
)
_NEW_KEY = insert(_keys).returning(_keys.c.id)


def append_many(db: Session, events: Sequence[Event]) -> list[int]:
    """Append entries in order, in the caller's transaction; one lock, one insert."""
    if not events:
        return []
    log = log_of(db)
    now = utcnow()
    # Core statements on the session's own connection: same transaction,
    # without the ORM's per-statement work (none of these tables is mapped
    # state the session could hold pending).
    connection = db.connection()
    head = connection.execute(_LOCK_HEAD).one()
    first = head.size + 1
    frontier = Frontier.from_bytes(head.size, head.frontier)
    chain = head.chain_hash
    ciphers = log.data_keys(connection, {event.hearing_id for event in events})
    rows: list[tuple[Any, ...]] = []
    at = _driver_time(connection, now)
    for event in events:
        key_id, aead = ciphers[event.hearing_id]
        actor = event.actor
        seq = frontier.size + 1
        action = event.action.value
        nonce = os.urandom(12)
        ciphertext = aead.encrypt(
            nonce, _encode_payload(event.payload), entry.associated_data(seq, event.hearing_id, action)
        )
        leaf = entry.leaf_hash(
            entry.leaf_data(
                seq, now, event.hearing_id, actor.kind, actor.id, actor.role, action, key_id, nonce, ciphertext
            )
        )
        chain = entry.chain_next(chain, leaf)
        frontier.append(leaf)
        rows.append(
            (seq, at, event.hearing_id, actor.kind, actor.id, actor.role, action, key_id, nonce, ciphertext, chain)
        )
    _insert_entries(connection, rows)
    values: dict[str, Any] = {"size": frontier.size, "chain_hash": chain, "frontier": frontier.to_bytes()}
    due = frontier.size - head.checkpoint_size >= log.checkpoint_every or (
        head.checkpoint_at is None or now - head.checkpoint_at >= log.checkpoint_interval
    )
    if due:
        values.update(_write_checkpoint(connection, log, frontier, now))
    connection.execute(_UPDATE_HEAD, values)
    return list(range(first, frontier.size + 1))


def _driver_time(connection: Connection, moment: datetime) -> Any:
    """The entry time as the driver takes it (all entries of a batch share it)."""
    process = _entries.c.at.type.bind_processor(connection.dialect)
    return process(moment) if process else moment


def _insert_entries(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    """One executemany through the driver. SQLAlchemy's per-row parameter
    processing was a third of a batched append; the statement is still
    SQLAlchemy's, compiled once per dialect, and the only value that needs
    converting (the time) was converted above."""
    dialect = connection.dialect
    cached = _INSERT_SQL.get(dialect.name)
    if cached is None:
        compiled = insert(_entries).compile(dialect=dialect, column_keys=list(_COLUMNS))
        order = compiled.positiontup if compiled.positional else None
        if order is not None and tuple(order) != _COLUMNS:
            raise ConfigurationError("unexpected parameter order for the audit insert")
        cached = _INSERT_SQL[dialect.name] = (str(compiled), compiled.positional)
    sql, positional = cached
    params: list[Any] = rows if positional else [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
    connection.exec_driver_sql(sql, params)


def _write_checkpoint(connection: Connection, log: AuditLog, frontier: Frontier, now: datetime) -> dict[str, Any]:
    tree_head = notes.Checkpoint(log.keys.origin, frontier.size, frontier.root(), now)
    connection.execute(
        insert(AuditCheckpoint).values(
            size=tree_head.size, root_hash=tree_head.root, at=now, note=notes.sign(tree_head, log.keys.signing)
        )
    )
    return {"checkpoint_size": frontier.size, "checkpoint_at": now}


def checkpoint(db: Session) -> AuditCheckpoint:
    """Sign the current tree head now (if it is not signed already): when a
    hearing closes, and before a checkpoint is exported."""
    log = log_of(db)
    connection = db.connection()
    head = connection.execute(_LOCK_HEAD).one()
    if head.size != head.checkpoint_size or head.checkpoint_at is None:
        values = _write_checkpoint(connection, log, Frontier.from_bytes(head.size, head.frontier), utcnow())
        connection.execute(_UPDATE_HEAD, values)
    return db.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).scalar_one()
