"""Code submissions against invitations that do not exist, counted.

A failure against a known code is the code's own business: its count, its
lock and its audit entry (hearing/interpreter/issuing.py). A failure
against an invitation that names nothing has no code to charge and no
hearing to log it in; appended one by one, a flood of guesses would flood
the log. So the gateway counts them here and appends one
REMOTE_CODE_UNKNOWN entry per window: how many attempts, from how many
distinct sources, never which sources or what they sent.

Pure arithmetic on an injected monotonic clock; the sources are held in
memory only for the window (to count them), and never leave it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

WINDOW_SECONDS = 60.0
# Past this many distinct sources in one window, more are not told apart
# (the count says "at least"): memory stays bounded under a flood.
MAX_SOURCES = 10_000

Clock = Callable[[], float]


@dataclasses.dataclass(frozen=True)
class Tally:
    """One window's count: what the audit entry says."""

    repeated: int
    sources: int
    window_seconds: int


class UnknownAttempts:
    def __init__(self, clock: Clock, *, window: float = WINDOW_SECONDS, max_sources: int = MAX_SOURCES) -> None:
        if window <= 0 or max_sources < 1:
            raise ValueError("a window lasts and counts at least one source")
        self._clock = clock
        self.window = window
        self.max_sources = max_sources
        self._opened: float | None = None
        self._count = 0
        self._sources: set[str] = set()

    def __repr__(self) -> str:
        return f"UnknownAttempts({self._count} in the open window)"

    def count(self, source: str) -> None:
        """One more attempt against an unknown invitation, from `source`. A
        closed window's tally must have been taken (`due`) first; if not, it
        is carried into the new window rather than lost."""
        if self._opened is None:
            self._opened = self._clock()
        self._count += 1
        if len(self._sources) < self.max_sources:
            self._sources.add(source)

    def due(self) -> Tally | None:
        """The open window's tally once the window has closed (then it is
        reset), else None."""
        if self._opened is None or self._clock() - self._opened < self.window:
            return None
        return self._take(self.window)

    def drain(self) -> Tally | None:
        """Whatever is counted, now (the gateway stops), over the part of
        the window that has passed; None if nothing."""
        if self._opened is None:
            return None
        return self._take(min(self.window, self._clock() - self._opened))

    def _take(self, seconds: float) -> Tally:
        tally = Tally(self._count, len(self._sources), max(1, math.ceil(seconds)))
        self._opened, self._count, self._sources = None, 0, set()
        return tally
