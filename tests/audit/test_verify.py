"""The verifier finds every kind of tampering, at the first entry affected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
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
