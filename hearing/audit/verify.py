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

It reads rows as the database driver hands them over, not through the
models, and checks every value's type and range before hashing it: a row
that someone rewrote with the database's own tools (a text where bytes
belong, a NULL, a nonce of the wrong length, a time that is not one, an id
the writer could never have written) is the first bad entry like any other
change, and never a traceback. A row the database itself cannot hand over
is reported at its position too.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from hearing.audit import entry
from hearing.audit.checkpoint import BadCheckpoint, Checkpoint, open_note
from hearing.audit.merkle import Frontier

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
    except DBAPIError as exc:
        return Report(0, 0, Frontier().root(), None, f"the checkpoints cannot be read: {_first_line(exc)}")
    expected: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        expected.setdefault(cp.size, []).append(cp)
    frontier = Frontier()
    checked = 0
    for cp in expected.get(0, []):
        checked += 1
        if cp.root != frontier.root():
            return Report(0, checked, frontier.root(), 1, "the checkpoint of the empty log has the wrong root")
    if connection.dialect.name != "sqlite":
        return _read(connection, _entries_sql(careful=False), lambda rows: rows, checked, expected)
    # SQLite first as it is (fast); only text that is not UTF-8 stops its
    # driver, and then the careful query finds the row exactly.
    report = _read(connection, _entries_sql(careful=False), _times_from_sqlite, checked, expected)
    if report.problem is not None and report.problem.startswith(_UNREADABLE):
        report = _read(connection, _entries_sql(careful=True), _from_sqlite, checked, expected)
    return report


_UNREADABLE = "entry cannot be read"


def _read(
    connection: Connection,
    sql: str,
    convert: Callable[[Iterable[Any]], Iterable[Any]],
    checked: int,
    expected: dict[int, list[Checkpoint]],
) -> Report:
    frontier = Frontier()
    try:
        rows = connection.execution_options(yield_per=BATCH).exec_driver_sql(sql)
    except DBAPIError as exc:
        return _bad(frontier, checked, 1, f"the entries cannot be read: {_first_line(exc)}")
    with rows:  # closes the server-side cursor on an early return
        try:
            return _walk(convert(rows), frontier, checked, expected)
        except DBAPIError as exc:
            # The database could not hand over the next rows (it checks what
            # it stores less than we do): the first of them is the first bad.
            return _bad(frontier, checked, frontier.size + 1, f"{_UNREADABLE}: {_first_line(exc)}")


# --- reading rows as they are stored ------------------------------------------

_ENTRY_COLUMNS = (
    ("seq", "integer"),
    ("at", "text"),
    ("hearing_id", "integer"),
    ("actor_kind", "text"),
    ("actor_id", "integer"),
    ("actor_role", "text"),
    ("action", "text"),
    ("key_id", "integer"),
    ("nonce", "blob"),
    ("ciphertext", "blob"),
    ("chain_hash", "blob"),
)
_TEXT_AT = tuple(i for i, (_, kind) in enumerate(_ENTRY_COLUMNS) if kind == "text")


def _stored(column: str, kind: str) -> str:
    """On SQLite, which keeps whatever a value was given as: the value when
    it is of the column's own storage class (text as its UTF-8 bytes, since
    the driver cannot hand over text that is not UTF-8), else the name of
    the class it has, as a string."""
    value = f"CAST({column} AS BLOB)" if kind == "text" else column
    return f"CASE WHEN typeof({column}) IN ('{kind}', 'null') THEN {value} ELSE 'stored as ' || typeof({column}) END"


def _entries_sql(*, careful: bool) -> str:
    if careful:
        columns = ", ".join(_stored(column, kind) for column, kind in _ENTRY_COLUMNS)
    else:
        columns = ", ".join(column for column, _ in _ENTRY_COLUMNS)
    return f"SELECT {columns} FROM audit_entry ORDER BY seq"  # noqa: S608 (no input: the column names above)


class _Wrong:
    """A value SQLite stored as another class than its column's, or text
    that is not UTF-8: malformed whatever it says."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return self.what


@functools.lru_cache(maxsize=1024)
def _words_of(value: object) -> object:
    # Memoised: actor kinds, roles and actions are a handful of values.
    return _text(value)


def _text(value: object) -> object:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return _Wrong("text that is not UTF-8")
    return _Wrong(value) if isinstance(value, str) else value


def _times_from_sqlite(rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    # SQLite hands back each value in the class it was stored as, which
    # _malformed checks; times are text, and turned into times here.
    for row in rows:
        yield (row[0], _sqlite_time(row[1]), *row[2:])


def _from_sqlite(rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
    # Only the text columns need turning back into text; a string anywhere
    # else is the name of a wrong storage class, which _malformed explains.
    for seq, at, hearing, kind, actor, role, action, key, nonce, ciphertext, chain in rows:
        yield (
            seq, _sqlite_time(_text(at)), hearing, _words_of(kind), actor, _words_of(role), _words_of(action), key,
            nonce, ciphertext, chain,
        )  # fmt: skip


def _sqlite_time(stored: object) -> object:
    # As SQLAlchemy writes it, naive UTC to the microsecond, and only so: a
    # time spelled another way is not one the writer wrote.
    if not isinstance(stored, str):
        return stored
    try:
        moment = datetime.fromisoformat(stored)
    except ValueError:
        return _Wrong(f"{stored[:40]!r}, not a time")
    if moment.tzinfo is not None or moment.isoformat(" ", "microseconds") != stored:
        return _Wrong(f"{stored[:40]!r}, not a time as the log writes it")
    return moment.replace(tzinfo=UTC)


_MAX_SIGNED = 2**63 - 1
_MAX_KEY_ID = 2**32 - 1
_MAX_TEXT = 0xFFFF


def _id(value: object, name: str, *, optional: bool, top: int = _MAX_SIGNED) -> str | None:
    if value is None:
        return None if optional else f"its {name} is missing"
    if type(value) is not int:
        return f"its {name} is {_kind(value)}, not a number"
    # Ids count from 1; -1 is how the header says "none", so a negative id
    # would read as another entry's header.
    if not 0 <= value <= top:
        return f"its {name} {value} is out of range"
    return None


def _words(value: object, name: str, *, optional: bool) -> str | None:
    if value is None:
        return None if optional else f"its {name} is missing"
    if type(value) is not str:
        return f"its {name} is {_kind(value)}, not text"
    if len(value.encode("utf-8", "surrogatepass")) > _MAX_TEXT:
        return f"its {name} is too long"
    return None


def _bytes(value: object, name: str, size: int | None = None, least: int = 0) -> str | None:
    if value is None:
        return f"its {name} is missing"
    if type(value) is not bytes:
        return f"its {name} is {_kind(value)}, not bytes"
    if size is not None and len(value) != size:
        return f"its {name} is {len(value)} bytes, not {size}"
    if len(value) < least:
        return f"its {name} is {len(value)} bytes, shorter than any the log writes"
    return None


def _kind(value: object) -> str:
    if isinstance(value, _Wrong):
        return repr(value)
    if isinstance(value, str) and value.startswith("stored as "):
        return value  # SQLite's storage class, from _stored
    return {str: "text", bytes: "bytes", int: "a number", float: "a fraction", datetime: "a time"}.get(
        type(value), type(value).__name__
    )


def _malformed(row: tuple[Any, ...]) -> str | None:
    """What is wrong with a row's values, or None when each is of the type
    and within the range the writer writes (whether they are the values it
    wrote is for the hashes to say)."""
    seq, at, hearing, kind, actor, role, action, key, nonce, ciphertext, chain = row
    # The common case in one expression (the verifier's speed is this loop);
    # anything else is explained below, field by field.
    if (
        type(seq) is int
        and type(at) is datetime
        and at.tzinfo is not None
        and (hearing is None or (type(hearing) is int and 0 <= hearing <= _MAX_SIGNED))
        and type(kind) is str
        and (actor is None or (type(actor) is int and 0 <= actor <= _MAX_SIGNED))
        and (role is None or type(role) is str)
        and type(action) is str
        and type(key) is int
        and 0 <= key <= _MAX_KEY_ID
        and type(nonce) is bytes
        and len(nonce) == 12
        and type(ciphertext) is bytes
        and len(ciphertext) >= 16
        and type(chain) is bytes
        and len(chain) == 32
        # Four bytes at most per character: short enough to need no encoding.
        and len(kind) + len(role or "") + len(action) <= _MAX_TEXT // 4
        and 0 <= seq <= _MAX_SIGNED
    ):
        return None
    if not isinstance(at, datetime):
        problem: str | None = "its time is missing" if at is None else f"its time is {_kind(at)}"
        return problem
    if at.tzinfo is None:
        return "its time has no time zone"
    return (
        _id(seq, "number", optional=False)
        or _id(hearing, "hearing", optional=True)
        or _words(kind, "actor kind", optional=False)
        or _id(actor, "actor", optional=True)
        or _words(role, "actor role", optional=True)
        or _words(action, "action", optional=False)
        or _id(key, "key id", optional=False, top=_MAX_KEY_ID)
        or _bytes(nonce, "nonce", size=12)
        or _bytes(ciphertext, "ciphertext", least=16)
        or _bytes(chain, "chain_hash", size=32)
    )


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).splitlines()[0][:200] if exc.orig is not None else type(exc).__name__


# --- the walk -----------------------------------------------------------------


def _walk(rows: Iterable[Any], frontier: Frontier, checked: int, expected: dict[int, list[Checkpoint]]) -> Report:
    chain = entry.GENESIS
    leaf_data, leaf_hash, chain_next = entry.leaf_data, entry.leaf_hash, entry.chain_next
    for row in rows:
        seq = frontier.size + 1
        found = row[0]
        if found != seq:
            return _bad(frontier, checked, seq, f"expected entry {seq}, found {found} (deleted or inserted entries)")
        problem = _malformed(row)
        if problem is not None:
            return _bad(frontier, checked, seq, f"entry {seq} is malformed: {problem}")
        leaf = leaf_hash(leaf_data(*row[:10]))
        chain = chain_next(chain, leaf)
        if chain != row[10]:
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


def _checkpoints_sql(sqlite: bool) -> str:
    if sqlite:
        return f"SELECT {_stored('size', 'integer')}, {_stored('note', 'text')} FROM audit_checkpoint"  # noqa: S608 (no input)
    return "SELECT size, note FROM audit_checkpoint"


def _checkpoints(
    connection: Connection, origin: str, key: Ed25519PublicKey, exported: Sequence[str]
) -> list[Checkpoint]:
    found = []
    sqlite = connection.dialect.name == "sqlite"
    for size, stored in connection.exec_driver_sql(_checkpoints_sql(sqlite)):
        note = _text(stored) if sqlite else stored
        if sqlite and isinstance(size, str):
            size = _Wrong(size)
        if type(size) is not int:
            raise BadCheckpoint(f"a stored checkpoint's size is {'missing' if size is None else _kind(size)}")
        if type(note) is not str:
            raise BadCheckpoint(
                f"stored checkpoint of size {size}: its note is {'missing' if note is None else _kind(note)}"
            )
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
