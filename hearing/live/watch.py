"""Every open socket of this process, by the identity that opened it.

A socket is authenticated at its handshake; what happens to its identity
afterwards happens elsewhere: a device is revoked or reissued by the CLI
(another process), a session is ended by sign-out (here or on another
node), expires, or its user is disabled. So each process
keeps a registry of its open sockets by identity and one task that, every
`interval` seconds, asks the database about all of them at once (one call
of `check`, whatever the number of sockets) and dismisses each socket
whose identity no longer stands, with the reason. A sign-out in this
process dismisses that session's sockets at once (`dismiss_session`).

Nothing here knows the database or the transport: `check` is given by the
application factory, a socket is anything that can be dismissed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Protocol

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class StaffIdentity:
    session_id: int
    user_id: int


@dataclasses.dataclass(frozen=True)
class DeviceIdentity:
    endpoint_id: int
    credential: bytes  # the keyed hash of the token it presented, never the token

    def __repr__(self) -> str:
        return f"DeviceIdentity({self.endpoint_id})"


@dataclasses.dataclass(frozen=True)
class RemoteIdentity:
    """issue 12, gateway: a remote party's session (opened by a one-time code)."""

    session_id: int
    participant_id: int


Identity = StaffIdentity | DeviceIdentity | RemoteIdentity
# (every identity with an open socket, those in use by a live link) -> the
# reason for each one that no longer stands.
Check = Callable[[frozenset[Identity], frozenset[Identity]], Awaitable[Mapping[Identity, str]]]


class Dismissible(Protocol):
    def dismiss(self, reason: str) -> None:
        """End the connection with this reason; never blocks, never raises."""


class SocketWatch:
    def __init__(self, check: Check, *, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the watch needs a positive interval")
        self._check = check
        self.interval = interval
        # identity -> its open sockets -> whether the socket is a live link
        # (it keeps the session from going idle).
        self._open: dict[Identity, dict[Dismissible, bool]] = {}
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"SocketWatch({sum(map(len, self._open.values()))} sockets)"

    # --- the registry ---------------------------------------------------------------

    @contextlib.contextmanager
    def watching(self, identity: Identity, socket: Dismissible, *, live_link: bool = False) -> Iterator[None]:
        self._open.setdefault(identity, {})[socket] = live_link
        try:
            yield
        finally:
            sockets = self._open.get(identity, {})
            sockets.pop(socket, None)
            if not sockets:
                self._open.pop(identity, None)

    @property
    def identities(self) -> frozenset[Identity]:
        return frozenset(self._open)

    def dismiss(self, identity: Identity, reason: str) -> int:
        """Dismiss every socket of this identity; how many there were."""
        sockets = list(self._open.get(identity, {}))
        for socket in sockets:
            socket.dismiss(reason)
        return len(sockets)

    def dismiss_session(self, session_id: int, reason: str) -> int:
        return sum(
            self.dismiss(identity, reason)
            for identity in list(self._open)
            if isinstance(identity, StaffIdentity) and identity.session_id == session_id
        )

    # --- the recheck ----------------------------------------------------------------

    async def recheck(self) -> int:
        """Ask about every identity with an open socket, once; dismiss those
        that no longer stand. Returns how many sockets were dismissed."""
        identities = self.identities
        if not identities:
            return 0
        in_use = frozenset(i for i, sockets in self._open.items() if any(sockets.values()))
        endings = await self._check(identities, in_use)
        dismissed = 0
        for identity, reason in endings.items():
            count = self.dismiss(identity, reason)
            if count:
                logger.info("%r: %d socket(s) of %r dismissed: %s", self, count, identity, reason)
            dismissed += count
        return dismissed

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Cancel the task and wait until it has gone (a recheck in a worker
        thread finishes first)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.recheck()
            except Exception:
                # The database may be away for a moment: the sockets stay as
                # they are (HTTP fails the same way) and the next round asks again.
                logger.warning("%r: recheck failed", self, exc_info=True)
