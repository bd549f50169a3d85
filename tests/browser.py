"""A real server on loopback and Debian's Chromium driven by Playwright.

Every web feature's browser test uses these fixtures (imported by
tests/conftest.py).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from hearing.app import create_app
from hearing.config import Settings
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
