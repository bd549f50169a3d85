"""Waiting for a condition, in one place for every test.

A test waits for the thing it is about (a frame arrives, a seat is gone), never
for a fixed time: on a loaded machine a fixed sleep is either too short (the
test fails for nothing) or too long everywhere else. The timeout is a bound
that a loaded 2-core machine meets with room to spare, not a figure: speed is
measured in bench/, never asserted here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

# Long enough for a busy machine; a passing test never waits for it.
TIMEOUT = 30.0
POLL_SECONDS = 0.02

T = TypeVar("T")
Describe = Callable[[], object]


def _timed_out(timeout: float, describe: Describe | None) -> AssertionError:
    detail = f": {describe()!r}" if describe is not None else ""
    return AssertionError(f"condition not met within {timeout:g} s{detail}")


def wait_until(condition: Callable[[], T], timeout: float = TIMEOUT, describe: Describe | None = None) -> T:
    """Block until `condition()` is true, and return what it returned. On a
    timeout the assertion says what `describe()` shows of the state."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise _timed_out(timeout, describe)
        time.sleep(POLL_SECONDS)
    return result


async def wait_until_async(condition: Callable[[], T], timeout: float = TIMEOUT, describe: Describe | None = None) -> T:
    """`wait_until` inside an event loop: the loop keeps running while it waits."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise _timed_out(timeout, describe)
        await asyncio.sleep(POLL_SECONDS)
    return result
