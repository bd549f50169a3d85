"""What the gateway's tests share: a remote party with a code, the gateway's
listeners (both apps in one TestClient, or both uvicorn servers on one loop
as `hearing serve` runs them), and the code step as a browser takes it."""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from hearing.actors import SYSTEM
from hearing.app import create_app, create_gateway_app
from hearing.cli.serve import listeners, serve_all
from hearing.config import Settings
from hearing.docket.parties import ParticipantRole
from hearing.interpreter import issuing
from hearing.services import Services
from hearing.web.routing import CookieNames
from tests.browser import free_port
from tests.conftest import CSRF_INPUT
from tests.waiting import wait_until

GATEWAY_HOST = "gateway.test"
GATEWAY = f"https://{GATEWAY_HOST}"
NAMES = CookieNames.for_scheme(secure=True)


def invite(
    services: Services,
    hearing_id: int,
    role: ParticipantRole = ParticipantRole.INTERPRETER,
    name: str = "Tolk Amira Haddad",
    language: str | None = "Arabic",
) -> tuple[int, issuing.Issued]:
    """A remote party on the hearing's docket and a code for them, as the
    clerk's page gives it (through the same services)."""

    def work(db: Any) -> tuple[int, issuing.Issued]:
        party = issuing.add_remote_party(db, SYSTEM, hearing_id, role, name, language=language)
        issued = issuing.issue_code(
            db, services.keys, SYSTEM, hearing_id, party.id, now=datetime.now(UTC), early_minutes=30
        )
        return party.id, issued

    return services.unit_of_work(work)


class BothListeners:
    """The internal app and the gateway in one ASGI app, by Host (the
    gateway's is `gateway.test`), for one TestClient: one event loop, as in
    `hearing serve`, so the live hearings they share are driven from one."""

    def __init__(self, internal: Starlette, gateway: Starlette) -> None:
        self.internal, self.gateway = internal, gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            async with (
                self.internal.router.lifespan_context(self.internal),
                self.gateway.router.lifespan_context(self.gateway),
            ):
                await send({"type": "lifespan.startup.complete"})
                await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").split(":")[0]
        app = self.gateway if host == GATEWAY_HOST else self.internal
        await app(scope, receive, send)


@pytest.fixture
def both(settings: Settings, services: Services) -> Iterator[TestClient]:
    """A browser's client for both listeners: `GATEWAY + path` reaches the
    gateway, a relative path the internal app."""
    internal = create_app(settings, services)
    gateway = create_gateway_app(settings, services, internal.state.live_hearings)
    app = BothListeners(internal, gateway)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        client.app_internal = internal  # type: ignore[attr-defined]
        client.app_gateway = gateway  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def gateway(settings: Settings, services: Services) -> Iterator[TestClient]:
    """The gateway alone, as a client outside sees it."""
    internal = create_app(settings, services)
    app = create_gateway_app(settings, services, internal.state.live_hearings)
    with TestClient(app, base_url=GATEWAY, follow_redirects=False) as client:
        yield client


def csrf_of(client: TestClient, url: str) -> str:
    page = client.get(url)
    match = CSRF_INPUT.search(page.text)
    assert match, f"no CSRF token on {url}: {page.status_code}"
    return match.group(1)


def submit_code(client: TestClient, invitation: str, code: str, *, base: str = GATEWAY, **headers: str) -> Any:
    token = csrf_of(client, f"{base}/join/{invitation}")
    return client.post(
        f"{base}/join", data={"csrf_token": token, "invitation": invitation, "code": code}, headers=headers
    )


def remote_cookie(response: Any, names: CookieNames = NAMES) -> str:
    match = re.search(rf"{re.escape(names.remote)}=([^;]+)", response.headers.get("set-cookie", ""))
    assert match, response.headers.get("set-cookie")
    return match.group(1)


class Listeners:
    """`hearing serve` with the gateway, for real clients: both uvicorn
    servers on one event loop, in a thread of their own, on free loopback
    ports (the gateway on `gateway_host`)."""

    def __init__(self, settings: Settings, services: Services, *, gateway_host: str = "127.0.0.1") -> None:
        self.settings = settings.replace(
            host="127.0.0.1",
            port=free_port(),
            gateway_host=gateway_host,
            gateway_port=free_port(),
            cookie_secure=False,
            base_url="",
            gateway_base_url="",
        )
        self.servers = listeners(self.settings, services, gateway=True)
        self.app = self.servers[0].config.app
        self.gateway_app = self.servers[1].config.app
        self.thread = threading.Thread(target=lambda: asyncio.run(serve_all(self.servers)), daemon=True)

    @property
    def url(self) -> str:
        return self.settings.base_url

    @property
    def gateway_url(self) -> str:
        return self.settings.gateway_base_url

    def start(self) -> None:
        self.thread.start()
        wait_until(lambda: all(s.started for s in self.servers) or not self.thread.is_alive())
        if not all(s.started for s in self.servers):
            raise RuntimeError("the listeners did not start")

    def stop(self) -> None:
        for s in self.servers:
            s.should_exit = True
        self.thread.join(timeout=15)

    def on_loop(self, call: Callable[[], Any]) -> Any:
        """Run `call` in the listeners' event loop (where the live hearings
        are driven), and wait for its result."""
        loop = self.servers[0].servers[0].get_loop()

        async def run() -> Any:
            result = call()
            return await result if inspect.isawaitable(result) else result

        return asyncio.run_coroutine_threadsafe(run(), loop).result(60)


@pytest.fixture
def gateway_listeners(settings: Settings, services: Services) -> Iterator[Listeners]:
    """`hearing serve` with the gateway; the gateway's media on 127.0.0.2, as
    a gateway's own interface would be."""
    server = Listeners(settings.replace(gateway_media_addresses="127.0.0.2"), services)
    server.start()
    yield server
    server.stop()
