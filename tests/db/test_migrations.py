from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from hearing.db import migrate
from hearing.db.engine import create_db_engine
from hearing.db.models import Base


def _differences(url: str) -> list[object]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_upgrade_to_head_matches_the_models(database_url: str) -> None:
    engine = create_db_engine(database_url)
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert _differences(database_url) == []


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    engine = create_db_engine(database_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
    assert _differences(database_url) == []


def test_postgres_backend_reports_its_version(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            version = conn.dialect.server_version_info
        print(f"{engine.dialect.name} server version: {version}")
        assert version is not None and version >= ((3, 0) if engine.dialect.name == "sqlite" else (13,))
    finally:
        engine.dispose()


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def test_the_custody_migration_keeps_a_populated_database(database_url: str) -> None:
    """0005 rebuilds tables that others refer to (on SQLite by copying them):
    a court's rows, and what refers to them, come through whole."""
    engine = create_db_engine(database_url)
    migrate.upgrade(engine, "0004")
    now = "2026-12-01 09:00:00+00:00"
    with engine.begin() as conn:
        for sql in (
            "INSERT INTO court (id, name) VALUES (1, 'Court')",
            "INSERT INTO courtroom (id, court_id, name) VALUES (1, 1, 'Room A')",
            "INSERT INTO custody_facility (id, name) VALUES (1, 'Facility A')",
            "INSERT INTO endpoint (id, kind, name, courtroom_id, facility_id, token_hash, enrolled_at)"
            " VALUES (1, 'custody', 'kiosk', NULL, 1, :token, :now)",
            "INSERT INTO hearing (id, case_number, kind, courtroom_id, facility_id, scheduled_start, scheduled_end,"
            " detainee_name, detainee_reference, state, created_at, updated_at)"
            " VALUES (1, 'SS 1/2026', 'remand_extension', 1, 1, :now, '2026-12-01 10:00:00+00:00',"
            " 'A. Detainee', 'R-1', 'scheduled', :now, :now)",
            "INSERT INTO participant (id, hearing_id, role, display_name, connection)"
            " VALUES (1, 1, 'defence_counsel', 'Counsel', 'courtroom')",
        ):
            conn.execute(text(sql), {"token": bytes(32), "now": now})
    migrate.upgrade(engine)
    assert _rows(engine, "SELECT id, pause_on_drop FROM court") == [(1, True)]
    assert _rows(engine, "SELECT id, custody_endpoint_id FROM hearing") == [(1, None)]
    assert _rows(engine, "SELECT id, hearing_id FROM participant") == [(1, 1)]
    # The booth is a courtroom's device; a custody kiosk still needs its facility.
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO endpoint (id, kind, name, courtroom_id, facility_id, token_hash, enrolled_at)"
                " VALUES (2, 'booth', 'booth', 1, NULL, :token, :now)"
            ),
            {"token": b"\x01" * 32, "now": now},
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO endpoint (id, kind, name, courtroom_id, facility_id, token_hash, enrolled_at)"
                " VALUES (3, 'booth', 'stray', NULL, 1, :token, :now)"
            ),
            {"token": b"\x02" * 32, "now": now},
        )
    # Going back drops what 0004 cannot hold (the booth), and nothing else.
    migrate.downgrade(engine, "0004")
    assert _rows(engine, "SELECT id, kind FROM endpoint") == [(1, "custody")]
    assert _rows(engine, "SELECT id FROM hearing") == [(1,)]
    engine.dispose()
