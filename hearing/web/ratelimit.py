from __future__ import annotations

import time
from collections import deque

from hearing.errors import RateLimited


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds, in memory.

    Per process: good enough to blunt guessing against one node; the account
    lockout in the database is what holds across nodes.
    """

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._evict(now)
            events = self._events[key] = deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            raise RateLimited()
        events.append(now)

    def _evict(self, now: float) -> None:
        stale = [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]
        for key in stale:
            del self._events[key]
        if len(self._events) >= self.max_keys:
            # Under a flood of distinct keys, forget the oldest half.
            for key in list(self._events)[: self.max_keys // 2]:
                del self._events[key]
