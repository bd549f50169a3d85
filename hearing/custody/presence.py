"""Which enrolled endpoints are answering: their kiosk pages' own sockets.

A kiosk page (custody or booth) keeps a socket open to the server from the
moment it is shown, whether or not a hearing is live, and pings over it
every two seconds: that heartbeat is what the officer's console calls
*online*, and the socket is how the console asks the kiosk for something
(connect to the hearing, run a test call). Per process and in memory: a
kiosk reconnects to whichever node it reaches, and the database has the
last-seen time for everyone else. Pure: an injected monotonic clock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from hearing.errors import TestCallBusy

# Kiosks ping every 2 s: silent for longer than this is not answering.
ANSWERING_SECONDS = 5.0

Message = dict[str, Any]


class KioskChannel(Protocol):
    def deliver(self, message: Message) -> None:
        """Queue a message for the kiosk; never blocks, never raises."""

    def dismiss(self, reason: str) -> None:
        """Close the kiosk's socket (a newer page replaced it)."""


@dataclasses.dataclass
class Heartbeat:
    channel: KioskChannel
    since: float
    last: float


class EndpointPresence:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._kiosks: dict[int, Heartbeat] = {}
        self._watchers: list[Callable[[int, bool], None]] = []

    def connected(self, endpoint_id: int, channel: KioskChannel) -> None:
        """A kiosk page opened its socket; one page per endpoint, the newest."""
        earlier = self._kiosks.get(endpoint_id)
        now = self._clock()
        self._kiosks[endpoint_id] = Heartbeat(channel, now, now)
        if earlier is not None and earlier.channel is not channel:
            earlier.channel.dismiss("replaced")
        else:
            self._changed(endpoint_id, True)

    def disconnected(self, endpoint_id: int, channel: KioskChannel) -> None:
        beat = self._kiosks.get(endpoint_id)
        if beat is not None and beat.channel is channel:
            del self._kiosks[endpoint_id]
            self._changed(endpoint_id, False)

    def heard_from(self, endpoint_id: int) -> None:
        beat = self._kiosks.get(endpoint_id)
        if beat is not None:
            beat.last = self._clock()

    def online(self, endpoint_id: int) -> bool:
        beat = self._kiosks.get(endpoint_id)
        return beat is not None and self._clock() - beat.last <= ANSWERING_SECONDS

    def tell(self, endpoint_id: int, message: Message) -> bool:
        """Send the kiosk a message; whether one was there to take it."""
        beat = self._kiosks.get(endpoint_id)
        if beat is None:
            return False
        beat.channel.deliver(message)
        return True

    def watch(self, callback: Callable[[int, bool], None]) -> None:
        """Be told when an endpoint's kiosk comes or goes (endpoint id, online)."""
        self._watchers.append(callback)

    def _changed(self, endpoint_id: int, online: bool) -> None:
        for callback in list(self._watchers):
            callback(endpoint_id, online)


class TestCalls:
    """The endpoints with a test call running, in this process: one each
    (a second would halve what each measures). A kiosk on its test call is
    off its own socket, yet there."""

    __test__ = False  # not a pytest class, despite the name

    def __init__(self) -> None:
        self._running: set[int] = set()

    def __contains__(self, endpoint_id: object) -> bool:
        return endpoint_id in self._running

    @contextlib.contextmanager
    def holding(self, endpoint_id: int) -> Iterator[None]:
        if endpoint_id in self._running:
            raise TestCallBusy()
        self._running.add(endpoint_id)
        try:
            yield
        finally:
            self._running.discard(endpoint_id)
