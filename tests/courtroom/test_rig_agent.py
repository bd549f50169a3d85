"""The rig agent through the real server (issue 13's acceptance).

A rig with synthetic cameras and microphones joins the hearing live in its
courtroom by itself; its seats speak on a script and the custody room, a
real aiortc peer seated through the server, reads back from each program
picture which camera it shows (the test pattern's seat code). A camera
killed mid-hearing shows its slate, the rig goes on streaming, and the
panel (and so the clerk, who follows the same feed) is told, with the
failure audited. Times are not asserted here (bench/rig_bench.py measures
them): each change is waited for, with the issue's 2 s printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.audit.actions import Action
from hearing.courtroom import synthetic
from hearing.courtroom.agent import Rig
from hearing.courtroom.cameras import PatternSource
from hearing.courtroom.config import loads_rig
from hearing.docket.parties import EndpointKind
from hearing.media.client import MediaClient
from hearing.services import Services
from tests.browser import LiveServer
from tests.conftest import Court_, admit, enroll_device, logged, open_hearing
from tests.waiting import wait_until
from tests.web.test_kiosk_browser import on_server

WIDTH, HEIGHT, FPS = 640, 360, 25
SEATS = ("judge", "prosecutor", "defence", "witness")
# Who speaks when, from the rig's start (s): each turn long enough to be shown.
TURNS = [("prosecutor", 6.0, 11.0), ("witness", 13.0, 18.0), ("judge", 20.0, 25.0)]


def rig_toml(server: str, token_file: Path) -> str:
    cameras = "".join(
        f'[[camera]]\nid = "cam-{seat}"\nseat = "{seat}"\n'
        f'label = {{ da = "{seat}", en = "{seat}" }}\nsource = "test:"\n\n'
        for seat in (*SEATS, "overview")
    )
    channels = ", ".join(f'{i} = "{seat}"' for i, seat in enumerate(SEATS))
    return (
        f'[rig]\nserver_url = "{server}"\ntoken_file = "{token_file}"\nbench_camera = "cam-judge"\n'
        f'width = {WIDTH}\nheight = {HEIGHT}\nfps = {FPS}\nlayout = "speaker_strip"\n\n{cameras}'
        f'[[microphone]]\nid = "desk"\nsource = "test:"\nchannels = {{ {channels} }}\n'
    )


class Dies:
    """A test pattern whose reads raise once `killed` is set: a camera whose cable is pulled."""

    def __init__(self, source: PatternSource) -> None:
        self.source = source
        self.killed = threading.Event()

    def read(self) -> Any:
        if self.killed.is_set():
            raise OSError("the camera stopped answering")
        return self.source.read()

    def close(self) -> None:
        self.source.close()


class Thread:
    """An event loop of its own, for the rig or the custody peer (the test's
    thread waits and checks)."""

    def __init__(self, main: Callable[[asyncio.Event], Any]) -> None:
        self.main = main
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        async def run() -> None:
            self._stop = asyncio.Event()
            await self.main(self._stop)

        try:
            self.loop.run_until_complete(run())
        except BaseException as exc:  # reported to the test
            self.error = exc
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def __enter__(self) -> Thread:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        wait_until(lambda: self._stop is not None)
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()


class Watcher:
    """The custody room, receiving the courtroom's program through the server
    and reading back which seat's pattern fills the program's main tile."""

    def __init__(self, url: str, token: str) -> None:
        self.client = MediaClient(url, headers={"Authorization": f"Device {token}"})
        self.shown: list[tuple[float, str | None]] = []  # (arrival, the seat read back, or None)

    def seat_shown(self) -> str | None:
        """The seat whose pattern the newest program picture shows (None: none read)."""
        return self.shown[-1][1] if self.shown else None

    async def run(self, stop: asyncio.Event) -> None:
        from tests.media.peers import PatternTrack

        await self.client.connect([PatternTrack(320, 180, 15)], views=["courtroom"])
        reader = asyncio.create_task(self._read(self.client.video_for("courtroom")))
        await stop.wait()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await self.client.close()

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if (frame.width, frame.height) != (WIDTH, HEIGHT):
                    continue
                seat = synthetic.seat_shown(frame.to_ndarray(format="bgr24"))
                self.shown.append((time.monotonic(), seat))


@pytest.mark.timeout(240)
def test_the_program_follows_the_speakers_and_survives_a_dead_camera(
    live_server: LiveServer, services: Services, court: Court_, tmp_path: Path
) -> None:
    h = court.hearing_a
    rig_token = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token
    custody_token = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    token_file = tmp_path / "rig.token"
    token_file.write_text(rig_token)
    server = f"http://127.0.0.1:{live_server.settings.port}"
    config = loads_rig(rig_toml(server, token_file))
    witness = Dies(PatternSource(config.camera("cam-witness"), WIDTH, HEIGHT, FPS))
    origin = time.monotonic()
    rig = Rig(
        config,
        rig_token,
        cameras={"cam-witness": lambda: witness},
        script=synthetic.SpeechScript(TURNS),
        origin=origin,
    )
    open_hearing(services, h)
    admit(services, court, h)
    media = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{h}/media"
    watcher = Watcher(media, custody_token)

    def live() -> Any:
        return live_server.app.state.live_hearings.get(h)

    with Thread(rig.run) as rig_thread, Thread(watcher.run):
        # The rig learns from its device socket that the hearing is live, and takes its seat.
        wait_until(lambda: (hearing := live()) is not None and "courtroom" in hearing.room.peers, timeout=60)
        wait_until(lambda: watcher.shown, timeout=60)
        for seat, start, _ in TURNS:
            wait_until(lambda start=start: time.monotonic() - origin >= start)
            began = time.monotonic()
            wait_until(
                lambda seat=seat: watcher.seat_shown() == seat,
                timeout=15,
                describe=lambda: (
                    f"the program shows {watcher.seat_shown()}; the rig: "
                    f"{rig.program and rig.program.state}, {[(f.camera.id, f.state) for f in rig.feeds.values()]}, "
                    f"{rig.sound.levels()}"
                ),
            )
            # The acceptance's bound, printed: bench/rig_bench.py measures it.
            print(f"{seat} shown at the custody seat {time.monotonic() - began:.2f} s after they began to speak")

        # Silence after the last turn: the overview.
        wait_until(lambda: watcher.seat_shown() == "overview", timeout=15)

        # The witness's camera dies mid-hearing: the panel is told, the failure audited ...
        told: list[dict[str, Any]] = []

        class Panel:
            def deliver(self, message: dict[str, Any]) -> None:
                if message["type"] == "rig":
                    told.append(message)

            def dismiss(self, reason: str) -> None:
                pass

        on_server(live_server, lambda: live().panel_opened(Panel()))
        witness.killed.set()
        killed = time.monotonic()

        def witness_state() -> str | None:
            cameras = told[-1]["cameras"] if told else []
            return next((c["state"] for c in cameras if c["id"] == "cam-witness"), None)

        wait_until(lambda: witness_state() == "unavailable", describe=lambda: told[-1:])
        print(f"the panel was told the witness camera failed {time.monotonic() - killed:.2f} s after")
        wait_until(lambda: Action.CAMERA_UNAVAILABLE in [e.action for e in logged(services)])
        # ... and the rig keeps streaming to the custody room, the program still read back.
        count = len(watcher.shown)
        wait_until(lambda: len(watcher.shown) > count + 25)
        assert rig.program is not None
        assert rig.program.compositor.current("cam-witness") is None  # its tile shows the slate
        assert rig_thread.error is None
