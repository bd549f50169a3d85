"""Client mistakes at the edges of every number, day and text the routes
read (issue 10, defects 7, 8 and 9): each is a clear refusal with its field,
never a 500, and changes nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from starlette.routing import Mount
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.auth.permissions import ROLE_PERMISSIONS
from hearing.auth.roles import Role
from hearing.config import Settings
from hearing.db.models import AuditEntry, Hearing, Participant
from hearing.docket import booking
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import EndpointKind
from hearing.errors import ConfigurationError
from hearing.services import Services
from hearing.web.routing import Audience, CookieNames, GuardedRoute, GuardedWebSocketRoute
from tests.conftest import Court_, csrf_token, enroll_device, login_as, open_hearing, session_cookie
from tests.web.test_hearings import booking_form

CPH = ZoneInfo("Europe/Copenhagen")
# Above 2^63-1 (what the database drivers take), and the first id the path refuses.
# 2^31 and past: the first id PostgreSQL's 32-bit `integer` columns cannot hold.
HUGE_IDS = [str(2**31), "3000000000", str(2**63), str(2**64 + 1), "9" * 19, "1" * 40]


def counts(services: Services) -> tuple[int, int, int]:
    def load(db) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
        return tuple(db.scalar(select(func.count()).select_from(m)) for m in (Hearing, Participant, AuditEntry))

    return services.unit_of_work(load)


def _http_routes(client: TestClient) -> list[GuardedRoute]:
    return [r for r in client.app.routes if isinstance(r, GuardedRoute)]


@pytest.mark.sqlite_only
def test_no_route_reads_an_unbounded_int_from_its_path(client: TestClient) -> None:
    paths = [r.path for r in client.app.routes if not isinstance(r, Mount)]
    assert not [p for p in paths if ":int}" in p]
    # Every path parameter has a convertor that bounds it.
    for path in paths:
        for name, kind in re.findall(r"{(\w+)(?::(\w+))?}", path):
            assert kind == "id", (path, name)


def _caller(route: GuardedRoute) -> str:
    """Someone the route admits, so that the handler itself would see the id."""
    if route.audience is Audience.DEVICE:
        return "device"
    if route.permission is None:
        return "clerk"
    return next(r.value for r in Role if route.permission in ROLE_PERMISSIONS[r])


def test_an_id_beyond_the_database_integer_is_a_plain_404(
    client: TestClient, services: Services, court: Court_
) -> None:
    device = enroll_device(services, "rig-a", EndpointKind.COURTROOM, "Room A").token
    open_hearing(services, court.hearing_a)
    sessions = {role.value: session_cookie(services, court.users[role.value]) for role in Role}
    before = counts(services)
    checked = 0
    for route in _http_routes(client):
        if "{hearing_id" not in route.path:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            for huge in HUGE_IDS:
                client.cookies.clear()
                caller = _caller(route)
                headers = {"Accept": "application/json"}
                if caller == "device":
                    headers["Authorization"] = f"Device {device}"
                else:
                    client.cookies.set(CookieNames.for_scheme(True).session, sessions[caller])
                data = None
                if method == "POST":
                    token = csrf_token(client, "/hearings")
                    data, headers["X-CSRF-Token"] = {"csrf_token": token, "action": "open"}, token
                path = re.sub(r"{hearing_id(:\w+)?}", huge, route.path)
                response = client.request(method, path, data=data, headers=headers)
                assert response.status_code == 404, (method, path, response.status_code)
                assert response.json()["error"] == "not_found"
                checked += 1
    assert checked >= 6 * len(HUGE_IDS)
    assert counts(services) == before


def test_a_socket_with_a_huge_id_is_closed_not_a_fault(client: TestClient, services: Services, court: Court_) -> None:
    # The hearings' sockets (the test call's names no hearing).
    sockets = [r for r in client.app.routes if isinstance(r, GuardedWebSocketRoute) and "{hearing_id" in r.path]
    assert len(sockets) >= 2
    login_as(client, services, court.users["judge"])
    for socket in sockets:
        if "{hearing_id" not in socket.path:
            continue  # the kiosk's socket takes no id
        path = re.sub(r"{hearing_id(:\w+)?}", str(2**63), socket.path)
        with pytest.raises(WebSocketDisconnect), client.websocket_connect(path) as ws:
            ws.receive_json()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2300-01-01"])
def test_a_docket_day_outside_the_calendar_window_is_refused(
    client: TestClient, services: Services, court: Court_, day: str
) -> None:
    login_as(client, services, court.users["clerk"])
    response = client.get(f"/hearings?day={day}", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_input"
    assert "day" in response.json()["message"].lower()


def test_docket_days_inside_the_window_are_served(client: TestClient, services: Services, court: Court_) -> None:
    login_as(client, services, court.users["clerk"])
    for day in ("2000-01-01", "2016-03-01", "2199-12-31"):
        assert client.get(f"/hearings?day={day}").status_code == 200, day


def _book(client: TestClient, court: Court_, **overrides: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/hearings/new"), **booking_form(court, **overrides)}
    return client.post("/hearings", data=data)


def _local(moment: datetime) -> str:
    return moment.astimezone(CPH).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minutes", "²"),
        ("minutes", "³"),
        ("minutes", "٣٠"),  # Arabic-Indic thirty: int() would take it
        ("minutes", "３０"),  # fullwidth
        ("minutes", "3_0"),
        ("minutes", "+30"),
        ("courtroom_id", "²"),
        ("facility_id", "³"),
        ("courtroom_id", "1" * 9),
    ],
)
def test_numbers_are_ascii_digits_only(
    client: TestClient, services: Services, court: Court_, field: str, value: str
) -> None:
    login_as(client, services, court.users["clerk"])
    before = counts(services)
    response = _book(client, court, **{field: value})
    assert response.status_code in (400, 404), response.status_code
    if response.status_code == 400:
        assert "must be a number" in response.text.lower()
    assert counts(services) == before


@pytest.mark.parametrize(
    "start",
    [
        "9999-12-31T23:59",
        "0001-01-01T00:00",
        "1970-01-01T00:00",
        "2000-01-01T09:00",
        "9999-12-31T23:59+14:00",
        "0001-01-01T00:00-12:00",
    ],
)
def test_a_booking_at_the_calendars_edges_is_refused(
    client: TestClient, services: Services, court: Court_, start: str
) -> None:
    login_as(client, services, court.users["clerk"])
    before = counts(services)
    response = _book(client, court, start=start)
    assert response.status_code == 400, response.status_code
    assert "start" in response.text.lower()
    assert counts(services) == before


def test_a_booking_in_the_past_or_too_far_ahead_is_refused(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["clerk"])
    open_hearing(services, court.hearing_a, HearingState.CLOSED)  # the seeded one is out of the way
    now = datetime.now(CPH)
    before = counts(services)
    for moment in (now - timedelta(minutes=30), now - timedelta(days=1), now + timedelta(days=3 * 366)):
        response = _book(client, court, start=_local(moment))
        assert response.status_code == 400, moment
        assert "start" in response.text.lower()
    assert counts(services) == before
    # A clerk booking "now" is given a few minutes, and a year ahead is fine.
    assert _book(client, court, start=_local(now - timedelta(minutes=2))).status_code == 303
    later = _book(client, court, start=_local(now + timedelta(days=365)), case_number="SS 2-4712/2026")
    assert later.status_code == 303


LYING_TEXT = [
    "Jens \u202eneshnaH",  # right-to-left override: shown reversed
    "Jens\u2066Hansen\u2069",  # isolates
    "Jens\u200fHansen",  # right-to-left mark
    "Jens\u2028Hansen",  # line separator
    "Jens\u2029Hansen",  # paragraph separator
    "Jens\x7fHansen",  # DEL
    "Jens\x85Hansen",  # NEL
    "\ufeffJens Hansen",  # BOM
    "Jens\u200bHansen",  # zero-width space
    "Jens\u00adHansen",  # soft hyphen
    "Jens\ue000Hansen",  # private use
    "Jens\tHansen",
    "J" + "\u0301" * 12 + "ens",  # a tower of accents
]


@pytest.mark.parametrize("field", ["detainee_name", "prosecutor", "defence_counsel", "detainee_reference"])
@pytest.mark.parametrize("text", LYING_TEXT, ids=[f"{t[:12]!a}" for t in LYING_TEXT])
def test_booking_text_that_would_lie_on_screen_is_refused(
    client: TestClient, services: Services, court: Court_, field: str, text: str
) -> None:
    login_as(client, services, court.users["clerk"])
    before = counts(services)
    response = _book(client, court, **{field: text})
    assert response.status_code == 400
    assert counts(services) == before


def test_booking_text_is_stored_in_nfc_and_danish_letters_are_kept(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["clerk"])
    # "Åse Ærø Søndergård" with the Å and the å typed as A and a + ring above.
    typed = "A\u030ase Ærø Sønderga\u030ard"
    response = _book(client, court, detainee_name=typed, defence_counsel="Advokat Øster-Bæk")
    assert response.status_code == 303
    hearing_id = int(response.headers["location"].rsplit("/", 1)[1])
    stored = services.unit_of_work(lambda db: db.get_one(Hearing, hearing_id).detainee_name)
    assert stored == "Åse Ærø Søndergård" and len(stored) == 18


def test_booking_text_length_is_counted_in_characters_after_nfc(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["clerk"])
    # 200 characters once composed (400 code points as typed) is within the limit.
    assert _book(client, court, detainee_name="a\u030a" * 200).status_code == 303
    assert _book(client, court, detainee_name="å" * 201, case_number="SS 2-4712/2026").status_code == 400


def test_the_booking_horizon_is_a_setting_with_the_services_default() -> None:
    assert timedelta(days=Settings().booking_horizon_days) == booking.DEFAULT_HORIZON
    for days in (0, -1, 10 * 366):
        with pytest.raises(ConfigurationError):
            Settings(booking_horizon_days=days)
