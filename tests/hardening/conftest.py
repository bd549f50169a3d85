"""Module-scoped worlds for the fuzzing harness, and how big its runs are."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st

from tests.conftest import _worker_database, need, reset_postgres


def world_database(kind: str, directory: Path) -> str:
    """A database for one module-scoped world. PostgreSQL gets a database of
    its own per worker, apart from the one the function-scoped tests reset."""
    if kind == "sqlite":
        return f"sqlite:///{directory / 'hearing.db'}"
    url = os.environ.get("HEARING_TEST_DATABASE_URL") or None
    need(url is not None, "HEARING_TEST_DATABASE_URL is not set (no PostgreSQL to test against)")
    assert url is not None
    url = _worker_database(url, f"harness_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    reset_postgres(url)
    return url


def examples(share: float) -> int:
    """A share of the loaded profile's max_examples (ci: 100, thorough: 1000):
    the harness's size follows `--hypothesis-profile`."""
    return max(1, round(settings.default.max_examples * share))


def run_examples(
    key: str,
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    count: int,
    explicit: Sequence[Any] = (),
) -> None:
    """Run `check` on each of `explicit`, then on `count` examples of `strategy`, inside the test (so
    that the module's world, not a function-scoped fixture, is what every
    example shares). Under a derandomized profile each test gets its own
    fixed seed: the same examples every run, different ones per route."""

    @settings(
        max_examples=count,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def inner(value: Any) -> None:
        check(value)

    for value in reversed(explicit):
        inner = example(value)(inner)
    if settings.default.derandomize:
        inner = seed(zlib.crc32(key.encode()))(inner)
    inner()


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("world")
