"""The units of work: a write transaction, or a read-only one that never
takes the write lock (issue 10, defect 6)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hearing.db.models import Court
from hearing.services import Services


def courts(services: Services) -> int:
    return services.unit_of_work(lambda db: db.scalar(select(func.count()).select_from(Court)))


def test_a_read_only_unit_refuses_a_write(services: Services) -> None:
    with pytest.raises(DBAPIError):
        services.read_only(lambda db: db.execute(insert(Court).values(name="Written while reading")))

    def through_the_orm(db: object) -> None:
        db.add(Court(name="Flushed while reading"))  # type: ignore[attr-defined]
        db.flush()  # type: ignore[attr-defined]

    with pytest.raises(DBAPIError):
        services.read_only(through_the_orm)
    assert courts(services) == 0
    # The connection goes back to the pool writable: the next unit of work writes.
    services.unit_of_work(lambda db: db.add(Court(name="Written afterwards")))
    assert courts(services) == 1
    assert services.read_only(lambda db: db.scalar(select(Court.name))) == "Written afterwards"


@pytest.mark.sqlite_only
def test_a_read_only_unit_does_not_wait_for_the_write_lock(services: Services) -> None:
    services.unit_of_work(lambda db: db.add(Court(name="Before")))
    writer = sqlite3.connect(services.engine.url.database or "", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO court (name) VALUES ('Being written')")
    try:
        read: list[list[str]] = []
        reader = threading.Thread(
            target=lambda: read.append(list(services.read_only(lambda db: db.scalars(select(Court.name)).all())))
        )
        reader.start()
        reader.join(timeout=5)
        # The writer still holds the lock (it would take 30 s to give up on it).
        assert read == [["Before"]], "the read waited for the writer"
    finally:
        writer.execute("COMMIT")
        writer.close()
        reader.join()


def test_close_waits_for_the_work_of_a_cancelled_task(services: Services) -> None:
    # A task cancelled while it awaits run() leaves its work running in its
    # thread (the recording desk's lifecycle tasks when the app stops). Had
    # close() disposed the engine under it, the work would have taken a
    # connection from a fresh pool that nobody closes (psycopg's
    # ResourceWarning, raised in some later test).
    begun, release = threading.Event(), threading.Event()
    counted: list[int] = []

    def slow(db: Session) -> None:
        begun.set()
        release.wait(10)
        counted.append(db.scalar(select(func.count()).select_from(Court)) or 0)

    async def cancel_while_running() -> None:
        task = asyncio.create_task(services.run(slow))
        assert await asyncio.to_thread(begun.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_running())
    closing = threading.Thread(target=services.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive(), "close() did not wait for the work in flight"
    release.set()
    closing.join(10)
    assert counted == [0] and not closing.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        courts(services)
