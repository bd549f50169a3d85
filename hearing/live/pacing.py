"""How fast a seat may ask for things, and how its refusals are told to the log.

Pure arithmetic on an injected clock (seconds, monotonic), no I/O.

A floor request is one locked, audited transaction and a push to every panel
and seat of the hearing, so a seat's requests pass a token bucket first: a
burst of `BURST` (a person who asks, withdraws and asks again, or double-
clicks, is never held back), then `REFILL_PER_SECOND`, which no one at a
kiosk reaches by hand but which bounds a flooding endpoint to one
transaction a second. A request over the limit gets `rate_limited`, touches
nothing and is not audited.

What still gets through and is refused the same way again (the same seat,
action and reason) is appended once, then counted for `REPEAT_WINDOW`
seconds, and the count is appended when the window closes or the
connection ends: the log shows every refusal, exactly, in two entries a
window instead of one a second.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

BURST = 5
REFILL_PER_SECOND = 1.0
REPEAT_WINDOW = 60.0

Clock = Callable[[], float]
K = TypeVar("K", bound=Hashable)


class TokenBucket:
    def __init__(self, clock: Clock, *, burst: int = BURST, per_second: float = REFILL_PER_SECOND) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("a bucket holds at least one token and refills")
        self._clock = clock
        self.burst = burst
        self.per_second = per_second
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        """Whether one more may go now (and if so, it is counted)."""
        now = self._clock()
        # A clock that steps back (it should not) refills nothing.
        self._tokens = min(float(self.burst), self._tokens + max(0.0, now - self._at) * self.per_second)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


@dataclasses.dataclass
class _Window:
    opened: float
    count: int = 0


class RefusalTally(Generic[K]):
    """Identical refusals, counted by key within a window."""

    def __init__(self, clock: Clock, *, window: float = REPEAT_WINDOW) -> None:
        if window <= 0:
            raise ValueError("a window lasts")
        self._clock = clock
        self.window = window
        self._open: dict[K, _Window] = {}

    def refused(self, key: K) -> bool:
        """Whether this refusal is to be appended: True for the first of its
        window; False when it is counted instead. Call `due()` first: a closed
        window's count must reach the log before its key opens a new one."""
        now = self._clock()
        window = self._open.get(key)
        if window is not None and now - window.opened < self.window:
            window.count += 1
            return False
        self._open[key] = _Window(now)
        return True

    def due(self) -> list[tuple[K, int]]:
        """The counts of the windows that have closed (each once), for the log."""
        now = self._clock()
        closed = [key for key, window in self._open.items() if now - window.opened >= self.window]
        return [(key, count) for key in closed if (count := self._open.pop(key).count)]

    def drain(self) -> list[tuple[K, int]]:
        """Every count not yet told: the connection ends."""
        counts = [(key, window.count) for key, window in self._open.items() if window.count]
        self._open.clear()
        return counts
