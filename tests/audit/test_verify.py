"""The verifier finds every kind of tampering, at the first entry affected."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, delete, insert, select, text, update

from hearing.actors import SYSTEM, Actor
from hearing.audit import entry, verify
from hearing.audit.actions import Action
from hearing.audit.checkpoint import Checkpoint, sign
from hearing.audit.log import append, checkpoint
from hearing.config import Settings
from hearing.db.models import AuditCheckpoint, AuditEntry, Base
from hearing.services import Services

ENTRIES = 12


@pytest.fixture
def log(settings: Settings) -> Iterator[Services]:
    """A log of 12 entries over two hearings and the system, with signed
    checkpoints at sizes 1 (the first append), 6 and 11 (every 5 after)."""
    svc = Services.from_settings(settings.replace(audit_checkpoint_every=5), create_keys=True)
    Base.metadata.create_all(svc.engine)
    judge = Actor("user", 7, "judge")
    for n in range(ENTRIES):
        hearing = (None, 1, 2)[n % 3]
        svc.unit_of_work(
            lambda db, h=hearing, n=n: append(db, judge if h else SYSTEM, Action.HEARING_OPENED, hearing_id=h, n=n)
        )
    yield svc
    svc.close()


def run_verify(svc: Services, exported: tuple[str, ...] = ()) -> verify.Report:
    with svc.engine.connect() as connection:
        return verify.verify(connection, svc.settings.audit_origin, svc.audit.keys.public, exported)


def tamper(svc: Services, *statements: Any) -> None:
    with svc.engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def row(svc: Services, seq: int) -> dict[str, Any]:
    with svc.engine.connect() as connection:
        return dict(connection.execute(select(AuditEntry.__table__).where(AuditEntry.seq == seq)).mappings().one())


def flipped(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x01]) + value[1:]


def test_an_untouched_log_verifies(log: Services) -> None:
    report = run_verify(log)
    assert report.ok and report.size == ENTRIES and report.first_bad is None
    assert report.checkpoints == 3


@pytest.mark.parametrize("seq", [1, 6, ENTRIES])
def test_one_flipped_ciphertext_byte_is_reported_at_its_entry(log: Services, seq: int) -> None:
    tamper(log, update(AuditEntry).where(AuditEntry.seq == seq).values(ciphertext=flipped(row(log, seq)["ciphertext"])))
    report = run_verify(log)
    assert not report.ok
    assert report.first_bad == seq
    assert report.size == seq - 1  # everything before it still verifies


@pytest.mark.parametrize(
    ("column", "change"),
    [
        ("at", lambda r: r["at"].replace(microsecond=(r["at"].microsecond + 1) % 1_000_000)),
        ("hearing_id", lambda r: 99),
        ("actor_kind", lambda r: "device"),
        ("actor_id", lambda r: (r["actor_id"] or 0) + 1),
        ("actor_role", lambda r: "clerk"),
        ("action", lambda r: "hearing.closed"),
        ("nonce", lambda r: flipped(r["nonce"])),
        ("chain_hash", lambda r: flipped(r["chain_hash"])),
    ],
)
def test_any_changed_header_field_is_reported(log: Services, column: str, change: Any) -> None:
    seq = 8
    tamper(log, update(AuditEntry).where(AuditEntry.seq == seq).values({column: change(row(log, seq))}))
    report = run_verify(log)
    assert (report.ok, report.first_bad) == (False, seq)


def test_changed_key_id_is_reported(log: Services) -> None:
    # Point entry 7 (hearing 1) at hearing 2's key: same table, different header.
    other = row(log, 8)["key_id"]
    assert other != row(log, 7)["key_id"]
    tamper(log, update(AuditEntry).where(AuditEntry.seq == 7).values(key_id=other))
    assert run_verify(log).first_bad == 7


def test_a_deleted_entry_is_reported_at_its_position(log: Services) -> None:
    tamper(log, delete(AuditEntry).where(AuditEntry.seq == 4))
    report = run_verify(log)
    assert (report.ok, report.first_bad, report.size) == (False, 4, 3)
    assert "expected entry 4, found 5" in (report.problem or "")


def test_swapped_entries_are_reported_at_the_first(log: Services) -> None:
    a, b = row(log, 5), row(log, 6)
    fields = {k: v for k, v in a.items() if k != "seq"}
    tamper(
        log,
        update(AuditEntry).where(AuditEntry.seq == 5).values({k: v for k, v in b.items() if k != "seq"}),
        update(AuditEntry).where(AuditEntry.seq == 6).values(fields),
    )
    assert run_verify(log).first_bad == 5


def _shift_up_from(svc: Services, seq: int) -> list[Any]:
    # Renumber entries seq.. upwards by one, highest first (primary key).
    return [update(AuditEntry).where(AuditEntry.seq == s).values(seq=s + 1) for s in range(ENTRIES, seq - 1, -1)]


def test_an_inserted_entry_is_reported_at_its_position(log: Services) -> None:
    forged = dict(row(log, 3), seq=4, ciphertext=b"forged payload")
    tamper(log, *_shift_up_from(log, 4), insert(AuditEntry).values(forged))
    assert run_verify(log).first_bad == 4


def test_a_duplicated_entry_is_reported(log: Services) -> None:
    copy = dict(row(log, 6), seq=7)
    tamper(log, *_shift_up_from(log, 7), insert(AuditEntry).values(copy))
    assert run_verify(log).first_bad == 7
    # A copy appended at the end is caught as well.
    tamper(
        log,
        delete(AuditEntry).where(AuditEntry.seq == 7),
        *[update(AuditEntry).where(AuditEntry.seq == s + 1).values(seq=s) for s in range(7, ENTRIES + 1)],
    )
    assert run_verify(log).ok
    tamper(log, insert(AuditEntry).values(dict(row(log, 2), seq=ENTRIES + 1)))
    assert run_verify(log).first_bad == ENTRIES + 1


def test_truncation_needs_an_exported_checkpoint(log: Services) -> None:
    exported = log.unit_of_work(lambda db: checkpoint(db).note)
    # Cut the newest three entries and every stored checkpoint covering them.
    tamper(
        log,
        delete(AuditEntry).where(AuditEntry.seq > ENTRIES - 3),
        delete(AuditCheckpoint).where(AuditCheckpoint.size > ENTRIES - 3),
    )
    # Without the exported checkpoint the shorter log is self-consistent: this
    # is the documented limit, and the reason to export checkpoints.
    assert run_verify(log).ok
    report = run_verify(log, (exported,))
    assert not report.ok
    assert report.first_bad == ENTRIES - 2
    assert "truncated" in (report.problem or "")


def _rewrite_consistently(connection: Connection, from_seq: int) -> None:
    """What an attacker with write access and our code would do: change an
    entry and recompute every hash chain link after it."""
    rows = connection.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).mappings().all()
    chain = entry.GENESIS
    for r in rows:
        ciphertext = flipped(r["ciphertext"]) if r["seq"] == from_seq else r["ciphertext"]
        data = entry.leaf_data(
            r["seq"],
            r["at"],
            r["hearing_id"],
            r["actor_kind"],
            r["actor_id"],
            r["actor_role"],
            r["action"],
            r["key_id"],
            r["nonce"],
            ciphertext,
        )
        chain = entry.chain_next(chain, entry.leaf_hash(data))
        connection.execute(
            update(AuditEntry).where(AuditEntry.seq == r["seq"]).values(ciphertext=ciphertext, chain_hash=chain)
        )


def test_a_consistent_rewrite_is_caught_by_the_signed_checkpoints(log: Services) -> None:
    with log.engine.begin() as connection:
        _rewrite_consistently(connection, 3)
    report = run_verify(log)
    assert not report.ok
    assert "inconsistent with the signed checkpoint of size 6" in (report.problem or "")
    assert report.first_bad is None  # somewhere at or before entry 6: the chain was rebuilt


def test_a_rewrite_with_checkpoints_deleted_is_caught_by_an_exported_one(log: Services) -> None:
    exported = log.unit_of_work(lambda db: checkpoint(db).note)
    with log.engine.begin() as connection:
        _rewrite_consistently(connection, 11)
        connection.execute(delete(AuditCheckpoint))
    assert run_verify(log).ok  # nothing inside the database can tell
    report = run_verify(log, (exported,))
    assert not report.ok and "inconsistent" in (report.problem or "")


def test_a_forged_stored_checkpoint_is_refused(log: Services) -> None:
    with log.engine.connect() as connection:
        note = connection.execute(select(AuditCheckpoint.note).where(AuditCheckpoint.size == 6)).scalar_one()
    forged = note.replace("\n6\n", "\n5\n", 1)
    tamper(log, update(AuditCheckpoint).where(AuditCheckpoint.size == 6).values(note=forged))
    report = run_verify(log)
    assert not report.ok and "size 6" in (report.problem or "")


def test_a_checkpoint_from_another_key_is_refused(log: Services) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with log.engine.connect() as connection:
        root = connection.execute(select(AuditCheckpoint.root_hash).where(AuditCheckpoint.size == 6)).scalar_one()
    stranger = sign(Checkpoint(log.settings.audit_origin, 6, root, row(log, 6)["at"]), Ed25519PrivateKey.generate())
    report = run_verify(log, (stranger,))
    assert not report.ok and "exported checkpoint 1" in (report.problem or "")


def test_verification_reads_only_public_material(log: Services) -> None:
    # Destroying every data key changes nothing for the verifier.
    tamper(log, text("UPDATE audit_key SET wrapped = NULL"))
    assert run_verify(log).ok


# --- malformed rows: what someone with the database's own tools can write ------
# (defect 15 of issue 10: these crashed the verifier with a traceback)


def loosen(connection: Connection) -> None:
    """Let the entry and checkpoint tables hold anything their database can:
    no primary keys, no NOT NULL, text instead of short strings, 64-bit
    integers. On SQLite, a copy made with CREATE TABLE AS keeps none of the
    constraints; on PostgreSQL, ALTER TABLE takes them off."""
    if connection.dialect.name == "sqlite":
        for table in ("audit_entry", "audit_checkpoint"):
            connection.execute(text(f"CREATE TABLE loose AS SELECT * FROM {table}"))  # noqa: S608 (our names)
            connection.execute(text(f"DROP TABLE {table}"))
            connection.execute(text(f"ALTER TABLE loose RENAME TO {table}"))
        return
    connection.execute(text("ALTER TABLE audit_entry DROP CONSTRAINT pk_audit_entry"))
    connection.execute(text("ALTER TABLE audit_entry DROP CONSTRAINT fk_audit_entry_key_id_audit_key"))
    connection.execute(text("ALTER TABLE audit_checkpoint DROP CONSTRAINT pk_audit_checkpoint"))
    for table, columns in (
        ("audit_entry", ("seq", "at", "hearing_id", "actor_kind", "actor_id", "actor_role", "action", "key_id",
                         "nonce", "ciphertext", "chain_hash")),
        ("audit_checkpoint", ("size", "root_hash", "at", "note")),
    ):  # fmt: skip
        for column in columns:
            connection.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL"))
    for column in ("actor_kind", "actor_role", "action"):
        connection.execute(text(f"ALTER TABLE audit_entry ALTER COLUMN {column} TYPE text"))
    for column in ("hearing_id", "actor_id", "key_id"):
        connection.execute(text(f"ALTER TABLE audit_entry ALTER COLUMN {column} TYPE bigint"))


def malform(svc: Services, *statements: str) -> verify.Report:
    """Run raw SQL on a loosened copy of the log, verify, and put it back."""
    with svc.engine.connect() as connection:
        transaction = connection.begin()
        try:
            loosen(connection)
            for statement in statements:
                connection.execute(text(statement))
            return verify.verify(connection, svc.settings.audit_origin, svc.audit.keys.public)
        finally:
            transaction.rollback()


def text_column(dialect: str, column: str) -> str:
    """Rewrite a whole bytes column as text, each database in its own way."""
    if dialect == "sqlite":
        # Random bytes as TEXT: mostly not even UTF-8.
        return f"UPDATE audit_entry SET {column} = CAST({column} AS TEXT)"  # noqa: S608 (our names)
    return f"ALTER TABLE audit_entry ALTER COLUMN {column} TYPE text USING encode({column}, 'escape')"


@pytest.mark.parametrize("column", ["ciphertext", "nonce", "chain_hash"])
def test_a_bytes_column_rewritten_as_text_is_reported_not_a_crash(log: Services, column: str) -> None:
    report = malform(log, text_column(log.engine.dialect.name, column))
    assert (report.ok, report.first_bad, report.size) == (False, 1, 0)
    assert "entry 1" in (report.problem or "") and column in (report.problem or "")


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [
        ("UPDATE audit_entry SET ciphertext = 'x' WHERE seq = 5", 5),
        ("UPDATE audit_entry SET ciphertext = '' WHERE seq = 5", 5),
        ("UPDATE audit_entry SET nonce = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entry SET ciphertext = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entry SET chain_hash = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entry SET at = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entry SET actor_kind = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entry SET action = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entry SET key_id = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entry SET seq = NULL WHERE seq = 5", 5),
        ("UPDATE audit_entry SET seq = -5 WHERE seq = 5", 1),
        ("UPDATE audit_entry SET key_id = 4294967296 WHERE seq = 5", 5),
        ("UPDATE audit_entry SET key_id = -1 WHERE seq = 5", 5),
        ("UPDATE audit_entry SET hearing_id = -1 WHERE seq = 4", 4),  # -1 would say "no hearing"
        ("UPDATE audit_entry SET actor_id = -7 WHERE seq = 5", 5),
        ("UPDATE audit_entry SET actor_kind = 'user' || repeat('x', 70000) WHERE seq = 5", 5),
        ("UPDATE audit_entry SET nonce = repeat('n', 300) WHERE seq = 5", 5),
        ("UPDATE audit_entry SET chain_hash = 'short' WHERE seq = 5", 5),
    ],
)
def test_malformed_rows_are_bad_entries(log: Services, statement: str, first_bad: int) -> None:
    if log.engine.dialect.name == "sqlite":
        # SQLite spells repeat() as a zeroblob's hex, and has no bytea.
        statement = statement.replace("repeat('x', 70000)", "replace(hex(zeroblob(35000)), '00', 'xx')")
        statement = statement.replace("repeat('n', 300)", "zeroblob(300)")
    else:
        statement = statement.replace(
            "SET nonce = repeat('n', 300)", "SET nonce = convert_to(repeat('n', 300), 'UTF8')"
        )
    report = malform(log, statement)
    assert not report.ok and report.problem
    assert report.first_bad is not None and report.first_bad <= first_bad, report
    assert report.size == report.first_bad - 1


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET at = 'yesterday' WHERE seq = 5",
        "UPDATE audit_entry SET at = 1764590000 WHERE seq = 5",
        "UPDATE audit_entry SET at = at || 'Z' WHERE seq = 5",
        "UPDATE audit_entry SET actor_kind = CAST(X'FF' AS TEXT) WHERE seq = 5",
        "UPDATE audit_entry SET actor_role = X'6A75646765' WHERE seq = 5",  # 'judge', but as bytes
        "UPDATE audit_entry SET ciphertext = CAST(ciphertext AS TEXT) WHERE seq = 5",
        "UPDATE audit_entry SET actor_id = 7.5 WHERE seq = 5",
        "UPDATE audit_entry SET hearing_id = '1x' WHERE seq = 5",
    ],
)
def test_values_of_the_wrong_type_are_bad_entries_on_sqlite(log: Services, statement: str) -> None:
    # SQLite keeps whatever type it is given, so these fit in the real tables too.
    with log.engine.begin() as connection:
        connection.execute(text(statement))
    report = run_verify(log)
    assert (report.ok, report.first_bad) == (False, 5), report


def test_a_time_in_another_form_is_a_bad_entry(log: Services) -> None:
    # The same instants, written another way: without a zone on PostgreSQL,
    # with one spelled out on SQLite (which keeps times as text).
    if log.engine.dialect.name == "postgresql":
        report = malform(log, "ALTER TABLE audit_entry ALTER COLUMN at TYPE timestamp without time zone")
    else:
        report = malform(log, "UPDATE audit_entry SET at = at || '+00:00'")
    assert (report.ok, report.first_bad) == (False, 1)


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE audit_checkpoint SET note = substr(note, 1, length(note) - 10) WHERE size = 6", "size 6"),
        ("UPDATE audit_checkpoint SET note = substr(note, 1, length(note) - 3) || '\n' WHERE size = 6", "size 6"),
        ("UPDATE audit_checkpoint SET note = substr(note, 1, 20) WHERE size = 6", "size 6"),
        ("UPDATE audit_checkpoint SET note = NULL WHERE size = 6", "size 6"),
        ("UPDATE audit_checkpoint SET note = '' WHERE size = 6", "size 6"),
        ("UPDATE audit_checkpoint SET size = NULL WHERE size = 6", "checkpoint"),
        ("UPDATE audit_checkpoint SET size = -6 WHERE size = 6", "size -6"),
    ],
)
def test_malformed_checkpoints_are_reported(log: Services, statement: str, named: str) -> None:
    report = malform(log, statement)
    assert not report.ok and named in (report.problem or ""), report


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_checkpoint SET note = CAST(note AS BLOB) WHERE size = 6",
        "UPDATE audit_checkpoint SET note = CAST(X'FFFE' AS TEXT) WHERE size = 6",
        "UPDATE audit_checkpoint SET size = 'six' WHERE size = 6",
    ],
)
def test_checkpoints_of_the_wrong_type_are_reported_on_sqlite(log: Services, statement: str) -> None:
    with log.engine.begin() as connection:
        connection.execute(text(statement))
    report = run_verify(log)
    assert not report.ok and "checkpoint" in (report.problem or ""), report


# --- any mutation of any row: the verifier always answers ----------------------

ENTRY_COLUMNS = ("seq", "at", "hearing_id", "actor_kind", "actor_id", "actor_role", "action", "key_id", "nonce",
                 "ciphertext", "chain_hash")  # fmt: skip
# The checkpoint table's root_hash and at only repeat what the signed note
# says; the verifier reads the note.
CHECKPOINT_COLUMNS = ("size", "note")
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=60)
BIGINT = st.integers(-(2**63), 2**63 - 1)


def any_value(dialect: str, column: str, originals: list[Any]) -> st.SearchStrategy[Any]:
    """SQLite keeps a value of any type in any column; PostgreSQL (loosened)
    takes NULL or a value of the column's type."""
    others = st.sampled_from(originals)  # another row's value: a plausible forgery
    if dialect == "sqlite":
        return st.one_of(
            st.none(), BIGINT, st.floats(allow_nan=False), TEXT, st.binary(max_size=80),
            st.binary(min_size=12, max_size=12), st.binary(min_size=32, max_size=32), others,
        )  # fmt: skip
    if column in ("seq", "hearing_id", "actor_id", "key_id", "size"):
        typed: st.SearchStrategy[Any] = BIGINT
    elif column == "at":
        typed = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC))
    elif column in ("nonce", "ciphertext", "chain_hash"):
        typed = st.binary(max_size=80)
    else:
        typed = TEXT
    return st.one_of(st.none(), typed, others)


def snapshot(connection: Connection, table: str, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every stored value with its type, as the database itself spells it."""
    spell = "typeof({0}) || ':' || quote({0})" if connection.dialect.name == "sqlite" else "quote_nullable({0})"
    listed = ", ".join(spell.format(c) for c in columns)
    return sorted(tuple(r) for r in connection.execute(text(f"SELECT {listed} FROM {table}")))  # noqa: S608


@st.composite
def mutations(draw: st.DrawFn, dialect: str, originals: dict[str, list[Any]]) -> tuple[str, str, int, Any]:
    table = draw(st.sampled_from(["audit_entry", "audit_entry", "audit_entry", "audit_checkpoint"]))
    if table == "audit_entry":
        column = draw(st.sampled_from(ENTRY_COLUMNS))
        row = draw(st.integers(1, ENTRIES))
    else:
        column = draw(st.sampled_from(CHECKPOINT_COLUMNS))
        row = draw(st.sampled_from([1, 6, 11]))
    return table, column, row, draw(any_value(dialect, column, originals[column]))


def test_the_verifier_always_returns_a_report(log: Services) -> None:
    dialect = log.engine.dialect.name
    with log.engine.connect() as connection:
        originals = {
            column: [r[0] for r in connection.exec_driver_sql(f"SELECT {column} FROM {table}")]  # noqa: S608
            for table, columns in (("audit_entry", ENTRY_COLUMNS), ("audit_checkpoint", CHECKPOINT_COLUMNS))
            for column in columns
        }

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutations(dialect, originals))
    def mutated(mutation: tuple[str, str, int, Any]) -> None:
        table, column, row, value = mutation
        key = "seq" if table == "audit_entry" else "size"
        columns = ENTRY_COLUMNS if table == "audit_entry" else CHECKPOINT_COLUMNS
        with log.engine.connect() as connection:
            transaction = connection.begin()
            try:
                loosen(connection)
                before = snapshot(connection, table, columns)
                update = text(f"UPDATE {table} SET {column} = :value WHERE {key} = :row")  # noqa: S608
                connection.execute(update, {"value": value, "row": row})
                changed = snapshot(connection, table, columns) != before
                report = verify.verify(connection, log.settings.audit_origin, log.audit.keys.public)
            finally:
                transaction.rollback()
        assert isinstance(report, verify.Report)
        assert report.ok is not changed, (mutation, report)
        if changed and table == "audit_entry":
            assert report.first_bad is not None and report.first_bad <= row, (mutation, report)

    mutated()
