"""A bounded outbox between a room (or the floor) and one socket: a slow
socket loses the oldest reports and never holds up the sender."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect


class Outbox:
    def __init__(self, websocket: WebSocket, size: int) -> None:
        self.websocket = websocket
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(size)
        self._writer: asyncio.Task[None] | None = None

    def deliver(self, message: dict[str, Any]) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(message)

    def start(self, name: str) -> None:
        self._writer = asyncio.create_task(self._write(), name=name)

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def _write(self) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await self.websocket.send_json(await self._queue.get())
