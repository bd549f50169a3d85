"""The rig agent: `hearing rig run --config rig.toml`.

Runs in the courtroom as its own process, without the server's web code.
It signs in as the enrolled courtroom device (its token; a client
certificate once the deployment issue lands), keeps the device socket open
to learn which hearing is live in its courtroom, and while one is, takes the
hearing's `courtroom` seat: it publishes the program (hearing/courtroom/
program.py) and the room's sound, reports its cameras, the seats' levels
and small previews for the judge's panel, and follows the floor and the
judge's camera pin as the server tells them. Everything reconnects by
itself with a back-off; a camera that dies is retried by its feed while the
program goes on. Logs are JSON lines (systemd's journal keeps them).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from websockets.asyncio.client import connect

from hearing.courtroom import sources
from hearing.courtroom.backoff import Backoff
from hearing.courtroom.cameras import open_camera
from hearing.courtroom.compositor import Frame
from hearing.courtroom.config import Camera, Microphone, RigConfig
from hearing.courtroom.microphones import open_microphone
from hearing.courtroom.program import CourtroomSound, Program, floor_seat, levels_report, override_of
from hearing.courtroom.synthetic import SpeechScript
from hearing.docket.lifecycle import LIVE_STATES
from hearing.media.client import MediaClient
from hearing.media.mixer import FRAME_SAMPLES
from hearing.media.tracks import Pacer, to_frame

logger = logging.getLogger("hearing.rig")

VIDEO_CLOCK = 90_000
PING_SECONDS = 2.0
LEVELS_SECONDS = 0.25
STATUS_SECONDS = 5.0  # the rig's report, again, even when nothing changed
RETRY = Backoff(first=1.0, factor=2.0, most=30.0)
_LIVE = {state.value for state in LIVE_STATES}


def socket_url(server_url: str, path: str) -> str:
    parts = urlsplit(server_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))


def live_hearing(hearings: list[dict[str, Any]]) -> int | None:
    """The hearing in progress in this courtroom (the first by its start, if
    the docket ever had two): the rig takes its seat there."""
    live = [h for h in hearings if h.get("state") in _LIVE]
    live.sort(key=lambda h: str(h.get("scheduled_start")))
    return int(live[0]["id"]) if live else None


class ProgramTrack(MediaStreamTrack):
    """The program, as the composition thread made it: at its cadence, the
    newest picture first (a late encoder drops, it never lags)."""

    kind = "video"

    def __init__(self, fps: int) -> None:
        super().__init__()
        self._queue: asyncio.Queue[av.VideoFrame] = asyncio.Queue(maxsize=2)
        self._home = asyncio.get_running_loop()
        self._step = VIDEO_CLOCK // fps
        self.time_base = fractions.Fraction(1, VIDEO_CLOCK)

    def offer(self, i420: Frame, n: int) -> None:
        """From the composition thread: the picture is copied here, its buffer is reused."""
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame.pts, frame.time_base = n * self._step, self.time_base
        self._home.call_soon_threadsafe(self._put, frame)

    def _put(self, frame: av.VideoFrame) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(frame)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        return await self._queue.get()


class SoundTrack(MediaStreamTrack):
    """The room's sound, 20 ms at a time, in real time."""

    kind = "audio"

    def __init__(self, sound: CourtroomSound) -> None:
        super().__init__()
        self.sound = sound
        self._pacer = Pacer()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        n = await self._pacer.next()
        return to_frame(self.sound.next_frame(), n * FRAME_SAMPLES)


class Rig:
    """One courtroom's rig: its feeds, and its seat in whichever hearing is
    live in the courtroom."""

    def __init__(
        self,
        config: RigConfig,
        token: str,
        *,
        cameras: Mapping[str, Callable[[], sources.FrameSource]] | None = None,
        script: SpeechScript | None = None,
        origin: float | None = None,
        backoff: Backoff | None = None,
        retry: Backoff = RETRY,
    ) -> None:
        """`cameras`: a camera's source, where not the configured one (tests);
        `script` and `origin`: what the synthetic microphones say, from when."""
        settings = config.rig
        self.config = config
        self._headers = {"Authorization": f"Device {token}"}
        self.retry = retry
        factories = dict(cameras or {})

        def configured(camera: Camera) -> Callable[[], sources.FrameSource]:
            return lambda: open_camera(camera.source, camera, settings.width, settings.height, settings.fps)

        # Script time 0 is fixed once, for every microphone, so the room's
        # voices stay together and a reconnect resumes the script where the room is.
        start = time.monotonic() if origin is None else origin

        def microphone_source(microphone: Microphone) -> Callable[[], sources.AudioSource]:
            return lambda: open_microphone(microphone, script, start)

        self.feeds = {
            c.id: sources.CameraFeed(
                c, factories.get(c.id) or configured(c), backoff=backoff, on_state=self._camera_changed
            )
            for c in config.cameras
        }
        self.microphones = [
            sources.MicrophoneFeed(m, microphone_source(m), backoff=backoff, on_state=self._microphone_changed)
            for m in config.microphones
        ]
        seats = sorted({seat for m in config.microphones for _, seat in m.channels})
        self.sound = CourtroomSound(self.microphones, seats)
        self.hearing: int | None = None  # the hearing whose seat the rig holds now
        self.client: MediaClient | None = None
        self._session: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._previews: deque[tuple[str, str]] = deque(maxlen=32)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.program: Program | None = None

    def __repr__(self) -> str:
        return f"Rig({len(self.feeds)} cameras)"

    # --- what the feeds report (from their threads) -----------------------------

    def _camera_changed(self, camera_id: str, state: str, reason: str | None) -> None:
        logger.info("camera %s is %s", camera_id, state, extra={"camera": camera_id, "state": state, "reason": reason})
        self._wake()

    def _microphone_changed(self, microphone_id: str, state: str, reason: str | None) -> None:
        logger.info(
            "microphone %s is %s",
            microphone_id,
            state,
            extra={"microphone": microphone_id, "state": state, "reason": reason},
        )

    def _wake(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._changed.set)

    # --- running -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Until `stop` is set (or the task is cancelled): the feeds run, the
        device socket follows the docket, the seat is taken while a hearing is live."""
        self._loop = asyncio.get_running_loop()
        stop = stop or asyncio.Event()
        for feed in [*self.feeds.values(), *self.microphones]:
            feed.start()
        follower = asyncio.create_task(self._follow_docket(), name="rig docket")
        try:
            await stop.wait()
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await self._leave()
            for feed in [*self.feeds.values(), *self.microphones]:
                feed.stop()

    async def _follow_docket(self) -> None:
        failures = 0
        url = socket_url(self.config.rig.server_url, "/ws/device")
        while True:
            try:
                async with connect(url, additional_headers=self._headers, proxy=None, max_size=256 * 1024) as socket:
                    welcome = json.loads(await socket.recv())
                    if welcome.get("type") != "welcome":
                        raise ConnectionError(
                            f"the server refused the rig: {welcome.get('error', welcome.get('type'))}"
                        )
                    logger.info("signed in as %s", welcome.get("device"), extra={"device": welcome.get("device")})
                    failures = 0
                    await self._follow(welcome.get("hearings", []))
                    pinger = asyncio.create_task(self._ping(socket))
                    try:
                        async for raw in socket:
                            message = json.loads(raw)
                            if message.get("type") == "docket":
                                await self._follow(message.get("hearings", []))
                    finally:
                        pinger.cancel()
                raise ConnectionError("the device socket closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server restarting, the network: try again
                failures += 1
                delay = self.retry.delay(failures)
                logger.warning("no link to the server (%s); again in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)

    @staticmethod
    async def _ping(socket: Any) -> None:
        nonce = 0
        while True:
            await asyncio.sleep(PING_SECONDS)
            nonce += 1
            await socket.send(json.dumps({"type": "ping", "nonce": nonce}))

    async def _follow(self, hearings: list[dict[str, Any]]) -> None:
        live = live_hearing(hearings)
        if live == self.hearing:
            return
        await self._leave()
        if live is not None:
            self.hearing = live
            self._session = asyncio.create_task(self._hold_seat(live), name=f"rig seat {live}")

    async def _leave(self) -> None:
        self.hearing = None
        if self._session is not None:
            self._session.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._session
            self._session = None

    async def _hold_seat(self, hearing_id: int) -> None:
        """The courtroom seat of the live hearing, taken again whenever it is lost."""
        failures = 0
        while True:
            started = time.monotonic()
            try:
                await self._seated(hearing_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("the seat in hearing %s was lost (%s: %s)", hearing_id, type(exc).__name__, exc)
            # A seat held for a while starts the back-off afresh.
            failures = 1 if time.monotonic() - started > 30 else failures + 1
            await asyncio.sleep(self.retry.delay(failures))

    async def _seated(self, hearing_id: int) -> None:
        url = socket_url(self.config.rig.server_url, f"/ws/hearings/{hearing_id}/media")
        video = ProgramTrack(self.config.rig.fps)
        program = Program(self.config, self.feeds, self.sound, output=video.offer, previews=self._preview)
        client = MediaClient(url, headers=self._headers, on_floor=lambda floor: self._floor(program, floor))
        try:
            await client.connect([SoundTrack(self.sound), video])
            self.client, self.program = client, program
            program.start()
            logger.info("took the courtroom seat in hearing %s", hearing_id, extra={"hearing": hearing_id})
            reporter = asyncio.create_task(self._report(client, program))
            try:
                await client.wait_closed()
            finally:
                reporter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reporter
            raise ConnectionError("the media socket closed")
        finally:
            program.stop()
            self.client = self.program = None
            await client.close()

    def _floor(self, program: Program, floor: Mapping[str, Any]) -> None:
        """The floor as the courtroom seat is told it: who speaks, and the judge's pin."""
        program.floor_seat = floor_seat(floor.get("holder"))
        program.override = override_of(floor.get("camera"), list(self.feeds))

    def _preview(self, images: list[tuple[str, str]]) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._previews.extend, images)

    def status(self, program: Program) -> dict[str, Any]:
        """The rig's report: its cameras and what the program shows."""
        cameras = [
            {
                "id": c.id,
                "seat": c.seat,
                "label": {"da": c.label.da, "en": c.label.en},
                "state": self.feeds[c.id].state,
                "reason": self.feeds[c.id].reason,
            }
            for c in self.config.cameras
        ]
        state = program.state
        return {
            "type": "rig",
            "cameras": cameras,
            "program": {"camera": state.camera, "layout": state.layout, "reason": state.reason},
        }

    async def _report(self, client: MediaClient, program: Program) -> None:
        told: dict[str, Any] | None = None
        told_at = 0.0
        while True:
            status = self.status(program)
            now = time.monotonic()
            if status != told or now - told_at >= STATUS_SECONDS:
                await client.send(status)
                told, told_at = status, now
            await client.send({"type": "levels", "levels": levels_report(self.sound.levels())})
            while self._previews:
                camera, jpeg = self._previews.popleft()
                await client.send({"type": "preview", "camera": camera, "jpeg": jpeg})
            self._changed.clear()
            # asyncio.timeout: a cancelled wait_for may swallow the cancellation (3.11).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LEVELS_SECONDS):
                    await self._changed.wait()
