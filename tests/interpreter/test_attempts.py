"""The gateway's count of attempts against unknown invitations (pure)."""

from __future__ import annotations

import pytest

from hearing.interpreter.attempts import Tally, UnknownAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_tally_per_window_with_the_count_and_the_distinct_sources() -> None:
    clock = Clock()
    attempts = UnknownAttempts(clock, window=60)
    assert attempts.due() is None and attempts.drain() is None
    for source in ("10.0.0.1", "10.0.0.1", "10.0.0.2"):
        attempts.count(source)
    clock.now += 59.9
    assert attempts.due() is None
    clock.now += 0.1
    assert attempts.due() == Tally(3, 2, 60)
    assert attempts.due() is None  # told once
    # The next window opens with the next attempt, not at the last one's close.
    clock.now += 500
    attempts.count("10.0.0.3")
    clock.now += 10.2
    assert attempts.due() is None
    assert attempts.drain() == Tally(1, 1, 11)  # the part of the window that passed
    assert attempts.drain() is None


def test_the_sources_are_bounded_and_never_told() -> None:
    clock = Clock()
    attempts = UnknownAttempts(clock, window=1, max_sources=3)
    for n in range(100):
        attempts.count(f"192.0.2.{n}")
    clock.now += 1
    tally = attempts.due()
    assert tally == Tally(100, 3, 1)
    assert "192.0.2" not in repr(tally) and "192.0.2" not in repr(attempts)


def test_a_window_lasts() -> None:
    with pytest.raises(ValueError):
        UnknownAttempts(Clock(), window=0)
    with pytest.raises(ValueError):
        UnknownAttempts(Clock(), max_sources=0)
