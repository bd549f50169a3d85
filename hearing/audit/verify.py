"""The independent verifier: the database, the public key, nothing else.

It reads every entry in order and recomputes what the writer computed: the
leaf hash over header and ciphertext, the hash chain, and the Merkle tree
root at every checkpoint. It needs no encryption key, so a court can run it
on a copy of the database with only `audit-signing.pub` in hand.

What it detects: a changed byte in any entry (header or ciphertext), a
deleted, inserted, duplicated or reordered entry (all at the first position
affected), checkpoints whose signature or root does not match, and, given
a checkpoint exported earlier, a log that was truncated or rewritten since.
Without an exported checkpoint the newest entries can be cut off unnoticed,
together with the checkpoints in the database that cover them: export one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from hearing.audit import entry
from hearing.audit.checkpoint import BadCheckpoint, Checkpoint, open_note
from hearing.audit.merkle import Frontier
from hearing.db.models import AuditCheckpoint, AuditEntry

BATCH = 5000


@dataclasses.dataclass(frozen=True)
class Report:
    size: int
    checkpoints: int
    root: bytes
    first_bad: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(connection: Connection, origin: str, key: Ed25519PublicKey, exported_notes: Sequence[str] = ()) -> Report:
    try:
        checkpoints = _checkpoints(connection, origin, key, exported_notes)
    except BadCheckpoint as exc:
        return Report(0, 0, Frontier().root(), first_bad=None, problem=str(exc))
    expected: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        expected.setdefault(cp.size, []).append(cp)
    frontier = Frontier()
    checked = 0
    for cp in expected.get(0, []):
        checked += 1
        if cp.root != frontier.root():
            return Report(0, checked, frontier.root(), 1, "the checkpoint of the empty log has the wrong root")
    columns = (
        AuditEntry.seq,
        AuditEntry.at,
        AuditEntry.hearing_id,
        AuditEntry.actor_kind,
        AuditEntry.actor_id,
        AuditEntry.actor_role,
        AuditEntry.action,
        AuditEntry.key_id,
        AuditEntry.nonce,
        AuditEntry.ciphertext,
    )
    rows = connection.execution_options(yield_per=BATCH).execute(
        select(*columns, AuditEntry.chain_hash).order_by(AuditEntry.seq)
    )
    with rows:  # closes the server-side cursor on an early return
        return _walk(rows, frontier, checked, expected)


def _walk(rows: Iterable[Any], frontier: Frontier, checked: int, expected: dict[int, list[Checkpoint]]) -> Report:
    chain = entry.GENESIS
    leaf_data, leaf_hash, chain_next = entry.leaf_data, entry.leaf_hash, entry.chain_next
    for found, at, hearing, kind, actor, role, action, key, nonce, ciphertext, stored_chain in rows:
        seq = frontier.size + 1
        if found != seq:
            return _bad(frontier, checked, seq, f"expected entry {seq}, found {found} (deleted or inserted entries)")
        leaf = leaf_hash(leaf_data(found, at, hearing, kind, actor, role, action, key, nonce, ciphertext))
        chain = chain_next(chain, leaf)
        if chain != stored_chain:
            return _bad(frontier, checked, seq, "entry does not match the hash chain (changed, inserted or moved)")
        frontier.append(leaf)
        if seq not in expected:
            continue
        for cp in expected[seq]:
            checked += 1
            if cp.root != frontier.root():
                return _bad(
                    frontier, checked, None, f"the log is inconsistent with the signed checkpoint of size {cp.size}"
                )
    longest = max(expected, default=0)
    if longest > frontier.size:
        return _bad(
            frontier,
            checked,
            frontier.size + 1,
            f"the log has {frontier.size} entries but a signed checkpoint has {longest} (truncated)",
        )
    return Report(frontier.size, checked, frontier.root())


def _bad(frontier: Frontier, checked: int, first_bad: int | None, problem: str) -> Report:
    return Report(frontier.size, checked, frontier.root(), first_bad, problem)


def _checkpoints(
    connection: Connection, origin: str, key: Ed25519PublicKey, exported: Sequence[str]
) -> list[Checkpoint]:
    found = []
    for size, note in connection.execute(select(AuditCheckpoint.size, AuditCheckpoint.note)):
        try:
            cp = open_note(note, origin, key)
        except BadCheckpoint as exc:
            raise BadCheckpoint(f"stored checkpoint of size {size}: {exc}") from None
        if cp.size != size:
            raise BadCheckpoint(f"stored checkpoint of size {size} claims size {cp.size}")
        found.append(cp)
    for number, note in enumerate(exported, 1):
        try:
            found.append(open_note(note, origin, key))
        except BadCheckpoint as exc:
            raise BadCheckpoint(f"exported checkpoint {number}: {exc}") from None
    return found
