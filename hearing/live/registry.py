"""The hearings in progress in this process, one `LiveHearing` each."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiortc import RTCConfiguration

from hearing.docket.lifecycle import HearingState
from hearing.errors import HearingNotOpen
from hearing.live.hearing import LifecycleObserver, LiveHearing, Trace
from hearing.speaker_order.floor import Floor

logger = logging.getLogger(__name__)


class LiveHearings:
    def __init__(
        self,
        *,
        configuration: RTCConfiguration | None = None,
        trace: Trace | None = None,
        clock: Callable[[], float] = time.monotonic,
        observer: LifecycleObserver | None = None,
    ) -> None:
        self.observer = observer  # the recording desk (issue 14), told of every lifecycle move
        self.configuration = configuration  # None: the room's closed-network default
        self.trace = trace
        self.clock = clock  # the hearings' monotonic clock (tests move their own)
        self._hearings: dict[int, LiveHearing] = {}
        self._ended: set[int] = set()  # a hearing that has ended here never runs again
        self._lock = asyncio.Lock()

    def get(self, hearing_id: int) -> LiveHearing | None:
        return self._hearings.get(hearing_id)

    async def open(self, hearing_id: int, floor: Floor, lifecycle: HearingState) -> LiveHearing:
        """The hearing in progress; one not yet running here starts from this
        committed floor and state (after a restart, from the database's)."""
        async with self._lock:
            if hearing_id in self._ended:
                # A connection admitted just before the end arrives just after it.
                raise HearingNotOpen("The hearing has ended.")
            live = self._hearings.get(hearing_id)
            if live is None:
                live = LiveHearing(
                    hearing_id,
                    floor,
                    lifecycle,
                    configuration=self.configuration,
                    clock=self.clock,
                    trace=self.trace,
                    observer=self.observer,
                )
                await live.start()
                self._hearings[hearing_id] = live
                logger.info("%r: in progress here", live)
        live.follow(floor)
        return live

    async def end(self, hearing_id: int, state: HearingState) -> None:
        async with self._lock:
            live = self._hearings.pop(hearing_id, None)
            self._ended.add(hearing_id)
        if live is not None:
            await live.end(state)

    async def close_all(self) -> None:
        """The process is stopping: the rooms close; the hearings go on in the database."""
        async with self._lock:
            hearings, self._hearings = list(self._hearings.values()), {}
        for live in hearings:
            await live.stop()
