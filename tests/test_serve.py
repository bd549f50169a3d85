"""`hearing serve` as an operator runs it: a real process on a loopback port.

The sign-in rate limit is per client address, so whoever may say which
address a request came from decides the limit. Only a configured proxy hop
may (defect 5 of issue 10: uvicorn trusted any loopback peer's
X-Forwarded-For by default).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.browser import free_port
from tests.waiting import wait_until

LIMIT = 5
ATTEMPTS = 25
pytestmark = pytest.mark.sqlite_only


class Server:
    def __init__(self, tmp_path: Path, **settings: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "HEARING_DATA_DIR": str(tmp_path),
            "HEARING_PORT": str(self.port),
            "HEARING_SIGNIN_ATTEMPTS_PER_MINUTE": str(LIMIT),
            # Plain HTTP on loopback: the test client must get its cookies back.
            "HEARING_COOKIE_SECURE": "false",
            **{f"HEARING_{k.upper()}": v for k, v in settings.items()},
        }
        self.env.pop("HEARING_DATABASE_URL", None)
        self.env.pop("HEARING_CONFIG", None)
        hearing = [sys.executable, "-m", "hearing"]
        subprocess.run([*hearing, "keys", "init"], env=self.env, check=True, capture_output=True)  # noqa: S603
        subprocess.run([*hearing, "db", "upgrade"], env=self.env, check=True, capture_output=True)  # noqa: S603
        self.process = subprocess.Popen(  # noqa: S603
            [*hearing, "serve"], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        wait_until(self._up, describe=lambda: "hearing serve did not answer /healthz")

    def _up(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            assert self.process.poll() is None, "hearing serve exited"
            return False

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        # The source address is the socket's peer as the server sees it.
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=f"http://127.0.0.1:{self.port}", transport=transport, timeout=30)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[type[Server]]:
    servers: list[Server] = []

    def start(**settings: str) -> Server:
        server = Server(tmp_path / str(len(servers)), **settings)
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        server.stop()


def attempts(client: httpx.Client, forwarded_for: list[str | None]) -> list[int]:
    """Sign-in attempts for an unknown user, one per X-Forwarded-For value."""
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert token, page.text
    statuses = []
    for value in forwarded_for:
        headers = {"X-Forwarded-For": value} if value else {}
        fields = {"csrf_token": token.group(1), "username": "ghost", "password": "x" * 12, "code": "1"}
        statuses.append(client.post("/signin", data=fields, headers=headers).status_code)
    return statuses


def spoofed(count: int) -> list[str | None]:
    return [f"198.51.100.{i}" for i in range(1, count + 1)]


def test_a_forwarded_address_from_the_client_itself_does_not_escape_the_limit(serve: type[Server]) -> None:
    server = serve()
    with server.client() as client:
        statuses = attempts(client, spoofed(ATTEMPTS))
    assert statuses[:LIMIT] == [401] * LIMIT
    assert statuses[LIMIT:] == [429] * (ATTEMPTS - LIMIT)


def test_the_configured_proxy_hop_alone_may_name_the_client(serve: type[Server]) -> None:
    server = serve(trusted_proxies="127.0.0.2")
    # From the proxy: each forwarded address is its own client, and one
    # address is limited on its own.
    with server.client("127.0.0.2") as proxy:
        assert attempts(proxy, spoofed(ATTEMPTS)) == [401] * ATTEMPTS
        one = attempts(proxy, ["203.0.113.7"] * (LIMIT + 2))
        assert one == [401] * LIMIT + [429, 429]
    # From anywhere else on the machine the header is ignored.
    with server.client("127.0.0.1") as other:
        statuses = attempts(other, spoofed(ATTEMPTS))
    assert statuses[:LIMIT] == [401] * LIMIT and set(statuses[LIMIT:]) == {429}
