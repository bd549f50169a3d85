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

# Long enough for a busy machine; a passing test never waits for it.
TIMEOUT = 30.0
POLL_SECONDS = 0.02

Condition = Callable[[], object]
Describe = Callable[[], object]


def _timed_out(timeout: float, describe: Describe | None) -> AssertionError:
    detail = f": {describe()!r}" if describe is not None else ""
    return AssertionError(f"condition not met within {timeout:g} s{detail}")


def wait_until(condition: Condition, timeout: float = TIMEOUT, describe: Describe | None = None) -> float:
    """Block until `condition()` is true; return the seconds it took. On a
    timeout the assertion says what `describe()` shows of the state."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise _timed_out(timeout, describe)
        time.sleep(POLL_SECONDS)
    return time.monotonic() - start


async def wait_until_async(condition: Condition, timeout: float = TIMEOUT, describe: Describe | None = None) -> float:
    """`wait_until` inside an event loop: the loop keeps running while it waits."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise _timed_out(timeout, describe)
        await asyncio.sleep(POLL_SECONDS)
    return time.monotonic() - start
