"""The canonical bytes of an audit entry: what is hashed and what is bound.

A leaf of the Merkle tree covers the entry's header and its *ciphertext*, so
the log still verifies after a hearing's data key is destroyed. The payload's
associated data binds sequence number, hearing and action, so a ciphertext
moved to another entry does not decrypt. Pure functions, no I/O.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from datetime import UTC, datetime, timedelta

from hearing.audit import merkle

GENESIS = bytes(32)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_HEADER = struct.Struct(">QqqqI")
_NONE = -1


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


@functools.lru_cache(maxsize=1024)
def _text(value: str | None) -> bytes:
    # Memoised: actor kinds, roles and actions are a handful of strings, and
    # the verifier encodes them for every entry.
    raw = b"" if value is None else value.encode("utf-8")
    # A None and an empty string must not encode alike.
    return struct.pack(">bH", 0 if value is None else 1, len(raw)) + raw


def leaf_data(
    seq: int,
    at: datetime,
    hearing_id: int | None,
    actor_kind: str,
    actor_id: int | None,
    actor_role: str | None,
    action: str,
    key_id: int,
    nonce: bytes,
    ciphertext: bytes,
) -> bytes:
    return b"".join(
        (
            b"hearing-audit-entry/1",
            _HEADER.pack(
                seq,
                micros(at),
                _NONE if hearing_id is None else hearing_id,
                _NONE if actor_id is None else actor_id,
                key_id,
            ),
            _text(actor_kind),
            _text(actor_role),
            _text(action),
            struct.pack(">B", len(nonce)),
            nonce,
            struct.pack(">I", len(ciphertext)),
            ciphertext,
        )
    )


def associated_data(seq: int, hearing_id: int | None, action: str) -> bytes:
    return struct.pack(">Qq", seq, _NONE if hearing_id is None else hearing_id) + action.encode("utf-8")


def leaf_hash(entry_data: bytes) -> bytes:
    return merkle.leaf_hash(entry_data)


def chain_next(previous: bytes, leaf: bytes) -> bytes:
    """The hash chain: each entry's link commits to every entry before it."""
    return hashlib.sha256(previous + leaf).digest()
