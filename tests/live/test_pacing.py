"""The token bucket and the refusal tally, on a clock the test moves."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearing.live.pacing import BURST, REFILL_PER_SECOND, REPEAT_WINDOW, RefusalTally, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_a_second() -> None:
    clock = Clock()
    bucket = TokenBucket(clock)
    assert [bucket.take() for _ in range(BURST + 3)] == [True] * BURST + [False] * 3
    clock.now += 0.5 / REFILL_PER_SECOND
    assert not bucket.take()
    clock.now += 0.5 / REFILL_PER_SECOND
    assert bucket.take() and not bucket.take()
    # A long pause refills to the burst, never beyond it.
    clock.now += 3600
    assert [bucket.take() for _ in range(BURST + 1)] == [True] * BURST + [False]


def test_a_clock_that_steps_back_refills_nothing() -> None:
    clock = Clock()
    bucket = TokenBucket(clock, burst=1)
    assert bucket.take()
    clock.now -= 50
    assert not bucket.take()


@pytest.mark.parametrize(("burst", "rate"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_a_bucket_that_cannot_work_is_refused(burst: int, rate: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(Clock(), burst=burst, per_second=rate)


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), max_size=200))
def test_never_more_than_the_burst_plus_the_refill(gaps: list[float]) -> None:
    clock = Clock()
    bucket = TokenBucket(clock)
    taken = 0
    for gap in gaps:
        clock.now += gap
        taken += bucket.take()
    assert taken <= BURST + sum(gaps) * REFILL_PER_SECOND + 1e-9


def test_the_first_refusal_is_told_the_rest_counted() -> None:
    clock = Clock()
    tally: RefusalTally[str] = RefusalTally(clock)
    assert tally.refused("a") is True
    assert [tally.refused("a") for _ in range(4)] == [False] * 4
    assert tally.refused("b") is True  # another key has its own window
    assert tally.due() == []
    clock.now += REPEAT_WINDOW
    assert tally.due() == [("a", 4)]
    assert tally.due() == []  # each count once
    assert tally.refused("a") is True  # a new window
    assert tally.drain() == []  # nothing counted in it yet; "b" counted nothing either


def test_drain_tells_every_open_count() -> None:
    clock = Clock()
    tally: RefusalTally[tuple[str, str]] = RefusalTally(clock, window=10)
    for key, times in ((("request", "x"), 3), (("withdraw", "x"), 1)):
        for _ in range(times):
            tally.refused(key)
    assert tally.drain() == [(("request", "x"), 2)]
    assert tally.drain() == []


@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(min_value=0, max_value=30, allow_nan=False))))
def test_nothing_is_lost(events: list[tuple[str, float]]) -> None:
    """Told plus counted is every refusal, exactly, whatever the timing."""
    clock = Clock()
    tally: RefusalTally[str] = RefusalTally(clock, window=20)
    told = 0
    for key, gap in events:
        clock.now += gap
        told += sum(count for _, count in tally.due())
        told += tally.refused(key)
    told += sum(count for _, count in tally.drain())
    assert told == len(events)
