"""A real server on loopback and Debian's Chromium driven by Playwright.

Every web feature's browser test uses these fixtures (imported by
tests/conftest.py). Python participants for the media tests are in
tests/media/peers.py; waiting is tests/waiting.py.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from hearing.app import create_app
from hearing.config import Settings
from hearing.services import Services
from tests.waiting import wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Browser

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
        wait_until(lambda: self.server.started or not self.thread.is_alive())
        if not self.server.started:
            raise RuntimeError("live server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings, services: Services) -> Iterator[LiveServer]:
    server = LiveServer(settings, services)
    server.start()
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last (in their order). One Chromium serves them all,
    driven by Playwright's sync API, and from the first browser test on that
    API holds an event loop in the main thread, where asyncio.run() would
    then fail for every test after it. (Imported by tests/conftest.py.)"""
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """One Chromium for the session: launching it (and Playwright's driver)
    for every test cost most of a second each."""
    from tests.conftest import need

    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def browser(chromium: Browser) -> Iterator[Browser]:
    """The session's Chromium, shared by nothing but the process: a test makes
    its own contexts (`new_context`, or `new_page`, which makes one), and
    every context it made is closed after it, cookies and pages with it."""
    assert not chromium.contexts, "a context outlived its test"
    yield chromium
    for context in chromium.contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, live_server: LiveServer, username: str, secret: str) -> None:
    from tests.conftest import PASSWORD, current_code

    page.goto(f"{live_server.url}/signin")
    # By the fields' names, so that a Danish (or any) page signs in too.
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=code]").fill(current_code(secret))
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/signin" not in url)


def assert_accessible(page) -> None:
    """axe-core's scan of the page as it stands finds nothing (DESIGN.md §
    Pages). axe-playwright-python evaluates the bundled axe-core through the
    driver, which the pages' CSP does not govern."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
