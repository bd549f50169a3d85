"""The recordings running in this process, one per live hearing (issue 14).

The desk follows each live hearing's lifecycle (it is the hearings'
`LifecycleObserver`): a hearing that starts is recorded if its court says
so; a private consultation pauses the recording and its end resumes it;
the hearing's end stops and seals it. The judge starts, pauses and resumes
it by hand too. The recorder itself (hearing/recording/recorder.py) is a
receiver of the live hearing routed by the policy like any seat, so a
consultation's media never reach it whatever the desk does; its segments
are encrypted by the writer before a byte touches the disk.

Every indicator is true: the hearing is told it is recorded only while
the recorder is actually writing a segment (the desk watches it), and a
recorder that fails or falls behind is said on the panel within a second,
audited, and goes on in a new segment.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.config import Settings
from hearing.courtroom.compositor import label_of
from hearing.docket.lifecycle import HearingState
from hearing.live.hearing import LiveHearing
from hearing.recording import crypto, service
from hearing.recording.recorder import Recorder
from hearing.routing import seats
from hearing.routing.policy import RECORDER
from hearing.services import Services

logger = logging.getLogger(__name__)

# How often the desk looks whether the recorder is writing (the indicators follow within this).
WATCH_SECONDS = 0.25
# Whose pictures the recording shows, in this order (issue 14 § 1): the
# courtroom's program, the detainee, then the interpreter and the remote
# parties; the bench is in the courtroom's program, the booth only confers.
NOT_RECORDED = frozenset({seats.JUDGE, seats.BOOTH})
MAX_PICTURES = 4
SYSTEM = Actor("system")


# The recording's role labels (one picture for the case file: Danish, and the
# English where it differs), by seat or by the kind of a remote party's seat.
ROLE_LABELS = {
    seats.COURTROOM: ("Retssalen", "Courtroom"),
    seats.CUSTODY: ("Sigtede", "Detainee"),
    "interpreter": ("Tolk", "Interpreter"),
    "counsel": ("Forsvarer", "Defence counsel"),
    "prosecutor": ("Anklager", "Prosecutor"),
    "witness": ("Vidne", "Witness"),
    "observer": ("Tilhører", "Observer"),
}


def role_label(seat: str) -> str:
    da, en = ROLE_LABELS.get(seat, ROLE_LABELS.get(seat.split("-")[0], (seat, seat)))
    return label_of(da, en)


def pictured(seat_roles: dict[str, Any]) -> list[str]:
    ordered = [s for s in (seats.COURTROOM, seats.CUSTODY) if s in seat_roles]
    ordered += sorted(s for s in seat_roles if s not in NOT_RECORDED and s not in ordered)
    return ordered[:MAX_PICTURES]


class EncryptedSegments:
    """Where the recorder's segments go: each through its own encrypting
    writer, recorded in the database when it closes (from the recorder's
    worker thread: a transaction of its own). The files are numbered here,
    0, 1, 2 ... with no gap: a segment the recorder abandons is removed, and
    its number goes to the next (each file has its own key: a number used
    twice encrypts nothing twice under one key)."""

    def __init__(self, services: Services, directory: Path, begun: service.Begun) -> None:
        self.services = services
        self.directory = directory
        self.begun = begun
        self._next = 0
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def open(self, number: int) -> crypto.SegmentWriter:
        return crypto.SegmentWriter(
            self.directory / crypto.segment_name(self._next),
            self.begun.key,
            hearing_id=self.begun.hearing_id,
            recording_id=self.begun.recording_id,
            segment=self._next,
        )

    def closed(self, number: int, start_seconds: float, duration_seconds: float, writer: Any) -> None:
        sealed = writer.close()
        self._next += 1
        recording_id = self.begun.recording_id
        self.services.unit_of_work(
            lambda db: service.segment_written(db, recording_id, sealed, start_seconds, duration_seconds)
        )

    def abandoned(self, number: int, writer: Any) -> None:
        writer.abort()


@dataclasses.dataclass
class Running:
    live: LiveHearing
    begun: service.Begun
    recorder: Recorder
    started: float  # the desk's clock when it began: the recording's clock starts here
    consultation: bool = False  # paused by a consultation (its end resumes it)
    paused_by_judge: bool = False
    watcher: asyncio.Task[None] | None = None


class RecordingDesk:
    def __init__(
        self,
        services: Services,
        settings: Settings,
        *,
        make_recorder: Callable[..., Recorder] = Recorder,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.settings = settings
        self.make_recorder = make_recorder
        self.clock = clock
        self._running: dict[int, Running] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"RecordingDesk({len(self._running)} running)"

    def running(self, hearing_id: int) -> Running | None:
        return self._running.get(hearing_id)

    # --- the hearing's lifecycle ----------------------------------------------------

    def moved(self, live: LiveHearing, state: HearingState) -> None:
        self._later(self._follow(live, state))

    def ended(self, live: LiveHearing, state: HearingState) -> None:
        self._later(self.stop(live.id))

    def _later(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("%r: %s", self, exc, exc_info=exc)

    def _lock(self, hearing_id: int) -> asyncio.Lock:
        return self._locks.setdefault(hearing_id, asyncio.Lock())

    async def _follow(self, live: LiveHearing, state: HearingState) -> None:
        async with self._lock(live.id):
            running = self._running.get(live.id)
            if state is HearingState.IN_SESSION and running is None:
                # The hearing's start records it, if the court says so and nothing has yet.
                def first_start(db: Session) -> bool:
                    return service.record_on_start(db, live.id) and not service.has_recorded(db, live.id)

                if await self.services.run(first_start):
                    await self._start(live, SYSTEM)
            elif state is HearingState.CONSULTATION and running is not None and not running.consultation:
                if await self._pause(running, SYSTEM, "consultation"):
                    running.consultation = True
            elif state is not HearingState.CONSULTATION and running is not None and running.consultation:
                running.consultation = False
                if running.paused_by_judge:
                    live.recording_moved("paused")  # the judge's pause outlasts the consultation
                else:
                    await self._resume(running, SYSTEM, "consultation")

    # --- the judge's controls -----------------------------------------------------------

    async def start(self, live: LiveHearing, actor: Actor) -> None:
        async with self._lock(live.id):
            if live.id in self._running:
                raise service.RecordingConflict("already_recording", "The hearing is being recorded already.")
            await self._start(live, actor)

    async def pause(self, hearing_id: int, actor: Actor) -> None:
        async with self._lock(hearing_id):
            running = self._running_or_refuse(hearing_id)
            if running.consultation or not await self._pause(running, actor, "judge"):
                raise service.RecordingConflict("recording_not_running", "The recording is paused already.")
            running.paused_by_judge = True
            running.live.recording_moved("paused")

    async def resume(self, hearing_id: int, actor: Actor) -> None:
        async with self._lock(hearing_id):
            running = self._running_or_refuse(hearing_id)
            if running.consultation:
                raise service.RecordingConflict(
                    "consultation_not_recorded", "A private consultation is never recorded; it resumes after it."
                )
            await self._resume(running, actor, "judge")
            running.paused_by_judge = False

    def _running_or_refuse(self, hearing_id: int) -> Running:
        running = self._running.get(hearing_id)
        if running is None:
            raise service.RecordingConflict("not_recording", "The hearing is not being recorded.")
        return running

    # --- the work -------------------------------------------------------------------

    async def _start(self, live: LiveHearing, actor: Actor) -> None:
        begun = await self.services.run(lambda db: service.begin(db, actor, live.id))
        directory = service.folder(self.settings.recording_dir, begun.recording_id)
        sink = EncryptedSegments(self.services, directory, begun)
        loop = asyncio.get_running_loop()
        sources = pictured(live.floor.seat_roles)
        recorder = self.make_recorder(
            sink,
            labels={seat: role_label(seat) for seat in sources},
            width=self.settings.recording_width,
            height=self.settings.recording_height,
            segment_seconds=self.settings.recording_segment_seconds,
            on_failure=lambda reason: self._failed(loop, live, begun, reason),
            on_keyframe_needed=lambda source: loop.call_soon_threadsafe(live.room.board.keyframe_from, source),
        )
        running = Running(live, begun, recorder, self.clock())
        self._running[live.id] = running
        live.attach(recorder.receiver(sources))
        await asyncio.to_thread(recorder.start)
        running.watcher = asyncio.create_task(self._watch(running), name=f"recording {begun.recording_id}")
        live.recording_moved("recording")
        logger.info("%r: recording %s of hearing %s started", self, begun.recording_id, live.id)

    def _at(self, running: Running) -> float:
        return self.clock() - running.started

    async def _pause(self, running: Running, actor: Actor, why: str) -> bool:
        recording_id, at = running.begun.recording_id, self._at(running)
        try:
            await self.services.run(lambda db: service.pause(db, actor, recording_id, why=why, at_seconds=at))
        except service.RecordingConflict:
            return False
        await asyncio.to_thread(running.recorder.pause)
        return True

    async def _resume(self, running: Running, actor: Actor, why: str) -> None:
        recording_id, at = running.begun.recording_id, self._at(running)
        await self.services.run(lambda db: service.resume(db, actor, recording_id, why=why, at_seconds=at))
        await asyncio.to_thread(running.recorder.resume)
        running.live.recording_moved("recording")

    async def stop(self, hearing_id: int, *, seal: bool = True) -> None:
        """The recording ends: the segment in progress is closed, then (the
        hearing over) the recording is sealed."""
        async with self._lock(hearing_id):
            running = self._running.pop(hearing_id, None)
            if running is None:
                return
            if running.watcher is not None:
                running.watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running.watcher
            await asyncio.to_thread(running.recorder.stop)
            running.live.detach(RECORDER)
            running.live.set_recording(False)
            running.live.recording_moved("off")
            if seal:
                recording_id, directory = running.begun.recording_id, self.settings.recording_dir
                await self.services.run(lambda db: service.seal(db, SYSTEM, recording_id, directory))

    async def close_all(self) -> None:
        """The process stops: each recorder closes its segment; the recordings
        stay open in the database and are sealed, as interrupted, at the next start."""
        for task in list(self._tasks):
            task.cancel()
        for hearing_id in list(self._running):
            await self.stop(hearing_id, seal=False)

    async def recover(self) -> list[int]:
        """Seal what a process that is gone left running (a crash, kill -9):
        every segment it closed survives; the one in progress is lost."""
        directory = self.settings.recording_dir

        def seal_all(db: Session) -> list[int]:
            left = service.interrupted(db)
            for recording_id in left:
                service.seal(db, SYSTEM, recording_id, directory, interrupted=True)
            return left

        sealed = await self.services.run(seal_all)
        for recording_id in sealed:
            logger.warning("%r: recording %s was left running; sealed with what survived", self, recording_id)
        return sealed

    async def _watch(self, running: Running) -> None:
        """The hearing is told it is recorded exactly while segments are written."""
        while True:
            running.live.set_recording(bool(running.recorder.writing))
            await asyncio.sleep(WATCH_SECONDS)

    def _failed(self, loop: asyncio.AbstractEventLoop, live: LiveHearing, begun: service.Begun, reason: str) -> None:
        """From the recorder's worker thread: audited, and the panel told at once."""
        recording_id = begun.recording_id
        try:
            self.services.unit_of_work(lambda db: service.failed(db, recording_id, reason=reason, segment=None))
        except Exception:  # the alert must go out even if the database is the fault
            logger.exception("%r: the failure of recording %s could not be audited", self, recording_id)
        loop.call_soon_threadsafe(live.recording_alert, reason)
