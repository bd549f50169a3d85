from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
