"""The media rooms of this process: one per live hearing, made on first join."""

from __future__ import annotations

import asyncio
import logging

from aiortc import RTCConfiguration

from hearing.media.room import Room
from hearing.routing.policy import MediaState

logger = logging.getLogger(__name__)


class Rooms:
    def __init__(self, configuration: RTCConfiguration | None = None) -> None:
        self.configuration = configuration  # None: the room's closed-network default
        self._rooms: dict[int, Room] = {}
        self._lock = asyncio.Lock()

    def get(self, hearing_id: int) -> Room | None:
        return self._rooms.get(hearing_id)

    async def open(self, hearing_id: int, state: MediaState) -> Room:
        """The hearing's room; a new one starts from `state`."""
        async with self._lock:
            room = self._rooms.get(hearing_id)
            if room is None:
                room = Room(f"hearing {hearing_id}", state, configuration=self.configuration)
                await room.start()
                self._rooms[hearing_id] = room
            return room

    async def close(self, hearing_id: int) -> None:
        async with self._lock:
            room = self._rooms.pop(hearing_id, None)
        if room is not None:
            await room.stop()

    async def close_all(self) -> None:
        for hearing_id in list(self._rooms):
            await self.close(hearing_id)
