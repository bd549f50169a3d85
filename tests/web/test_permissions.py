"""Every route, for every role and for anonymous callers, against the table
in hearing/auth/permissions.py. A new route is covered the moment it exists."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.actors import SYSTEM
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.auth.permissions import ROLE_PERMISSIONS, Permission
from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.docket.parties import EndpointKind, ParticipantRole
from hearing.interpreter import admission, issuing, register
from hearing.services import Services
from hearing.web.ratelimit import SlidingWindow
from hearing.web.routing import Audience, GuardedRoute, GuardedWebSocketRoute
from tests.conftest import Court_, csrf_token, enroll_device, login_as, open_hearing

CALLERS = ["anonymous", *[r.value for r in Role], "courtroom_device", "custody_device"]
AUTH_CODES = {"not_authenticated", "permission_denied", "device_not_authorised"}


# Device routes for some kinds of device only (the rest are refused, 403).
DEVICE_KINDS_ONLY = {"/device/test-call": {"custody_device"}}  # issue 11: custody and booth kiosks


def app_routes(client: TestClient) -> Iterator[tuple[GuardedRoute, str]]:
    for route in client.app.routes:
        if isinstance(route, Mount | GuardedWebSocketRoute):
            continue  # static files; sockets have their own walk below
        assert isinstance(route, GuardedRoute), f"{route} is not built with hearing.web.routing.route()"
        for method in sorted(route.methods or []):
            if method != "HEAD":
                yield route, method


def site_a_devices(services: Services) -> dict[str, str]:
    """Tokens of a courtroom rig in Room A and a custody endpoint in Facility A."""
    return {
        "courtroom_device": enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token,
        "custody_device": enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token,
    }


def expected(route: GuardedRoute, caller: str) -> str:
    audience, permission = route.audience, route.permission
    if audience is Audience.PUBLIC:
        return "same for everyone"
    if audience is Audience.DEVICE:
        if route.path in DEVICE_KINDS_ONLY and caller.endswith("_device"):
            return "allowed" if caller in DEVICE_KINDS_ONLY[route.path] else "permission_denied"
        return "allowed" if caller.endswith("_device") else "device_not_authorised"
    if caller == "anonymous" or caller.endswith("_device"):
        return "not_authenticated"
    if permission is None or permission in ROLE_PERMISSIONS[Role(caller)]:
        return "allowed"
    return "permission_denied"


@pytest.mark.sqlite_only
def test_every_route_declares_its_audience(client: TestClient) -> None:
    for route, _ in app_routes(client):
        assert isinstance(route.audience, Audience), route.path


@pytest.mark.sqlite_only
def test_every_permission_is_used_or_reserved(client: TestClient) -> None:
    used = {r.permission for r, _ in app_routes(client)}
    # Permissions whose pages arrive with later issues are listed here on purpose.
    reserved = {Permission.MANAGE_USERS, Permission.MANAGE_DEVICES}
    assert set(Permission) - used <= reserved


def test_route_by_role_matrix(client: TestClient, services: Services, court: Court_) -> None:
    creds = site_a_devices(services)
    # Something in the audit log, so that the auditor's pages have rows to render.
    services.unit_of_work(lambda db: append(db, SYSTEM, Action.HEARING_OPENED, hearing_id=court.hearing_a))
    # issue 14: no recording exists; the route's guard answers before its lookup does.
    ids = {**remote_ids(services, court), "recording_id": 1}
    failures = []
    checked = 0
    for route, method in app_routes(client):
        path = route.path.replace("{hearing_id:id}", str(court.hearing_a))
        for name, value in ids.items():
            path = path.replace(f"{{{name}:id}}", str(value))
        public_outcomes = set()
        for caller in CALLERS:
            client.cookies.clear()
            # The guessing limiter is tested on its own; here it would only count.
            client.app.state.guess_limiter = SlidingWindow(1000)
            headers = {}
            if caller in Role._value2member_map_:
                login_as(client, services, court.users[caller])
            elif caller.endswith("_device"):
                headers["Authorization"] = f"Device {creds[caller]}"
            data = None
            if method == "POST":  # forms send the token as a field, the panel's commands as a header
                data = {"csrf_token": csrf_token(client)}
                headers["X-CSRF-Token"] = data["csrf_token"]
            response = client.request(method, path, data=data, headers=headers)
            want = expected(route, caller)
            got = _outcome(response)
            checked += 1
            if want == "same for everyone":
                # A public route treats every caller alike (a bad enrollment
                # code is refused the same way for a judge as for anyone).
                public_outcomes.add((response.status_code, got))
                if len(public_outcomes) > 1 or got.startswith("server error"):
                    failures.append(f"{method} {path} as {caller}: {sorted(public_outcomes)}")
            elif got != want:
                failures.append(f"{method} {path} as {caller}: expected {want}, got {got} ({response.status_code})")
    assert not failures, "\n".join(failures)
    assert checked >= 13 * len(CALLERS)


def remote_ids(services: Services, court: Court_) -> dict[str, int]:
    """issue 12, pages: a remote party of hearing A with a code, and an
    interpreter on the register, for the clerk's routes that name them."""

    def add(db: Session) -> dict[str, int]:
        party = issuing.add_remote_party(db, SYSTEM, court.hearing_a, ParticipantRole.WITNESS, "Vidne")
        issuing.issue_code(db, services.keys, SYSTEM, court.hearing_a, party.id, now=utcnow(), early_minutes=30)
        entry = register.register(db, SYSTEM, name="Tolk", languages="arabisk", now=utcnow())
        return {"participant_id": party.id, "interpreter_id": entry.id}

    return services.unit_of_work(add)


def _outcome(response) -> str:
    if response.status_code == 303 and response.headers["location"].startswith("/signin?next="):
        return "not_authenticated"
    if response.status_code in (401, 403):
        for code in AUTH_CODES:
            if code in response.text:
                return code
        return f"other {response.status_code}"
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    return "allowed"


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/", "/signin?next=%2F"),
        ("/hearings?day=2026-11-23", "/signin?next=%2Fhearings%3Fday%3D2026-11-23"),
        ("/hearings/1", "/signin?next=%2Fhearings%2F1"),
    ],
)
def test_pages_send_anonymous_visitors_to_sign_in(client: TestClient, path: str, location: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == location


def test_every_socket_admits_exactly_whom_it_says(client: TestClient, services: Services, court: Court_) -> None:
    """The media socket: the hearing's judge and the devices at its sites.
    The panel's feed: staff who may see the hearing."""
    tokens = site_a_devices(services)
    open_hearing(services, court.hearing_a)
    expected = {
        Audience.PARTICIPANT: {
            "anonymous": "not_authenticated",
            "judge": "welcome",
            "clerk": "permission_denied",
            "custody_officer": "permission_denied",
            "auditor": "permission_denied",
            "admin": "permission_denied",
            "courtroom_device": "welcome",
            "custody_device": "welcome",
        },
        Audience.STAFF: {
            "anonymous": "not_authenticated",
            "judge": "snapshot",
            "clerk": "snapshot",
            "custody_officer": "snapshot",
            "auditor": "permission_denied",
            "admin": "permission_denied",
            "courtroom_device": "not_authenticated",
            "custody_device": "not_authenticated",
        },
        # The kiosk's own socket: an enrolled device only, whatever the staff role.
        Audience.DEVICE: {
            "anonymous": "device_not_authorised",
            "judge": "device_not_authorised",
            "clerk": "device_not_authorised",
            "custody_officer": "device_not_authorised",
            "auditor": "device_not_authorised",
            "admin": "device_not_authorised",
            "courtroom_device": "welcome",
            "custody_device": "welcome",
        },
    }
    # The test call: the custody and booth kiosks (issue 11), not the rig.
    by_name = {"test_call_socket": {**expected[Audience.DEVICE], "courtroom_device": "permission_denied"}}
    sockets = [r for r in client.app.routes if isinstance(r, GuardedWebSocketRoute)]
    assert {s.name for s in sockets} == {"media_socket", "panel_socket", "kiosk_socket", "test_call_socket"}
    for socket in sockets:
        path = socket.path.replace("{hearing_id:id}", str(court.hearing_a))
        for caller, outcome in by_name.get(socket.name, expected[socket.audience]).items():
            client.cookies.clear()
            headers = {}
            if caller in Role._value2member_map_:
                login_as(client, services, court.users[caller])
            elif caller in tokens:
                headers["Authorization"] = f"Device {tokens[caller]}"
            with client.websocket_connect(path, headers=headers) as ws:
                first = ws.receive_json()
                if first["type"] == "welcome":
                    ws.send_json({"type": "leave"})
            got = first.get("error", first["type"])
            assert got == outcome, (socket.path, caller)


# --- issue 12, gateway: the remote audience ------------------------------------------------


def test_gateway_routes_by_caller(settings, services: Services, court: Court_) -> None:  # type: ignore[no-untyped-def]
    """Every route of the external gateway, for anonymous callers, a remote
    party's session, each staff role and each device kind: a REMOTE route
    admits the remote session only (no staff session or device token opens
    it); a PUBLIC one treats everyone alike."""
    from hearing.actors import SYSTEM as OPERATOR
    from hearing.app import create_gateway_app
    from hearing.docket.parties import ParticipantRole
    from hearing.interpreter import issuing
    from hearing.live.registry import LiveHearings
    from hearing.web.routing import CookieNames

    def invite(db):  # type: ignore[no-untyped-def]
        party = issuing.add_remote_party(
            db, OPERATOR, court.hearing_a, ParticipantRole.INTERPRETER, "Tolk", language="ar"
        )
        issued = issuing.issue_code(
            db, services.keys, OPERATOR, court.hearing_a, party.id, now=utcnow(), early_minutes=30
        )
        return admission.redeem(db, services.keys, issued.invitation, issued.code, now=utcnow()).token

    token = services.unit_of_work(invite)
    creds = site_a_devices(services)
    app = create_gateway_app(settings, services, LiveHearings())
    callers = [*CALLERS, "remote"]
    failures = []
    with TestClient(app, base_url="https://gateway.test", follow_redirects=False) as gateway:
        routes = [r for r in gateway.app.routes if isinstance(r, GuardedRoute)]
        assert {r.audience for r in routes} == {Audience.PUBLIC, Audience.REMOTE}
        for route in routes:
            for method in sorted(m for m in route.methods or () if m != "HEAD"):
                path = route.path.replace("{invitation}", "abcdefghjk")
                public_outcomes = set()
                for caller in callers:
                    gateway.cookies.clear()
                    app.state.attempts_per_source = SlidingWindow(1000)
                    headers = {"Accept": "application/json"}
                    if caller in Role._value2member_map_:
                        login_as(gateway, services, court.users[caller])
                    elif caller.endswith("_device"):
                        headers["Authorization"] = f"Device {creds[caller]}"
                    elif caller == "remote":
                        gateway.cookies.set(CookieNames.for_scheme(True).remote, token)
                    response = gateway.request(method, path, headers=headers)
                    outcome = (
                        response.json().get("error", "allowed")
                        if response.headers.get("content-type", "").startswith("application/json")
                        else ("allowed" if response.status_code < 400 else "other")
                    )
                    if response.status_code >= 500:
                        failures.append(f"{method} {path} as {caller}: {response.status_code}")
                    elif route.audience is Audience.REMOTE:
                        want = "allowed" if caller == "remote" else "not_authenticated"
                        if outcome != want:
                            failures.append(f"{method} {path} as {caller}: expected {want}, got {outcome}")
                    elif caller != "remote":
                        public_outcomes.add((response.status_code, outcome))
                if len(public_outcomes) > 1:
                    failures.append(f"{method} {path}: {sorted(public_outcomes)}")
    assert not failures, "\n".join(failures)


def test_the_remote_socket_admits_the_remote_session_only(settings, services: Services, court: Court_) -> None:  # type: ignore[no-untyped-def]
    from hearing.actors import SYSTEM as OPERATOR
    from hearing.app import create_gateway_app
    from hearing.docket.parties import ParticipantRole
    from hearing.interpreter import issuing
    from hearing.live.registry import LiveHearings
    from hearing.web.routing import CookieNames

    open_hearing(services, court.hearing_a)

    def invite(db):  # type: ignore[no-untyped-def]
        party = issuing.add_remote_party(
            db, OPERATOR, court.hearing_a, ParticipantRole.INTERPRETER, "Tolk", language="ar"
        )
        issued = issuing.issue_code(
            db, services.keys, OPERATOR, court.hearing_a, party.id, now=utcnow(), early_minutes=30
        )
        return admission.redeem(db, services.keys, issued.invitation, issued.code, now=utcnow()).token

    token = services.unit_of_work(invite)
    creds = site_a_devices(services)
    app = create_gateway_app(settings, services, LiveHearings())
    sockets = [r for r in app.routes if isinstance(r, GuardedWebSocketRoute)]
    assert [(s.name, s.audience) for s in sockets] == [("remote_media_socket", Audience.REMOTE)]
    with TestClient(app, base_url="https://gateway.test") as gateway:
        for caller in [*CALLERS, "remote"]:
            gateway.cookies.clear()
            headers = {}
            if caller in Role._value2member_map_:
                login_as(gateway, services, court.users[caller])
            elif caller.endswith("_device"):
                headers["Authorization"] = f"Device {creds[caller]}"
            elif caller == "remote":
                gateway.cookies.set(CookieNames.for_scheme(True).remote, token)
            with gateway.websocket_connect("wss://gateway.test/ws/remote/media", headers=headers) as ws:
                first = ws.receive_json()
                if first["type"] == "welcome":
                    ws.send_json({"type": "leave"})
                    with pytest.raises(WebSocketDisconnect):
                        while True:
                            ws.receive_json()
            got = first.get("error", first["type"])
            assert got == ("welcome" if caller == "remote" else "not_authenticated"), caller
