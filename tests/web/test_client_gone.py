"""A client that declares a body and hangs up before sending it (issue 10,
defect 12) is an info line in the log, never an error with a traceback.
Against a real uvicorn on a loopback port, with a raw socket."""

from __future__ import annotations

import http.client
import logging
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from hearing.services import Services
from hearing.web.routing import CookieNames
from tests.browser import LiveServer
from tests.conftest import CSRF_INPUT, Court_, open_hearing, session_cookie
from tests.waiting import wait_until

pytestmark = pytest.mark.sqlite_only

# The live server serves plain HTTP: its cookies have plain names.
PLAIN = CookieNames.for_scheme(False)


class Records(logging.Handler):
    """Every record any logger emits while the test runs (the server's thread included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def requests(self, path: str) -> list[logging.LogRecord]:
        return [r for r in self.records if r.name == "hearing.access" and getattr(r, "path", None) == path]


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def hang_up(
    server: LiveServer, method: str, path: str, headers: dict[str, str], declared: int | None, sent: bytes
) -> None:
    """Send the request line, the headers (declaring `declared` bytes, or a
    chunked body) and only `sent` of the body, then close the connection."""
    address = urlsplit(server.url)
    length = f"Content-Length: {declared}" if declared is not None else "Transfer-Encoding: chunked"
    lines = [f"{method} {path} HTTP/1.1", f"Host: {address.netloc}", length]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + sent)
        sock.shutdown(socket.SHUT_WR)


def assert_only_info(records: Records, path: str) -> None:
    wait_until(lambda: records.requests(path), describe=lambda: [r.getMessage() for r in records.records])
    loud = [r for r in records.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not loud, [(r.name, r.levelname, r.getMessage()) for r in loud]
    gone = [r for r in records.records if r.name == "hearing.web.middleware" and "went away" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.INFO
    assert getattr(gone[0], "path", None) == path
    assert [getattr(r, "status", None) for r in records.requests(path)] == [499]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("path", ["/signin", "/language", "/device/enroll"])
def test_a_form_whose_client_hangs_up_is_an_info_line(live_server: LiveServer, records: Records, path: str) -> None:
    hang_up(live_server, "POST", path, FORM, declared=1000, sent=b"username=judge&pass")
    assert_only_info(records, path)


def test_a_multipart_form_whose_client_hangs_up_is_an_info_line(live_server: LiveServer, records: Records) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    hang_up(live_server, "POST", "/language", headers, declared=5000, sent=b"--xyz\r\nContent-Disposition: form-da")
    assert_only_info(records, "/language")


def _panel_credentials(server: LiveServer, session: str, page: str) -> tuple[str, str]:
    """The cookies and the CSRF token a signed-in judge's page hands its panel."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
    try:
        connection.request("GET", page, headers={"Cookie": f"{PLAIN.session}={session}"})
        response = connection.getresponse()
        cookies = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
        match = CSRF_INPUT.search(response.read().decode())
    finally:
        connection.close()
    assert match, "no CSRF token on the hearing page"
    return "; ".join([f"{PLAIN.session}={session}", *cookies]), match.group(1)


def test_a_chunked_body_whose_client_hangs_up_is_an_info_line(live_server: LiveServer, records: Records) -> None:
    hang_up(live_server, "POST", "/language", FORM, declared=None, sent=b"400\r\nlang=da&next=%2F")
    assert_only_info(records, "/language")


def test_a_streamed_command_whose_client_hangs_up_is_an_info_line(
    live_server: LiveServer, records: Records, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    session = session_cookie(services, court.users["judge"])
    cookies, token = _panel_credentials(live_server, session, f"/hearings/{court.hearing_a}")
    path = f"/hearings/{court.hearing_a}/floor"
    headers = {"Content-Type": "application/json", "Cookie": cookies, "X-CSRF-Token": token}
    hang_up(live_server, "POST", path, headers, declared=1500, sent=b'{"action": "mu')
    assert_only_info(records, path)
