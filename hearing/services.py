"""The process's shared runtime: settings, keys and the database.

Built once by the application factory or the CLI and handed to whatever
needs it; nothing here knows about HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hearing.audit.keys import AuditKeys
from hearing.audit.log import SESSION_KEY, AuditLog
from hearing.auth import passwords
from hearing.auth.keys import KeyRing
from hearing.config import Settings
from hearing.db.engine import create_db_engine, read_only, session_factory, transaction
from hearing.docket import opening

T = TypeVar("T")

# How long close() waits for the units of work still running in threads.
CLOSE_WAIT_SECONDS = 30.0


class Services:
    def __init__(self, settings: Settings, keys: KeyRing, audit_keys: AuditKeys, engine: Engine | None = None) -> None:
        self.settings = settings
        self.keys = keys
        self.audit = AuditLog(
            audit_keys,
            checkpoint_every=settings.audit_checkpoint_every,
            checkpoint_seconds=settings.audit_checkpoint_seconds,
        )
        self.engine = engine or create_db_engine(settings.database_url)
        # Every session carries the audit log, so any service can append, and
        # the court's opening rules, so that every path to the lifecycle keeps them.
        info = {SESSION_KEY: self.audit, opening.SESSION_KEY: opening.OpeningRules.from_settings(settings)}
        self.sessions: sessionmaker[Session] = session_factory(self.engine, info=info)
        self.read_sessions: sessionmaker[Session] = session_factory(read_only(self.engine), info=info)
        # Sign-in's password hashing: bounded, and apart from the database's threads.
        self.hashing = passwords.HashPool(settings.password_hash_workers, settings.password_hash_queue)
        # The units of work running now, and whether close() has begun (see close()).
        self._working = 0
        self._closed = False
        self._idle = threading.Condition()

    @classmethod
    def from_settings(cls, settings: Settings, *, create_keys: bool = False) -> Services:
        if create_keys:
            keys = KeyRing.ensure(settings.key_dir)
            audit_keys = AuditKeys.ensure(settings.key_dir, settings.audit_origin)
        else:
            keys = KeyRing.load(settings.key_dir)
            audit_keys = AuditKeys.load(settings.key_dir, settings.audit_origin)
        return cls(settings, keys, audit_keys)

    def unit_of_work(self, work: Callable[[Session], T]) -> T:
        """Run work(db) in one transaction: all of it commits, or none."""
        with self._working_on(), transaction(self.sessions) as db:
            return work(db)

    def read_only(self, work: Callable[[Session], T]) -> T:
        """Run work(db) in one transaction that only reads: it never waits for
        the write lock (SQLite) and any write in it is an error."""
        with self._working_on(), transaction(self.read_sessions) as db:
            return work(db)

    @contextlib.contextmanager
    def _working_on(self) -> Iterator[None]:
        with self._idle:
            if self._closed:
                raise RuntimeError("the services are closed")
            self._working += 1
        try:
            yield
        finally:
            with self._idle:
                self._working -= 1
                self._idle.notify_all()

    async def run(self, work: Callable[[Session], T]) -> T:
        # Database calls and key derivation block; keep them off the event loop.
        return await anyio.to_thread.run_sync(functools.partial(self.unit_of_work, work))

    async def read(self, work: Callable[[Session], T]) -> T:
        """`read_only` off the event loop: for requests that only look."""
        return await anyio.to_thread.run_sync(functools.partial(self.read_only, work))

    async def check_password(self, password: str, stored: str | None) -> bool:
        """Verify a password in the hashing pool, outside any transaction
        (`stored` None: an unknown user, who costs the same time). Raises
        SignInBusy when the pool and its queue are full."""
        work = functools.partial(passwords.verify_password, password, stored or passwords.DUMMY)
        return await asyncio.wrap_future(self.hashing.submit(work))

    def close(self) -> None:
        """Refuse new units of work, wait for those still running, then close
        the pool's connections. A task cancelled while it awaits run() or
        read() leaves its work running in its thread (asyncio's cancellation
        does not wait for a thread): the recording desk's lifecycle tasks at
        shutdown, say. Disposed under it, the engine would give that work a
        fresh pool that nobody closes, its connection left to the garbage
        collector (psycopg's ResourceWarning)."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._working == 0, timeout=CLOSE_WAIT_SECONDS)
        self.hashing.close()
        self.engine.dispose()

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
