"""The external gateway serves nothing but the remote party's pages.

The route walk: every route of the internal app (each path with sample
values, every method, HTTP and WebSocket, with a judge's session and a
device's token presented too) answers a plain 404 on the gateway, with the
security headers; the gateway's own routes are what it serves, and none of
them is on the internal app (its static files aside: the internal app
serves its whole static directory, the gateway four files of it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.routing import BaseRoute, Mount
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from hearing.app import STATIC_DIR, create_app, create_gateway_app, gateway_routes
from hearing.config import Settings
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from hearing.web import remote
from hearing.web.routing import Audience, GuardedRoute, GuardedWebSocketRoute
from tests.conftest import Court_, enroll_device, login_as, open_hearing
from tests.web import remote_support
from tests.web.remote_support import GATEWAY

pytestmark = pytest.mark.sqlite_only
gateway = remote_support.gateway  # the fixture: the gateway alone

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
# What the gateway serves, by (path, method): the walk below checks it is
# exactly this, so a route added to the gateway is a decision, seen here.
GATEWAY_SERVES = {
    ("/join", "GET"),
    ("/join", "POST"),
    ("/join/verify", "GET"),
    ("/join/verify", "POST"),
    ("/join/{invitation}", "GET"),
    ("/remote", "GET"),
    ("/remote/language", "POST"),
    *((f"/static/{name}", "GET") for name in ("remote.js", "media_link.js", "style.css", "favicon.svg")),
}
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


def sample(path: str, hearing_id: int) -> str:
    """A route's path with every parameter filled: ids with a real hearing's."""
    return PARAM.sub(lambda m: str(hearing_id) if m.group(2) == "id" else "sample", path)


def internal_paths(app_routes: list[BaseRoute], hearing_id: int) -> Iterator[tuple[str, str]]:
    """(kind, path) for every route of the internal app; the static mount by
    every file of the directory the gateway does not serve, and one that
    does not exist."""
    for route in app_routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
            for file in sorted(STATIC_DIR.iterdir()):
                if file.name not in remote.STATIC_FILES:
                    yield "http", f"/static/{file.name}"
            yield "http", "/static/nothing-here.js"
        elif isinstance(route, GuardedWebSocketRoute):
            yield "websocket", sample(route.path, hearing_id)
        else:
            assert isinstance(route, GuardedRoute), route
            yield "http", sample(route.path, hearing_id)


def assert_plain_404(response, what: str, *, headers: bool = True) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 404, (what, response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("text/plain"), what
    assert response.text == ("" if what.startswith("HEAD ") else "Not Found"), what
    # A socket's refused handshake is no page: the headers are for HTTP answers.
    for header in SECURITY_HEADERS if headers else ():
        assert header in response.headers, (what, header)


def test_every_internal_route_is_a_404_on_the_gateway(
    client: TestClient, gateway: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    token = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    login_as(client, services, court.users["judge"])
    # The judge's session and the device's token go along: neither opens anything there.
    for name, value in client.cookies.items():
        gateway.cookies.set(name, value)
    headers = {"Authorization": f"Device {token}", "X-CSRF-Token": "x" * 64}
    walked = {"http": 0, "websocket": 0}
    for kind, path in internal_paths(list(client.app.routes), court.hearing_a):
        walked[kind] += 1
        if kind == "websocket":
            with pytest.raises(WebSocketDenialResponse) as refused:
                with gateway.websocket_connect(path, headers=headers):
                    pass  # pragma: no cover - the handshake is refused
            assert_plain_404(refused.value, f"WS {path}", headers=False)
            continue
        for method in METHODS:
            response = gateway.request(method, path, headers=headers, data={"csrf_token": "x" * 64})
            assert_plain_404(response, f"{method} {path}")
    assert walked["websocket"] >= 4 and walked["http"] >= 30, walked


def test_the_gateway_serves_exactly_its_own_routes(gateway: TestClient) -> None:
    served = set()
    for route in gateway.app.routes:
        assert isinstance(route, GuardedRoute | GuardedWebSocketRoute), f"{route} is not built with route()"
        if isinstance(route, GuardedWebSocketRoute):
            assert (route.path, route.audience) == ("/ws/remote/media", Audience.REMOTE)
            continue
        assert route.audience in (Audience.PUBLIC, Audience.REMOTE), route.path
        served |= {(route.path, m) for m in route.methods or () if m != "HEAD"}
    assert served == GATEWAY_SERVES
    # The static files: the four on the list, with their types, and not one more.
    for name in remote.STATIC_FILES:
        response = gateway.get(f"/static/{name}")
        assert response.status_code == 200 and response.content == (STATIC_DIR / name).read_bytes(), name
    assert gateway.get("/static/remote.js").headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/", "/static", "/staticremote.js"):
        assert_plain_404(gateway.get(path), path)


def test_a_method_a_gateway_route_does_not_take_is_a_404_too(gateway: TestClient) -> None:
    for path in ("/join", "/remote", "/join/verify", "/remote/language", "/static/remote.js"):
        for method in ("PUT", "PATCH", "DELETE", "OPTIONS"):
            assert_plain_404(gateway.request(method, path), f"{method} {path}")
    assert_plain_404(gateway.post("/static/remote.js"), "POST /static/remote.js")
    assert_plain_404(gateway.get("/nowhere", headers={"Accept": "application/json"}), "JSON client")


def test_the_gateways_routes_are_not_on_the_internal_app(client: TestClient, court: Court_) -> None:
    """The choice: the remote party's pages and socket exist at the gateway
    only (the internal app serves its static directory whole, the gateway's
    four files included; and both apps answer their own 404 for the rest)."""
    for route in gateway_routes():
        path = route.path.replace("{invitation}", "abcdefghjk")
        if path.startswith("/static/"):
            assert client.get(path).status_code == 200
            continue
        if isinstance(route, GuardedWebSocketRoute):
            with pytest.raises(WebSocketDisconnect):
                with client.websocket_connect(path) as ws:
                    ws.receive_json()
            continue
        for method in route.methods or ():
            response = client.request(method, path, headers={"Accept": "application/json"})
            assert response.status_code in (404, 405), (method, path, response.status_code)


def test_unknown_sockets_on_the_gateway_are_refused_with_a_404(gateway: TestClient) -> None:
    for path in ("/ws/nowhere", "/join", "/ws/remote/media/extra"):
        with pytest.raises(WebSocketDenialResponse) as refused:
            with gateway.websocket_connect(path):
                pass  # pragma: no cover
        assert refused.value.status_code == 404, path


def test_the_gateway_app_shares_the_internal_apps_live_hearings(settings: Settings, services: Services) -> None:
    internal = create_app(settings, services)
    outside = create_gateway_app(settings, services, internal.state.live_hearings)
    assert outside.state.live_hearings is internal.state.live_hearings
    assert outside.state.services is internal.state.services
    # Its own limits and its own watch: a flood at the gateway is counted there.
    assert outside.state.connection_limiter is not internal.state.connection_limiter
    assert outside.state.socket_watch is not internal.state.socket_watch
    assert outside.state.gateway_media_addresses == settings.gateway_media_address_list


def test_a_gateway_join_page_has_the_security_headers(gateway: TestClient) -> None:
    page = gateway.get("/join")
    assert page.status_code == 200
    for header in SECURITY_HEADERS:
        assert header in page.headers
    assert page.headers["cache-control"] == "no-store"
    assert "/static/language.js" not in page.text and "/signin" not in page.text
    assert 'href="/static/style.css"' in page.text
    assert GATEWAY.startswith("https://")
