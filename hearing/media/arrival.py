"""A source's steady arrival: when each of its frames would have come,
jitter aside (issue 14's lip sync).

Each frame noted gives its media time (its RTP timestamp in seconds) and
when it came; the least of (arrival - media time) over the last `window`
frames is the path without the network's jitter and this process's own
queues (a decoder, an event loop behind), so a media time plus it is the
frame's steady arrival. The playout buffer stamps sound with it, the
recorder its pictures, so both are placed alike.

Pure: no clock of its own; times come in as arguments.
"""

from __future__ import annotations

from collections import deque


class SteadyArrival:
    def __init__(self, window: int) -> None:
        self._transit: deque[float] = deque(maxlen=window)

    def note(self, media: float, at: float) -> None:
        """A frame of media time `media` (seconds) came at `at`."""
        self._transit.append(at - media)

    def of(self, media: float) -> float | None:
        """The steady arrival of media time `media`; None before any frame."""
        return media + min(self._transit) if self._transit else None

    def restart(self) -> None:
        """A new timeline (the sender started again): nothing before counts."""
        self._transit.clear()
