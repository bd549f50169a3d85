"""Audit-log benchmark: durable appends, verification and proofs, next to a ceiling.

Measures, in one run and side by side on each backend (SQLite always,
PostgreSQL with --postgres URL):

1. single appends: one `append` per transaction, entries/s and per-transaction
   latency (commit included);
2. batched appends: `append_many` of --batch-size entries per transaction;
3. the ceiling: plain inserts of a row of the same shape and byte sizes into a
   table of the same schema, with no hashing or encryption, through the same
   SQLAlchemy engine and session path, and through the raw driver for
   reference; the log's rate is reported as a ratio of it;
4. `verify()` over a log of --verify-entries entries;
5. inclusion and consistency proof sizes and generation times.

Timed runs are repeated (--repeats) and interleaved (log, ceiling and raw
take turns, in rotating order), and medians are reported. The script prints
figures and compares them with the targets; it asserts nothing.

PostgreSQL: the script creates its own database (hearing_audit_bench_<pid>)
on the given server and drops it at the end; the database named in the URL
is only used to connect and is left alone. With --postgres-in-place it
measures in the URL's own database instead (a throwaway one: its public
schema is emptied before and after). A default run with PostgreSQL takes
under a minute here; `--quick` runs tiny sizes in a few seconds: it shows
the bench still works, not what the figures are.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import io
import itertools
import json
import math
import os
import platform
import pstats
import random
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import cryptography
import psycopg
import quick  # bench/quick.py
import sqlalchemy
from machine_facts import cpu_model, load_average  # bench/machine_facts.py
from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, create_engine, func, insert, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hearing.actors import SYSTEM, Actor
from hearing.audit import entry, merkle
from hearing.audit.actions import Action
from hearing.audit.log import Event, append, append_many
from hearing.audit.verify import verify
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.config import Settings
from hearing.db.models import AuditEntry, AuditKey, Base
from hearing.db.types import UTCDateTime
from hearing.services import Services

TARGET_SINGLE_RATE = 2_000.0
TARGET_SINGLE_P99_MS = 5.0
TARGET_BATCH_RATE = 20_000.0
TARGET_BATCH_CEILING_SHARE = 0.5
TARGET_VERIFY_RATE = 100_000.0

PATHS = ("log", "sa", "raw")
PATH_LABELS = {"log": "audit log", "sa": "ceiling (SQLAlchemy)", "raw": "ceiling (raw driver)"}
COLUMNS = tuple(Base.metadata.tables["audit_entry"].columns.keys())
TRANSITIONS = (
    (Action.HEARING_OPENED, "scheduled", "open"),
    (Action.HEARING_STARTED, "open", "in_session"),
    (Action.HEARING_PAUSED, "in_session", "paused"),
    (Action.HEARING_RESUMED, "paused", "in_session"),
    (Action.CONSULTATION_STARTED, "in_session", "consultation"),
    (Action.CONSULTATION_ENDED, "consultation", "in_session"),
    (Action.HEARING_ADJOURNED, "in_session", "adjourned"),
)
STAFF_ROLES = (Role.JUDGE.value, Role.CLERK.value, Role.CUSTODY_OFFICER.value)
QUICK = {
    "repeats": 1,
    "single_txns": 20,
    "batch_txns": 4,
    "batch_size": 10,
    "verify_entries": 500,
    "build_batch": 100,
    "warmup": 2,
    "proof_repeats": 1,
    "profile_txns": 20,
}


class CeilingBase(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class CeilingEntry(CeilingBase):
    """The same columns, types, index and foreign key as audit_entry (a copy
    by hand: constraint names must differ, and this is the comparison)."""

    __tablename__ = "bench_ceiling_entry"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    hearing_id: Mapped[int | None] = mapped_column(index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[int] = mapped_column(ForeignKey(AuditKey.id))
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


CEILING_TABLE = CeilingBase.metadata.tables[CeilingEntry.__tablename__]


# ---------------------------------------------------------------- arguments


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server to also measure (own database created)")
    parser.add_argument(
        "--postgres-in-place",
        action="store_true",
        help="measure in the URL's own database instead of creating one: its public schema is dropped and made "
        "again, before and after (a throwaway database, such as the tests')",
    )
    parser.add_argument("--sqlite-dir", type=Path, help="where the SQLite temp dir goes (default: system temp)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions per measurement (median reported)")
    parser.add_argument("--single-txns", type=int, default=200, help="single-append transactions per repeat")
    parser.add_argument("--batch-txns", type=int, default=40, help="batched transactions per repeat")
    parser.add_argument("--batch-size", type=int, default=50, help="entries per batched transaction")
    parser.add_argument("--verify-entries", type=int, default=100_000, help="size of the log to verify")
    parser.add_argument("--build-batch", type=int, default=1000, help="entries per transaction building that log")
    parser.add_argument("--hearings", type=int, default=20, help="distinct hearings in the workload")
    parser.add_argument("--system-share", type=float, default=0.1, help="share of system (hearing-less) entries")
    parser.add_argument("--proof-repeats", type=int, default=3, help="repetitions per proof timing")
    parser.add_argument("--warmup", type=int, default=50, help="untimed transactions per path before timing")
    parser.add_argument("--seed", type=int, default=1, help="workload seed")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile single and batched appends and verify(), print the top"
    )
    parser.add_argument("--profile-txns", type=int, default=500, help="single appends under the profiler")
    quick.add_option(parser, QUICK)
    args = quick.parse(parser, argv, QUICK)
    if args.postgres_in_place and not args.postgres:
        parser.error("--postgres-in-place needs --postgres URL")
    for name in ("repeats", "single_txns", "batch_txns", "batch_size", "build_batch", "hearings", "proof_repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


# ---------------------------------------------------------------- machine facts


def filesystem_of(path: Path) -> str:
    best, kind = "", "unknown"
    real = str(path.resolve())
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and (real == parts[1] or real.startswith(parts[1].rstrip("/") + "/")):
                if len(parts[1]) > len(best):
                    best, kind = parts[1], f"{parts[2]} ({parts[0]} on {parts[1]})"
    return kind


def print_header(args: argparse.Namespace) -> None:
    print("# audit log benchmark")
    print(f"command:    {shlex.join([sys.executable, *sys.argv])}")
    print(f"started:    {utcnow().isoformat(timespec='seconds')}")
    print(f"cpu:        {cpu_model()}")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores:      {os.cpu_count()} (usable by this process: {affinity})")
    print(f"load avg:   {load_average()} (1/5/15 min, at start)")
    if args.quick:
        print(quick.NOTE)
    print(f"kernel:     {platform.system()} {platform.release()}")
    print(f"python:     {platform.python_implementation()} {platform.python_version()}")
    print(
        f"libraries:  SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__},"
        f" psycopg {psycopg.__version__}, cryptography {cryptography.__version__}"
    )
    print(
        f"workload:   repeats={args.repeats} single={args.single_txns} txns/repeat"
        f" batch={args.batch_txns}x{args.batch_size} entries/repeat verify={args.verify_entries} entries,"
        f" {args.hearings} hearings, {args.system_share:.0%} system entries"
    )


# ---------------------------------------------------------------- workload


def make_events(count: int, hearings: int, system_share: float, seed: int) -> list[Event]:
    rng = random.Random(seed)  # noqa: S311 (a workload, not a secret)
    events = []
    for _ in range(count):
        request_id = f"{rng.getrandbits(128):032x}"
        user = rng.randrange(1, 500)
        if rng.random() < system_share:
            address = f"10.20.{rng.randrange(256)}.{rng.randrange(256)}"
            if rng.random() < 0.5:
                payload = {"username": f"user{user}", "ip": address, "reason": "bad_totp", "request_id": request_id}
                events.append(Event(SYSTEM, Action.USER_SIGN_IN_FAILED, None, payload))
            else:
                payload = {"ip": address, "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "request_id": request_id}
                events.append(Event(Actor("user", user, Role.CLERK.value), Action.USER_SIGNED_IN, None, payload))
            continue
        action, before, after = rng.choice(TRANSITIONS)
        payload = {
            "from_state": before,
            "to_state": after,
            "courtroom": f"Courtroom {rng.randrange(1, 12)}",
            "request_id": request_id,
        }
        actor = Actor("user", user, rng.choice(STAFF_ROLES))
        events.append(Event(actor, action, rng.randrange(1, hearings + 1), payload))
    return events


def one_per_scope(events: Sequence[Event]) -> list[Event]:
    seen: dict[int | None, Event] = {}
    for event in events:
        seen.setdefault(event.hearing_id, event)
    return list(seen.values())


def ciphertext_size(event: Event) -> int:
    # What log.append_many encrypts: compact sorted JSON, plus the 16-byte GCM tag.
    return len(json.dumps(event.payload, separators=(",", ":"), sort_keys=True, default=str).encode()) + 16


def ceiling_templates(events: Sequence[Event], key_ids: dict[int | None, int], at: datetime) -> list[dict[str, Any]]:
    """Rows shaped like the log's (same byte sizes), made before timing: no crypto in the loop."""
    return [
        {
            "at": at,
            "hearing_id": event.hearing_id,
            "actor_kind": event.actor.kind,
            "actor_id": event.actor.id,
            "actor_role": event.actor.role,
            "action": event.action.value,
            "key_id": key_ids[event.hearing_id],
            "nonce": os.urandom(12),
            "ciphertext": os.urandom(ciphertext_size(event)),
            "chain_hash": os.urandom(32),
        }
        for event in events
    ]


# ---------------------------------------------------------------- raw drivers


class RawInserter(Protocol):
    def single(self, row: tuple[Any, ...]) -> None: ...
    def batch(self, rows: list[tuple[Any, ...]]) -> None: ...
    def close(self) -> None: ...


def raw_tuple(template: dict[str, Any], seq: int, sqlite: bool) -> tuple[Any, ...]:
    at: datetime = template["at"]
    stored_at: Any = at.replace(tzinfo=None).isoformat(sep=" ") if sqlite else at
    return (seq, stored_at, *(template[c] for c in COLUMNS[2:]))


class RawSqlite:
    """sqlite3 with what the engine sets up: WAL, synchronous=FULL, BEGIN IMMEDIATE."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
            self.conn.execute(f"PRAGMA {pragma}")
        marks = ", ".join("?" for _ in COLUMNS)
        self.sql = f"INSERT INTO {CeilingEntry.__tablename__} ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608

    def single(self, row: tuple[Any, ...]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(self.sql, row)
        self.conn.execute("COMMIT")

    def batch(self, rows: list[tuple[Any, ...]]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(self.sql, rows)
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class RawPostgres:
    """psycopg 3, one connection, explicit commits (server settings as configured)."""

    def __init__(self, conninfo: str) -> None:
        self.conn = psycopg.connect(conninfo)
        marks = ", ".join("%s" for _ in COLUMNS)
        self.sql = f"INSERT INTO {CeilingEntry.__tablename__} ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608

    def single(self, row: tuple[Any, ...]) -> None:
        with self.conn.cursor() as cur:
            cur.execute(self.sql, row)
        self.conn.commit()

    def batch(self, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self.sql, rows)
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- backends


@dataclasses.dataclass
class Backend:
    name: str
    settings: Settings
    svc: Services
    raw_factory: Callable[[], RawInserter]
    is_sqlite: bool
    facts: list[str] = dataclasses.field(default_factory=list)
    raw: RawInserter | None = None

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()
            self.raw = None
        self.svc.close()


def make_services(data_dir: Path, url: str) -> Services:
    svc = Services.from_settings(Settings(data_dir=data_dir, database_url=url), create_keys=True)
    Base.metadata.create_all(svc.engine)
    CeilingBase.metadata.create_all(svc.engine)
    return svc


def setup_sqlite(tmp: Path) -> Backend:
    path = tmp / "hearing.db"
    svc = make_services(tmp, f"sqlite:///{path}")
    with svc.engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        conn.rollback()
    facts = [
        f"file {path}",
        f"filesystem {filesystem_of(tmp)}",
        f"journal_mode={mode} synchronous={sync} (2 = FULL), BEGIN IMMEDIATE",
    ]
    return Backend("sqlite", svc.settings, svc, lambda: RawSqlite(path), True, facts)


def _driverless(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_pg_database(server: str, name: str) -> Callable[[], None]:
    """CREATE DATABASE name; returns the function that drops it again."""
    admin_url = make_url(server).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}"))
        conn.execute(text(f"CREATE DATABASE {quoted}"))

    def drop() -> None:
        try:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        finally:
            admin.dispose()

    return drop


def reset_pg_schema(url: str) -> Callable[[], None]:
    """An empty public schema in the database of `url`; returns the function
    that empties it again."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))

    def reset() -> None:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))

    def reset_and_close() -> None:
        try:
            reset()
        finally:
            engine.dispose()

    reset()
    return reset_and_close


def setup_postgres(tmp: Path, server: str, in_place: bool, stack: contextlib.ExitStack) -> Backend:
    if in_place:
        url = make_url(server)
        stack.callback(reset_pg_schema(server))
        made = "its public schema emptied for this run and at the end"
    else:
        name = f"hearing_audit_bench_{os.getpid()}"
        stack.callback(create_pg_database(server, name))
        url = make_url(server).set(database=name)
        made = "created for this run, dropped at the end"
    plain = _driverless(url)
    svc = make_services(tmp, plain)
    with svc.engine.connect() as conn:
        settings = {
            key: conn.exec_driver_sql(f"SHOW {key}").scalar()
            for key in ("server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")
        }
        conn.rollback()
    facts = [
        f"database {url.render_as_string(hide_password=True)} ({made})",
        "PostgreSQL " + ", ".join(f"{k}={v}" for k, v in settings.items()),
    ]
    return Backend("postgresql", svc.settings, svc, lambda: RawPostgres(plain), False, facts)


def key_ids(backend: Backend) -> dict[int | None, int]:
    with backend.svc.engine.connect() as conn:
        rows = conn.execute(select(AuditKey.scope, AuditKey.id)).all()
        conn.rollback()
    return {(None if scope == "system" else int(scope.split(":", 1)[1])): key_id for scope, key_id in rows}


def build_log(backend: Backend, events: Sequence[Event], total: int, batch: int) -> float:
    """Append `total` entries (one per scope first, so every data key exists). Returns seconds."""
    first = one_per_scope(events)
    stream = itertools.cycle(events)
    start = time.perf_counter()
    backend.svc.unit_of_work(lambda db: append_many(db, first))
    left = total - len(first)
    while left > 0:
        chunk = [next(stream) for _ in range(min(batch, left))]
        backend.svc.unit_of_work(lambda db: append_many(db, chunk))  # noqa: B023 (called at once)
        left -= len(chunk)
    return time.perf_counter() - start


def mean_ciphertext(backend: Backend) -> float:
    with backend.svc.engine.connect() as conn:
        value = conn.execute(select(func.avg(func.length(AuditEntry.ciphertext)))).scalar()
        conn.rollback()
    return float(value or 0)


def prefill_ceiling(backend: Backend, templates: Sequence[dict[str, Any]], total: int, seq: Iterator[int]) -> None:
    """Give the ceiling table as many rows as the log has, so both insert into trees of one size."""
    raw = backend.raw
    assert raw is not None
    cycle = itertools.cycle(templates)
    left = total
    while left > 0:
        size = min(5000, left)
        raw.batch([raw_tuple(next(cycle), next(seq), backend.is_sqlite) for _ in range(size)])
        left -= size


# ---------------------------------------------------------------- timing


@dataclasses.dataclass
class Sample:
    entries: int
    seconds: float
    cpu_seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.entries / self.seconds

    @property
    def cpu_ms_per_txn(self) -> float:
        return 1000 * self.cpu_seconds / len(self.latencies)

    def percentile_ms(self, p: float) -> float:
        return 1000 * percentile(self.latencies, p)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def measure(step: Callable[[], None], txns: int, per_txn: int) -> Sample:
    latencies = []
    cpu_start = time.process_time()
    start = time.perf_counter()
    for _ in range(txns):
        t0 = time.perf_counter()
        step()
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    return Sample(txns * per_txn, seconds, time.process_time() - cpu_start, latencies)


class Workload:
    """The three paths on one backend, each drawing from an endless stream."""

    def __init__(
        self, backend: Backend, events: Sequence[Event], templates: Sequence[dict[str, Any]], seq: Iterator[int]
    ):
        self.backend = backend
        self.svc = backend.svc
        self.events = itertools.cycle(events)
        self.templates = itertools.cycle(templates)
        self.seq = seq

    def steps(self, batch: int) -> dict[tuple[str, str], Callable[[], None]]:
        return {
            ("single", "log"): self.log_single,
            ("single", "sa"): self.sa_single,
            ("single", "raw"): self.raw_single,
            ("batch", "log"): lambda: self.log_batch(batch),
            ("batch", "sa"): lambda: self.sa_batch(batch),
            ("batch", "raw"): lambda: self.raw_batch(batch),
        }

    def log_single(self) -> None:
        event = next(self.events)
        self.svc.unit_of_work(
            lambda db: append(db, event.actor, event.action, hearing_id=event.hearing_id, **event.payload)
        )

    def log_batch(self, size: int) -> None:
        events = [next(self.events) for _ in range(size)]
        self.svc.unit_of_work(lambda db: append_many(db, events))

    def _rows(self, size: int) -> list[dict[str, Any]]:
        return [{**next(self.templates), "seq": next(self.seq)} for _ in range(size)]

    def sa_single(self) -> None:
        rows = self._rows(1)
        self.svc.unit_of_work(lambda db: db.execute(insert(CEILING_TABLE), rows))

    def sa_batch(self, size: int) -> None:
        rows = self._rows(size)
        self.svc.unit_of_work(lambda db: db.execute(insert(CEILING_TABLE), rows))

    def _raw_rows(self, size: int) -> list[tuple[Any, ...]]:
        return [raw_tuple(next(self.templates), next(self.seq), self.backend.is_sqlite) for _ in range(size)]

    def raw_single(self) -> None:
        assert self.backend.raw is not None
        self.backend.raw.single(self._raw_rows(1)[0])

    def raw_batch(self, size: int) -> None:
        assert self.backend.raw is not None
        self.backend.raw.batch(self._raw_rows(size))


Results = dict[tuple[str, str, str], list[Sample]]


def rotated(items: Sequence[str], by: int) -> list[str]:
    k = by % len(items)
    return [*items[k:], *items[:k]]


def run_appends(workloads: Sequence[Workload], args: argparse.Namespace) -> Results:
    """Every repeat runs every (backend, mode, path), log and ceilings back to back, in rotating order."""
    results: Results = {}
    steps = {w.backend.name: w.steps(args.batch_size) for w in workloads}
    for w in workloads:  # warm-up: connections, statement caches, data-key cache
        for (mode, _path), step in steps[w.backend.name].items():
            for _ in range(args.warmup if mode == "single" else max(1, args.warmup // 10)):
                step()
    for r in range(args.repeats):
        for w in workloads:
            for mode, txns, per in (("single", args.single_txns, 1), ("batch", args.batch_txns, args.batch_size)):
                for path in rotated(PATHS, r):
                    sample = measure(steps[w.backend.name][(mode, path)], txns, per)
                    results.setdefault((w.backend.name, mode, path), []).append(sample)
        progress(f"appends: repeat {r + 1}/{args.repeats} done (load {load_average()})")
    return results


def run_verify(backends: Sequence[Backend], args: argparse.Namespace) -> dict[str, list[tuple[float, Any]]]:
    out: dict[str, list[tuple[float, Any]]] = {}
    for r in range(args.repeats):
        for backend in rotated_backends(backends, r):
            with backend.svc.engine.connect() as conn:
                start = time.perf_counter()
                report = verify(conn, backend.settings.audit_origin, backend.svc.audit.keys.public)
                seconds = time.perf_counter() - start
                conn.rollback()
            out.setdefault(backend.name, []).append((seconds, report))
        progress(f"verify: repeat {r + 1}/{args.repeats} done")
    return out


def rotated_backends(backends: Sequence[Backend], by: int) -> list[Backend]:
    k = by % len(backends)
    return [*backends[k:], *backends[:k]]


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- proofs


@dataclasses.dataclass
class ProofFigure:
    kind: str
    what: str
    hashes: int
    seconds: float
    ok: bool


def leaf_hashes(backend: Backend) -> list[bytes]:
    columns = [getattr(AuditEntry, c) for c in COLUMNS[:10]]
    with backend.svc.engine.connect() as conn:
        rows = conn.execute(select(*columns).order_by(AuditEntry.seq)).all()
        conn.rollback()
    return [entry.leaf_hash(entry.leaf_data(*row[:10])) for row in rows]


def timed(fn: Callable[[], list[bytes]], repeats: int) -> tuple[list[bytes], float]:
    times, result = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def proof_figures(leaves: list[bytes], repeats: int) -> list[ProofFigure]:
    n = len(leaves)
    tree_root = merkle.root(leaves)
    figures = []
    for index in sorted({0, 1, n // 3, n // 2, n - 2, n - 1} & set(range(n))):
        proof, seconds = timed(lambda i=index: merkle.inclusion_proof(i, leaves), repeats)  # type: ignore[misc]
        ok = merkle.verify_inclusion(index, n, leaves[index], proof, tree_root)
        figures.append(ProofFigure("inclusion", f"leaf {index}", len(proof), seconds, ok))
    power = 1 << (n.bit_length() - 1) if n else 0
    for m in sorted({1, 2, 1000, power, n // 2, n - 1, n} & set(range(1, n + 1))):
        proof, seconds = timed(lambda m=m: merkle.consistency_proof(m, leaves), repeats)  # type: ignore[misc]
        ok = merkle.verify_consistency(m, n, proof, merkle.root(leaves[:m]), tree_root)
        figures.append(ProofFigure("consistency", f"m={m} -> n={n}", len(proof), seconds, ok))
    return figures


# ---------------------------------------------------------------- profile


def profile_block(title: str, engine: Any, count: int, step: Callable[[], None]) -> str:
    """cProfile over `count` calls of step, with the SQL statements per call (profiler overhead included)."""
    statements = 0

    def counter(*_: Any) -> None:
        nonlocal statements
        statements += 1

    sa_event.listen(engine, "before_cursor_execute", counter)
    profiler = cProfile.Profile()
    cpu, start = time.process_time(), time.perf_counter()
    try:
        profiler.enable()
        for _ in range(count):
            step()
        profiler.disable()
    finally:
        sa_event.remove(engine, "before_cursor_execute", counter)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    out = io.StringIO()
    out.write(
        f"\n## cProfile: {title}: wall {1000 * wall / count:.2f} ms, CPU {1000 * cpu / count:.2f} ms,"
        f" {statements / count:.1f} SQL statements per call (profiler overhead included)\n"
    )
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(12)
    stats.sort_stats("cumulative").print_stats(18)
    return out.getvalue()


def profile_backend(backend: Backend, events: Sequence[Event], txns: int, batch: int) -> str:
    workload = Workload(backend, events, [], iter(()))
    engine = backend.svc.engine

    def verify_once() -> None:
        with engine.connect() as conn:
            verify(conn, backend.settings.audit_origin, backend.svc.audit.keys.public)
            conn.rollback()

    return "".join(
        (
            profile_block(f"{txns} single appends on {backend.name}, per txn", engine, txns, workload.log_single),
            profile_block(
                f"{max(1, txns // 10)} batches of {batch} on {backend.name}, per txn",
                engine,
                max(1, txns // 10),
                lambda: workload.log_batch(batch),
            ),
            profile_block(f"one verify() on {backend.name}, per run", engine, 1, verify_once),
        )
    )


# ---------------------------------------------------------------- report


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio(results: Results, backend: str, mode: str, against: str) -> float:
    logs, ceilings = results[(backend, mode, "log")], results[(backend, mode, against)]
    return med([a.rate / b.rate for a, b in zip(logs, ceilings, strict=True)])


def status(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_appends(results: Results, backends: Sequence[Backend], args: argparse.Namespace) -> None:
    print(f"\n## appends (median of {args.repeats} repeats; [min-max] of the rate; ratios paired per repeat)")
    head = (
        f"{'backend':<10} {'mode':<7} {'path':<22} {'entries/s':>10} {'[min - max]':>19} {'p50 ms':>7}"
        f" {'p99 ms':>7} {'CPU ms/tx':>9} {'log/SA':>7} {'log/raw':>7}  target"
    )
    print(head)
    print("-" * len(head))
    for backend in backends:
        for mode in ("single", "batch"):
            for path in PATHS:
                samples = results[(backend.name, mode, path)]
                rates = [s.rate for s in samples]
                line = (
                    f"{backend.name:<10} {mode:<7} {PATH_LABELS[path]:<22} {med(rates):>10,.0f}"
                    f" {f'[{min(rates):,.0f} - {max(rates):,.0f}]':>19}"
                    f" {med([s.percentile_ms(50) for s in samples]):>7.2f}"
                    f" {med([s.percentile_ms(99) for s in samples]):>7.2f}"
                    f" {med([s.cpu_ms_per_txn for s in samples]):>9.2f}"
                )
                if path == "log":
                    to_sa, to_raw = ratio(results, backend.name, mode, "sa"), ratio(results, backend.name, mode, "raw")
                    line += f" {to_sa:>7.2f} {to_raw:>7.2f}"
                    line += "  " + target_text(results, backend.name, mode)
                print(line)
        print()


def single_figures(results: Results, backend: str) -> tuple[float, float, float, float]:
    samples = results[(backend, "single", "log")]
    pooled = [x for s in samples for x in s.latencies]
    return (
        med([s.rate for s in samples]),
        med([s.percentile_ms(50) for s in samples]),
        med([s.percentile_ms(99) for s in samples]),
        1000 * percentile(pooled, 99),
    )


def target_text(results: Results, backend: str, mode: str) -> str:
    if mode == "single":
        rate, _, p99, _ = single_figures(results, backend)
        ok = rate >= TARGET_SINGLE_RATE and p99 <= TARGET_SINGLE_P99_MS
        return f">= {TARGET_SINGLE_RATE:,.0f}/s, p99 <= {TARGET_SINGLE_P99_MS:g} ms: {status(ok)}"
    rate = med([s.rate for s in results[(backend, "batch", "log")]])
    share = ratio(results, backend, "batch", "sa")
    ok = rate >= TARGET_BATCH_RATE and share >= TARGET_BATCH_CEILING_SHARE
    return f">= {TARGET_BATCH_RATE:,.0f}/s and >= {TARGET_BATCH_CEILING_SHARE:.0%} of SA ceiling: {status(ok)}"


def print_verify(verified: dict[str, list[tuple[float, Any]]]) -> None:
    print("## verify()")
    head = f"{'backend':<10} {'entries':>9} {'checkpoints':>11} {'ok':>4} {'entries/s':>10} {'[min - max]':>21}  target"
    print(head)
    print("-" * len(head))
    for name, runs in verified.items():
        report = runs[-1][1]
        rates = [r.size / s for s, r in runs]
        rate = med(rates)
        print(
            f"{name:<10} {report.size:>9,} {report.checkpoints:>11} {'yes' if all(r.ok for _, r in runs) else 'NO':>4}"
            f" {rate:>10,.0f} {f'[{min(rates):,.0f} - {max(rates):,.0f}]':>21}"
            f"  >= {TARGET_VERIFY_RATE:,.0f}/s: {status(rate >= TARGET_VERIFY_RATE)}"
        )


def print_proofs(figures: Sequence[ProofFigure], root_matches: bool, repeats: int) -> None:
    print(f"\n## proofs (merkle.inclusion_proof / consistency_proof over the leaf list; median of {repeats})")
    print(f"tree root from the leaves equals verify()'s root: {'yes' if root_matches else 'NO'}")
    head = f"{'proof':<12} {'of':<26} {'hashes':>6} {'bytes':>6} {'ms':>9} {'verifies':>8}"
    print(head)
    print("-" * len(head))
    for f in figures:
        print(
            f"{f.kind:<12} {f.what:<26} {f.hashes:>6} {32 * f.hashes:>6} {1000 * f.seconds:>9.2f}"
            f" {'yes' if f.ok else 'NO':>8}"
        )


def print_summary(
    results: Results,
    verified: dict[str, list[tuple[float, Any]]],
    proofs: Sequence[ProofFigure],
    backends: Sequence[Backend],
) -> None:
    print("\n## summary")
    for b in backends:
        rate, p50, p99, pooled = single_figures(results, b.name)
        sa = med([s.rate for s in results[(b.name, "single", "sa")]])
        raw = med([s.rate for s in results[(b.name, "single", "raw")]])
        print(
            f"SUMMARY {b.name} single: {rate:,.0f} appends/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms"
            f" (pooled p99 {pooled:.2f} ms);"
            f" ceiling SA {sa:,.0f}/s (log = {ratio(results, b.name, 'single', 'sa'):.2f}x),"
            f" raw {raw:,.0f}/s (log = {ratio(results, b.name, 'single', 'raw'):.2f}x);"
            f" target >= {TARGET_SINGLE_RATE:,.0f}/s and p99 <= {TARGET_SINGLE_P99_MS:g} ms:"
            f" {status(rate >= TARGET_SINGLE_RATE and p99 <= TARGET_SINGLE_P99_MS)}"
        )
        brate = med([s.rate for s in results[(b.name, "batch", "log")]])
        bsa = med([s.rate for s in results[(b.name, "batch", "sa")]])
        braw = med([s.rate for s in results[(b.name, "batch", "raw")]])
        share = ratio(results, b.name, "batch", "sa")
        print(
            f"SUMMARY {b.name} batched: {brate:,.0f} entries/s; ceiling SA {bsa:,.0f}/s (log = {share:.2f}x),"
            f" raw {braw:,.0f}/s (log = {ratio(results, b.name, 'batch', 'raw'):.2f}x);"
            f" target >= {TARGET_BATCH_RATE:,.0f}/s and >= {TARGET_BATCH_CEILING_SHARE:.2f}x SA ceiling:"
            f" {status(brate >= TARGET_BATCH_RATE and share >= TARGET_BATCH_CEILING_SHARE)}"
        )
        if b.name in verified:
            runs = verified[b.name]
            vrate = med([r.size / s for s, r in runs])
            print(
                f"SUMMARY {b.name} verify: {vrate:,.0f} entries/s over {runs[-1][1].size:,} entries"
                f" (ok={all(r.ok for _, r in runs)}); target >= {TARGET_VERIFY_RATE:,.0f}/s:"
                f" {status(vrate >= TARGET_VERIFY_RATE)}"
            )
    for kind in ("inclusion", "consistency"):
        subset = [f for f in proofs if f.kind == kind]
        if subset:
            print(
                f"SUMMARY proofs {kind}: {min(f.hashes for f in subset)}-{max(f.hashes for f in subset)} hashes"
                f" ({32 * max(f.hashes for f in subset)} bytes max), {1000 * min(f.seconds for f in subset):.1f}-"
                f"{1000 * max(f.seconds for f in subset):.1f} ms to generate, all verify: {all(f.ok for f in subset)}"
            )


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    print_header(args)
    events = make_events(4096, args.hearings, args.system_share, args.seed)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="audit-bench-", dir=args.sqlite_dir)))
        backends = [setup_sqlite(tmp / "sqlite")]
        stack.callback(backends[0].close)
        if args.postgres:
            backends.append(setup_postgres(tmp / "postgres", args.postgres, args.postgres_in_place, stack))
            stack.callback(backends[-1].close)
        total = max(args.verify_entries, len(one_per_scope(events)))
        for b in backends:
            seconds = build_log(b, events, total, args.build_batch)
            b.facts.append(f"verify log built: {total:,} entries in {seconds:.1f} s ({total / seconds:,.0f}/s)")
            b.facts.append(f"mean ciphertext {mean_ciphertext(b):.0f} bytes; 11 columns per entry")
            progress(f"{b.name}: built a log of {total:,} entries in {seconds:.1f} s")
        for b in backends:
            print(f"{b.name + ':':<11} " + "\n            ".join(b.facts))
        verified = run_verify(backends, args)
        leaves = leaf_hashes(backends[0])
        proofs = proof_figures(leaves, args.proof_repeats)
        root_matches = merkle.root(leaves) == verified[backends[0].name][-1][1].root
        progress("proofs done")
        now = utcnow()
        workloads = []
        for b in backends:
            b.raw = b.raw_factory()
            templates = ceiling_templates(events, key_ids(b), now)
            seq = itertools.count(1)
            prefill_ceiling(b, templates, total, seq)
            workloads.append(Workload(b, events, templates, seq))
        results = run_appends(workloads, args)
        profiles = (
            [profile_backend(b, events, args.profile_txns, args.batch_size) for b in backends] if args.profile else []
        )
        print_appends(results, backends, args)
        print_verify(verified)
        print_proofs(proofs, root_matches, args.proof_repeats)
        for text_block in profiles:
            print(text_block)
        print(f"\nload avg at end: {load_average()}; total run time {time.perf_counter() - began:.0f} s")
        print_summary(results, verified, proofs, backends)


if __name__ == "__main__":
    main()
