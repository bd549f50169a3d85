"""A real server on loopback and Debian's Chromium driven by Playwright.

Every web feature's browser test uses these fixtures (imported by
tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from hearing.app import create_app
from hearing.config import Settings
from hearing.media.client import MediaClient
from hearing.media.tracks import PatternTrack, ToneTrack
from hearing.services import Services

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    # Loopback ICE candidates: the tests' closed network is 127.0.0.1.
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings = settings.replace(host="127.0.0.1", port=free_port(), cookie_secure=False, base_url="")
        app = create_app(self.settings, services)
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                ws_max_size=256 * 1024,
                host="127.0.0.1",
                port=self.settings.port,
                access_log=False,
                log_config=None,
                lifespan="on",
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    @property
    def url(self) -> str:
        return self.settings.base_url

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class CustodyPeer(threading.Thread):
    """The custody endpoint as a Python media client, in its own event loop."""

    def __init__(self, url: str, token: str, tone: float = 700.0) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.tone = url, token, tone
        self.loop: asyncio.AbstractEventLoop | None = None
        self.client: MediaClient | None = None
        self.video_frames: list[tuple[int, int]] = []
        self.audio_frames = 0
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # surfaced by the test
            self.error = exc
            self.ready.set()

    async def _run(self) -> None:
        tasks: list[asyncio.Task[None]] = []

        def on_track(track: MediaStreamTrack) -> None:
            tasks.append(asyncio.create_task(self._watch(track)))

        client = MediaClient(self.url, headers={"Authorization": f"Device {self.token}"}, on_track=on_track)
        self.loop, self.client = asyncio.get_running_loop(), client
        await client.connect([PatternTrack(640, 360, 25), ToneTrack(self.tone)])
        self.ready.set()
        while not self.stop.is_set():
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await client.close()

    def send(self, message: dict[str, object]) -> None:
        """A signaling message from the endpoint, e.g. a request to speak."""
        assert self.loop is not None and self.client is not None
        asyncio.run_coroutine_threadsafe(self.client.send(message), self.loop).result(timeout=5)

    async def _watch(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.video_frames.append((frame.width, frame.height))  # type: ignore[union-attr]
                else:
                    self.audio_frames += 1
        except MediaStreamError:
            return


def wait_until(condition, timeout: float) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def live_server(settings: Settings, services: Services) -> Iterator[LiveServer]:
    server = LiveServer(settings, services)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def browser():
    from tests.conftest import need

    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, live_server: LiveServer, username: str, secret: str) -> None:
    from tests.conftest import PASSWORD, current_code

    page.goto(f"{live_server.url}/signin")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Authenticator code").fill(current_code(secret))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/signin" not in url)
