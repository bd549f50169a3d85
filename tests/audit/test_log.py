"""Writing the log: encryption, binding, ordering under concurrency, policy."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hearing.actors import SYSTEM, Actor
from hearing.audit import keys, reader, retention
from hearing.audit import log as audit_log
from hearing.audit.actions import Action
from hearing.audit.log import AuditKeyShredded, append
from hearing.audit.verify import verify
from hearing.config import Settings
from hearing.db.models import AuditCheckpoint, AuditEntry, AuditHead, AuditKey, Base, Hearing, StaffUser
from hearing.docket import proceedings
from hearing.docket.lifecycle import HearingState, Transition
from hearing.errors import ConfigurationError, Conflict
from hearing.services import Services
from tests.conftest import Court_, logged, need, postgres_url, reset_postgres

JUDGE = Actor("user", 1, "judge")


def verified(svc: Services) -> int:
    with svc.engine.connect() as connection:
        report = verify(connection, svc.settings.audit_origin, svc.audit.keys.public)
    assert report.ok, report.problem
    return report.size


def entries(svc: Services) -> list[AuditEntry]:
    return svc.unit_of_work(lambda db: list(db.scalars(select(AuditEntry).order_by(AuditEntry.seq))))


def test_payloads_are_encrypted_and_read_back(services: Services, court: Court_) -> None:
    services.unit_of_work(
        lambda db: append(db, JUDGE, Action.HEARING_OPENED, hearing_id=court.hearing_a, secret_word="Ærø-4711")
    )
    (stored,) = entries(services)
    assert b"4711" not in stored.ciphertext and "Ærø".encode() not in stored.ciphertext
    assert logged(services)[0].payload == {"secret_word": "Ærø-4711"}


def test_each_hearing_has_its_own_data_key(services: Services, court: Court_) -> None:
    services.unit_of_work(lambda db: append(db, JUDGE, Action.HEARING_OPENED, hearing_id=court.hearing_a))
    services.unit_of_work(lambda db: append(db, JUDGE, Action.HEARING_OPENED, hearing_id=court.hearing_b))
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED, site="court", name="x"))
    scopes = services.unit_of_work(lambda db: sorted(db.scalars(select(AuditKey.scope))))
    assert scopes == sorted([f"hearing:{court.hearing_a}", f"hearing:{court.hearing_b}", "system"])
    assert len({e.key_id for e in entries(services)}) == 3


@pytest.mark.parametrize("same_hearing", [False, True])
def test_a_payload_moved_to_another_entry_does_not_decrypt(
    services: Services, court: Court_, same_hearing: bool
) -> None:
    target = court.hearing_a if same_hearing else court.hearing_b
    services.unit_of_work(lambda db: append(db, JUDGE, Action.HEARING_OPENED, hearing_id=court.hearing_a, x=1))
    services.unit_of_work(lambda db: append(db, JUDGE, Action.HEARING_OPENED, hearing_id=target, x=2))
    first, second = entries(services)

    def move(db: Session) -> None:
        db.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == second.seq)
            .values(
                nonce=first.nonce, ciphertext=first.ciphertext, key_id=first.key_id if same_hearing else second.key_id
            )
        )

    services.unit_of_work(move)
    moved = logged(services)[1]
    assert moved.payload is None


def test_a_rolled_back_change_leaves_no_entry_and_no_gap(services: Services, court: Court_) -> None:
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED, n=1))

    def fail(db: Session) -> None:
        append(db, SYSTEM, Action.SITE_ADDED, n=2)
        raise RuntimeError("the change failed after its entry")

    with pytest.raises(RuntimeError):
        services.unit_of_work(fail)
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED, n=3))
    assert [e.seq for e in entries(services)] == [1, 2]
    assert [e.payload for e in logged(services)] == [{"n": 1}, {"n": 3}]
    assert verified(services) == 2


def test_batched_appends_keep_order(services: Services, court: Court_) -> None:
    events = [audit_log.Event(JUDGE, Action.HEARING_PAUSED, court.hearing_a, {"i": i}) for i in range(50)]
    seqs = services.unit_of_work(lambda db: audit_log.append_many(db, events))
    assert seqs == list(range(1, 51))
    assert [e.payload for e in logged(services)] == [{"i": i} for i in range(50)]
    assert verified(services) == 50


def test_concurrent_writers_get_gap_free_numbers_and_one_chain(services: Services, court: Court_) -> None:
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for i in range(20):
                hearing = court.hearing_a if i % 2 else court.hearing_b
                services.unit_of_work(
                    lambda db, h=hearing, i=i: append(
                        db, JUDGE, Action.HEARING_PAUSED, hearing_id=h, worker=worker, i=i
                    )
                )
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [e.seq for e in entries(services)] == list(range(1, 81))
    assert verified(services) == 80
    per_worker = sorted((p.payload or {}).get("worker", -1) for p in logged(services))
    assert per_worker == sorted(list(range(4)) * 20)


WRITER = """
import sys
from hearing.audit.actions import Action
from hearing.actors import Actor
from hearing.audit.log import append
from hearing.config import load_settings
from hearing.services import Services

svc = Services.from_settings(load_settings())
for i in range(int(sys.argv[1])):
    svc.unit_of_work(lambda db: append(db, Actor("system"), Action.SITE_ADDED, process=sys.argv[2], i=i))
svc.close()
"""


def test_concurrent_processes_share_one_log(tmp_path: Path) -> None:
    # Several processes on one database is the PostgreSQL deployment.
    url = postgres_url()
    need(url is not None, "HEARING_TEST_DATABASE_URL is not set (no PostgreSQL to test against)")
    assert url is not None
    reset_postgres(url)
    settings = Settings(data_dir=tmp_path, database_url=url)
    services = Services.from_settings(settings, create_keys=True)
    Base.metadata.create_all(services.engine)
    env = {
        "PATH": "/usr/bin:/bin",
        "HEARING_DATA_DIR": str(settings.data_dir),
        "HEARING_DATABASE_URL": settings.database_url,
    }
    repo = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, "30", str(n)], env=env, cwd=repo) for n in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert [e.seq for e in entries(services)] == list(range(1, 91))
    assert verified(services) == 90
    services.close()


def test_checkpoints_every_n_entries(settings: Settings) -> None:
    svc = Services.from_settings(settings.replace(audit_checkpoint_every=4), create_keys=True)
    Base.metadata.create_all(svc.engine)
    for i in range(10):
        svc.unit_of_work(lambda db, i=i: append(db, SYSTEM, Action.SITE_ADDED, i=i))
    sizes = svc.unit_of_work(lambda db: list(db.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.size))))
    svc.close()
    assert sizes == [1, 5, 9]


def test_checkpoints_after_t_seconds(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED, i=0))
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED, i=1))
    later = audit_log.utcnow() + timedelta(seconds=services.settings.audit_checkpoint_seconds + 1)
    monkeypatch.setattr(audit_log, "utcnow", lambda: later)
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED, i=2))
    sizes = services.unit_of_work(lambda db: list(db.scalars(select(AuditCheckpoint.size))))
    assert sorted(sizes) == [1, 3]


def test_head_row_tracks_the_log(services: Services) -> None:
    for i in range(3):
        services.unit_of_work(lambda db, i=i: append(db, SYSTEM, Action.SITE_ADDED, i=i))
    head = services.unit_of_work(lambda db: db.get_one(AuditHead, 1))
    assert head.size == 3
    assert head.chain_hash == entries(services)[-1].chain_hash


def test_a_session_without_the_log_cannot_append(services: Services) -> None:
    with Session(services.engine) as db, pytest.raises(ConfigurationError):
        append(db, SYSTEM, Action.SITE_ADDED)


def test_shredding_makes_payloads_unreadable_and_the_log_still_verifies(services: Services, court: Court_) -> None:
    services.unit_of_work(lambda db: append(db, JUDGE, Action.HEARING_OPENED, hearing_id=court.hearing_a, x=1))
    services.unit_of_work(lambda db: append(db, JUDGE, Action.HEARING_OPENED, hearing_id=court.hearing_b, x=2))
    with pytest.raises(Conflict, match="after the hearing has ended"):
        services.unit_of_work(lambda db: retention.shred(db, SYSTEM, court.hearing_a))
    services.unit_of_work(lambda db: db.get_one(Hearing, court.hearing_a).__setattr__("state", HearingState.CLOSED))
    services.unit_of_work(lambda db: retention.shred(db, SYSTEM, court.hearing_a))
    by_hearing = {(e.hearing_id, e.action): e.payload for e in logged(services)}
    assert by_hearing[(court.hearing_a, "hearing.opened")] is None
    assert by_hearing[(court.hearing_b, "hearing.opened")] == {"x": 2}
    assert by_hearing[(None, "audit.key_shredded")] == {"hearing": court.hearing_a}
    assert verified(services) == 3
    with pytest.raises(AuditKeyShredded):
        services.unit_of_work(lambda db: append(db, JUDGE, Action.HEARING_CLOSED, hearing_id=court.hearing_a))
    with pytest.raises(Conflict, match="already destroyed"):
        services.unit_of_work(lambda db: retention.shred(db, SYSTEM, court.hearing_a))
    # Reading a shredded hearing says so, and is recorded as a system event.
    read = services.unit_of_work(lambda db: reader.read(db, SYSTEM, court.hearing_a))
    assert read[0].payload is None and read[0].note == reader.SHREDDED
    assert logged(services)[-1].action == "audit.read" and logged(services)[-1].hearing_id is None


def test_rotating_the_kek_rewraps_every_key_and_leaves_entries_alone(services: Services, court: Court_) -> None:
    services.unit_of_work(lambda db: append(db, JUDGE, Action.HEARING_OPENED, hearing_id=court.hearing_a, x=1))
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED, x=2))
    before = [(e.seq, e.ciphertext, e.chain_hash) for e in entries(services)]
    old_kek = services.audit.keys.kek
    new_kek = services.audit.keys.stage_new_kek()
    services.unit_of_work(lambda db: retention.rewrap_all(db, SYSTEM, new_kek))
    services.audit.keys.commit_new_kek()
    services.audit.forget_keys()
    assert services.audit.keys.kek == new_kek
    assert (Path(services.settings.key_dir) / keys.KEK_FILE).read_bytes() == new_kek
    assert not (Path(services.settings.key_dir) / keys.KEK_PENDING_FILE).exists()
    after = entries(services)
    assert [(e.seq, e.ciphertext, e.chain_hash) for e in after[: len(before)]] == before
    assert [e.payload for e in logged(services)][:2] == [{"x": 1}, {"x": 2}]
    for wrapped in services.unit_of_work(lambda db: list(db.scalars(select(AuditKey.wrapped)))):
        with pytest.raises(InvalidUnwrap):
            aes_key_unwrap(old_kek, wrapped)
    assert verified(services) == 3


def test_a_wrong_kek_is_refused_clearly(services: Services, court: Court_) -> None:
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED))
    services.audit.keys.kek = bytes(32)
    services.audit.keys.kek_fingerprint = keys.fingerprint(bytes(32))
    services.audit.forget_keys()
    with pytest.raises(ConfigurationError, match="another key-encryption key"):
        services.unit_of_work(lambda db: append(db, SYSTEM, Action.SITE_ADDED))


def test_closing_a_hearing_signs_a_checkpoint(services: Services, court: Court_) -> None:
    def run(transition: Transition) -> None:
        def work(db: Session) -> None:
            judge = db.get_one(StaffUser, court.users["judge"])
            proceedings.transition(db, judge, JUDGE, court.hearing_a, transition, audit_log.utcnow())

        services.unit_of_work(work)

    for transition in (Transition.OPEN, Transition.START, Transition.CLOSE):
        run(transition)
    head_size = services.unit_of_work(lambda db: db.get_one(AuditHead, 1).size)
    sizes = services.unit_of_work(lambda db: list(db.scalars(select(AuditCheckpoint.size))))
    assert head_size in sizes
