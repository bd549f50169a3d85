"""The remote party at the gateway: the code step, the authenticator step,
the session it opens, the page, and the seat's socket (lobby, admission,
requests, reconnecting with the session, the end).

Each failure is the one generic message, in the page's language or as JSON;
failures against unknown invitations are counted and appended once per
window; the gateway rate-limits per source and in all."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hearing.actors import SYSTEM
from hearing.db.models import Hearing, OneTimeCode, RemoteSession
from hearing.docket.lifecycle import HearingState
from hearing.errors import CodeRejected
from hearing.interpreter import issuing, register
from hearing.services import Services
from hearing.web.ratelimit import SlidingWindow
from hearing.web.routing import CookieNames
from tests.conftest import Court_, csrf_token, logged, login_as, open_hearing, post_floor_command
from tests.web import remote_support
from tests.web.remote_support import GATEWAY, NAMES, csrf_of, invite, remote_cookie, submit_code

pytestmark = pytest.mark.sqlite_only
# The fixtures: the gateway alone, and both listeners in one client.
gateway = remote_support.gateway
both = remote_support.both

REMOTE_SOCKET = "wss://gateway.test/ws/remote/media"
DANISH = "Koden kunne ikke bruges."
ENGLISH = "The code could not be used."


def failed_attempts(services: Services, invitation: str) -> int:
    return services.unit_of_work(
        lambda db: db.scalars(select(OneTimeCode.failed_attempts).where(OneTimeCode.invitation == invitation)).one()
    )


def actions(services: Services) -> list[str]:
    return [e.action for e in logged(services)]


# --- the join page and the code step ----------------------------------------------------


def test_the_invitations_link_fills_in_the_invitation(gateway: TestClient) -> None:
    page = gateway.get("/join/abcdefghjk")
    assert page.status_code == 200
    assert 'name="invitation" value="abcdefghjk"' in page.text
    # Anything that is not an invitation is not repeated back.
    for junk in ("not-an-invitation", "%3Cscript%3E", "ABCDEFGHJK0", "x" * 300):
        page = gateway.get(f"/join/{junk}")
        assert page.status_code == 200 and 'name="invitation" value=""' in page.text, junk
    # Upper case as read from paper is the same invitation.
    assert 'value="abcdefghjk"' in gateway.get("/join/ABCDEFGHJK").text


@pytest.mark.parametrize(("lang", "title"), [("da", "Deltag i et retsmøde"), ("en", "Join a court hearing")])
def test_the_join_page_speaks_danish_and_english(gateway: TestClient, lang: str, title: str) -> None:
    gateway.cookies.set(NAMES.language, lang)
    page = gateway.get("/join")
    assert f'<html lang="{lang}">' in page.text and title in page.text
    assert 'action="/remote/language"' in page.text and 'action="/join"' in page.text


def test_a_right_code_opens_a_session_and_the_page(both: TestClient, services: Services, court: Court_) -> None:
    participant_id, issued = invite(services, court.hearing_a)
    response = submit_code(both, issued.invitation, f"{issued.code[:4]} {issued.code[4:]}")
    assert (response.status_code, response.headers["location"]) == (303, "/remote")
    cookie = response.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert attribute in cookie
    assert f"{NAMES.remote}=" in cookie and f"{NAMES.remote_csrf}=" in cookie
    page = both.get(f"{GATEWAY}/remote")
    assert page.status_code == 200
    assert 'data-seat="interpreter-' in page.text and "Tolk Amira Haddad" in page.text
    assert '<script type="module" src="/static/remote.js">' in page.text
    used = [e for e in logged(services) if e.action == "remote.code_used"]
    assert len(used) == 1 and (used[0].actor_kind, used[0].actor_id) == ("remote", participant_id)
    token = remote_cookie(response)
    # Nothing of the token or the code is in the log.
    for entry in logged(services):
        text = repr(entry.payload)
        assert token not in text and issued.code not in text


def test_a_code_is_used_once_and_every_failure_says_the_same(
    both: TestClient, services: Services, court: Court_
) -> None:
    _, issued = invite(services, court.hearing_a)
    assert submit_code(both, issued.invitation, issued.code).status_code == 303
    both.cookies.clear()
    answers = []
    for lang in ("da", "en"):
        both.cookies.set(NAMES.language, lang)
        again = submit_code(both, issued.invitation, issued.code)
        wrong = submit_code(both, issued.invitation, "00000000")
        unknown = submit_code(both, "abcdefghjk", issued.code)
        malformed = submit_code(both, "<script>", "x")
        for response in (again, wrong, unknown, malformed):
            assert response.status_code == 401
            assert NAMES.remote not in response.headers.get("set-cookie", "")
            answers.append((lang, re.search(r'role="alert"[^>]*>([^<]+)<', response.text).group(1)))  # type: ignore[union-attr]
    assert {text for lang, text in answers if lang == "da"} == {
        "Koden kunne ikke bruges. Kontrollér koden og tidspunktet for retsmødet, eller bed retten om en ny kode."
    }
    assert {text for lang, text in answers if lang == "en"} == {CodeRejected.default_message}
    # A JSON client gets the stable code and the same message.
    token = csrf_of(both, f"{GATEWAY}/join")
    answer = both.post(
        f"{GATEWAY}/join",
        data={"csrf_token": token, "invitation": issued.invitation, "code": "12345678"},
        headers={"Accept": "application/json"},
    )
    assert (answer.status_code, answer.json()) == (
        401,
        {"error": "code_rejected", "message": CodeRejected.default_message},
    )


def test_five_failures_lock_the_code_even_against_the_right_one(
    gateway: TestClient, services: Services, court: Court_
) -> None:
    _, issued = invite(services, court.hearing_a)
    for attempt in range(1, 6):
        assert submit_code(gateway, issued.invitation, "11111111").status_code == 401
        assert failed_attempts(services, issued.invitation) == attempt
    assert "remote.code_locked" in actions(services)
    assert submit_code(gateway, issued.invitation, issued.code).status_code == 401
    assert not services.unit_of_work(lambda db: db.scalars(select(RemoteSession)).all())


def test_a_code_for_one_hearing_does_not_open_another(gateway: TestClient, services: Services, court: Court_) -> None:
    _, a = invite(services, court.hearing_a)
    _, b = invite(services, court.hearing_b, name="Tolk B")
    assert submit_code(gateway, a.invitation, b.code).status_code == 401
    assert submit_code(gateway, b.invitation, a.code).status_code == 401
    assert failed_attempts(services, a.invitation) == failed_attempts(services, b.invitation) == 1


def test_a_csrf_failure_is_refused_and_costs_the_code_nothing(
    gateway: TestClient, client: TestClient, services: Services, court: Court_
) -> None:
    _, issued = invite(services, court.hearing_a)
    gateway.get("/join")  # the CSRF cookie
    for token in ("", "0" * 64, "é" * 64, "x"):
        response = gateway.post("/join", data={"csrf_token": token, "invitation": issued.invitation, "code": "1"})
        assert response.status_code == 403 and "Reload the page" in response.text, token
    json_answer = gateway.post(
        "/join", data={"invitation": issued.invitation, "code": "1"}, headers={"Accept": "application/json"}
    )
    assert json_answer.json()["error"] == "csrf_rejected"
    # A staff page's token, with the staff page's CSRF cookie (one host, as on
    # the loopback demo), is no good at the gateway: its tokens are bound to
    # its own cookies.
    staff_token = csrf_token(client)
    gateway.cookies.set(NAMES.csrf, client.cookies[NAMES.csrf])
    response = gateway.post("/join", data={"csrf_token": staff_token, "invitation": issued.invitation, "code": "1"})
    assert response.status_code == 403
    assert failed_attempts(services, issued.invitation) == 0


def test_bad_input_at_each_step_gets_a_clear_error_and_changes_nothing(
    gateway: TestClient, services: Services, court: Court_
) -> None:
    _, issued = invite(services, court.hearing_a)
    before = len(logged(services))
    token = csrf_of(gateway, "/join")
    json = {"Accept": "application/json"}
    cases = [
        # (path, what is sent, status, code)
        (
            "/join",
            {"content": b"a" * (70 * 1024), "headers": {**json, "Content-Type": "application/x-www-form-urlencoded"}},
            413,
            "request_too_large",
        ),
        ("/join", {"content": b"{}", "headers": {**json, "Content-Type": "application/json"}}, 400, "invalid_input"),
        (
            "/join",
            {"files": {"code": ("c.txt", b"1")}, "data": {"csrf_token": token}, "headers": json},
            400,
            "bad_request",
        ),
        (
            "/join",
            {
                "content": f"csrf_token={token}&code=1&code=2".encode(),
                "headers": {**json, "Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            "invalid_input",
        ),
        (
            "/join",
            {"data": {"csrf_token": token, "invitation": issued.invitation, "code": "1\x002"}, "headers": json},
            400,
            "invalid_input",
        ),
        (
            "/join",
            {"data": {"csrf_token": token, "invitation": issued.invitation, "code": "9" * 3000}, "headers": json},
            400,
            "invalid_input",
        ),
        ("/join/verify", {"data": {"csrf_token": token, "code": "123456"}, "headers": json}, 401, "code_rejected"),
        ("/remote/language", {"data": {"csrf_token": token, "lang": "xx"}, "headers": json}, 400, "invalid_input"),
        ("/remote/language", {"data": {"lang": "da"}, "headers": json}, 403, "csrf_rejected"),
    ]
    for path, request, status, code in cases:
        response = gateway.post(path, **request)  # type: ignore[arg-type]
        assert (response.status_code, response.json()["error"]) == (status, code), (path, request.get("data"))
    assert failed_attempts(services, issued.invitation) == 0
    assert len(logged(services)) == before
    # An oversized or forged remote cookie opens nothing.
    for value in ("x" * 5000, "forged-token", ""):
        gateway.cookies.set(NAMES.remote, value)
        page = gateway.get("/remote")
        assert page.status_code in (303, 401), value
        assert gateway.get("/remote", headers=json).json()["error"] in ("not_authenticated", "remote_session_ended")


def test_the_remote_page_without_a_session_sends_the_browser_to_the_join_page(gateway: TestClient) -> None:
    page = gateway.get("/remote")
    assert (page.status_code, page.headers["location"]) == (303, "/join")


def test_an_ended_session_says_so_and_drops_its_cookie(both: TestClient, services: Services, court: Court_) -> None:
    _, issued = invite(services, court.hearing_a)
    submit_code(both, issued.invitation, issued.code)
    services.unit_of_work(lambda db: setattr(db.get_one(Hearing, court.hearing_a), "state", HearingState.CLOSED))
    both.cookies.set(NAMES.language, "da")
    page = both.get(f"{GATEWAY}/remote")
    assert page.status_code == 401 and "Din adgang til retsmødet er ophørt" in page.text
    assert f'{NAMES.remote}=""' in page.headers["set-cookie"] or "Max-Age=0" in page.headers["set-cookie"]


def test_the_language_switch_stays_on_the_gateway(gateway: TestClient) -> None:
    token = csrf_of(gateway, "/join")
    for target, landed in (
        ("/remote", "/remote"),
        ("/join/abcdefghjk", "/join/abcdefghjk"),
        ("/join/verify", "/join/verify"),
        ("https://evil.example/", "/join"),
        ("//evil.example", "/join"),
        ("/hearings", "/join"),
    ):
        response = gateway.post("/remote/language", data={"csrf_token": token, "lang": "en", "next": target})
        assert (response.status_code, response.headers["location"]) == (303, landed), target
        assert f"{NAMES.language}=en" in response.headers["set-cookie"]
    switched = gateway.post(
        "/remote/language", data={"csrf_token": token, "lang": "da"}, headers={"Accept": "application/json"}
    )
    assert switched.json() == {"lang": "da"}


# --- attempts: rate limits and the count of unknown invitations --------------------------


def test_attempts_are_limited_per_source_and_in_all(gateway: TestClient, services: Services, court: Court_) -> None:
    _, issued = invite(services, court.hearing_a)
    state = gateway.app.state
    state.attempts_per_source = SlidingWindow(3)
    for _ in range(3):
        assert submit_code(gateway, "abcdefghjk", "12345678").status_code == 401
    limited = submit_code(gateway, issued.invitation, issued.code)
    assert limited.status_code == 429
    assert "Vent et minut" in limited.text or "Wait a minute" in limited.text
    # The right code was never looked at: still unused.
    assert failed_attempts(services, issued.invitation) == 0
    assert not services.unit_of_work(lambda db: db.scalars(select(RemoteSession)).all())
    # Another source has its own allowance, until the gateway's in all runs out.
    state.attempts_per_source = SlidingWindow(1000)
    state.attempts_global = SlidingWindow(2)
    assert submit_code(gateway, "abcdefghjk", "12345678").status_code == 401
    assert submit_code(gateway, "abcdefghjk", "12345678").status_code == 401
    answer = gateway.post(
        "/join",
        data={"csrf_token": csrf_of(gateway, "/join"), "invitation": "a", "code": "b"},
        headers={"Accept": "application/json"},
    )
    assert (answer.status_code, answer.json()["error"]) == (429, "rate_limited")
    # The verify step counts too.
    assert gateway.post("/join/verify", data={"code": "1"}, headers={"Accept": "application/json"}).status_code == 429


def test_the_source_is_the_peer_not_what_a_client_claims(gateway: TestClient) -> None:
    gateway.app.state.attempts_per_source = SlidingWindow(2)
    for forged in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        response = submit_code(gateway, "abcdefghjk", "12345678", **{"X-Forwarded-For": forged})
    assert response.status_code == 429  # the third from one peer, whatever it says


def test_unknown_invitations_are_counted_and_appended_once_a_window(
    settings: Any, services: Services, court: Court_
) -> None:
    from hearing.app import create_app, create_gateway_app

    internal = create_app(settings, services)
    app = create_gateway_app(settings, services, internal.state.live_hearings)
    clock = [1000.0]
    app.state.unknown_attempts.attempts._clock = lambda: clock[0]
    before = len(logged(services))
    with TestClient(app, base_url=GATEWAY) as client:
        for invitation in ("abcdefghjk", "zzzzzzzzzz", "<nonsense>", "abcdefghjk"):
            assert submit_code(client, invitation, "12345678").status_code == 401
        assert len(logged(services)) == before  # not one by one
        clock[0] += 61
        import asyncio

        assert client.portal.call(app.state.unknown_attempts.flush) is True  # type: ignore[union-attr]
        assert asyncio.iscoroutinefunction(app.state.unknown_attempts.flush)
        submit_code(client, "abcdefghjk", "1")
    new = logged(services)[before:]
    assert [(e.action, e.hearing_id, e.actor_kind) for e in new] == [
        ("remote.code_unknown_counted", None, "system"),
        ("remote.code_unknown_counted", None, "system"),  # the rest, when the gateway stopped
    ]
    assert new[0].payload == {"repeated": 4, "sources": 1, "window_seconds": 60}
    assert new[1].payload is not None and new[1].payload["repeated"] == 1 and new[1].payload["sources"] == 1
    for entry in new:
        assert "testclient" not in repr(entry.payload) and "abcdefghjk" not in repr(entry.payload)


# --- the authenticator step ------------------------------------------------------------------


def enrolled_interpreter(services: Services, court: Court_) -> tuple[int, str, issuing.Issued]:
    """A registered interpreter with a confirmed authenticator, on hearing A,
    which asks for it; a code for them."""

    def work(db: Any) -> tuple[int, str, issuing.Issued]:
        now = datetime.now(UTC)
        interpreter = register.register(db, SYSTEM, name="Tolk Reg", languages="ar", now=now)
        enrolment = register.begin_totp(db, services.keys, SYSTEM, interpreter.id)
        register.confirm_totp(db, services.keys, SYSTEM, interpreter.id, pyotp.TOTP(enrolment.secret).at(now), now=now)
        issuing.set_require_totp(db, SYSTEM, court.hearing_a, True)
        party = issuing.add_remote_party(
            db,
            SYSTEM,
            court.hearing_a,
            issuing.R.INTERPRETER,
            "Tolk Reg",
            language="ar",
            registered_interpreter_id=interpreter.id,
        )
        issued = issuing.issue_code(db, services.keys, SYSTEM, court.hearing_a, party.id, now=now, early_minutes=30)
        return party.id, enrolment.secret, issued

    return services.unit_of_work(work)


def test_a_hearing_that_asks_for_the_authenticator_gets_it_before_the_page(
    both: TestClient, services: Services, court: Court_
) -> None:
    _, secret, issued = enrolled_interpreter(services, court)
    opened = submit_code(both, issued.invitation, issued.code)
    assert (opened.status_code, opened.headers["location"]) == (303, "/join/verify")
    # The page is not reachable on the code alone.
    assert both.get(f"{GATEWAY}/remote").status_code in (303, 401)
    step = both.get(f"{GATEWAY}/join/verify")
    assert step.status_code == 200 and 'action="/join/verify"' in step.text
    token = csrf_of(both, f"{GATEWAY}/join/verify")
    wrong = both.post(f"{GATEWAY}/join/verify", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 401 and ENGLISH in wrong.text
    later = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # the enrolment used this step's
    passed = both.post(f"{GATEWAY}/join/verify", data={"csrf_token": token, "code": later})
    assert (passed.status_code, passed.headers["location"]) == (303, "/remote")
    assert both.get(f"{GATEWAY}/remote").status_code == 200
    assert both.get(f"{GATEWAY}/join/verify").headers["location"] == "/remote"
    # Used once: the same code again is refused.
    assert (
        both.post(
            f"{GATEWAY}/join/verify", data={"csrf_token": csrf_of(both, f"{GATEWAY}/join"), "code": later}
        ).status_code
        == 303
    )
    assert "remote.totp_passed" in actions(services)


def test_the_authenticator_step_without_a_session_goes_back_to_the_start(gateway: TestClient) -> None:
    assert gateway.get("/join/verify").headers["location"] == "/join"
    token = csrf_of(gateway, "/join")
    refused = gateway.post("/join/verify", data={"csrf_token": token, "code": "123456"})
    assert refused.status_code == 401 and ENGLISH in refused.text


# --- the remote party's socket ----------------------------------------------------------------


def joined(both: TestClient, services: Services, court: Court_, **kwargs: Any) -> tuple[int, str]:
    """Hearing A open, a remote interpreter with a session: (participant, seat)."""
    open_hearing(services, court.hearing_a)
    participant_id, issued = invite(services, court.hearing_a, **kwargs)
    assert submit_code(both, issued.invitation, issued.code).status_code == 303
    return participant_id, issued.seat


def leave(ws: Any) -> None:
    """Leave, and read to the close: the server finishes the seat's session
    (its leaving audited) before it closes; the test client would cancel it
    if the block were left earlier."""
    ws.send_json({"type": "leave"})
    with pytest.raises(WebSocketDisconnect):
        while True:
            ws.receive_json()


def until(ws: Any, kind: str, limit: int = 50) -> dict[str, Any]:
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_the_remote_seat_waits_in_the_lobby_until_the_judge_admits_it(
    both: TestClient, services: Services, court: Court_
) -> None:
    participant_id, seat = joined(both, services, court)
    login_as(both, services, court.users["judge"])
    token = csrf_token(both, "/signin")
    with both.websocket_connect(REMOTE_SOCKET) as ws:
        welcome = ws.receive_json()
        assert welcome["type"] == "welcome" and welcome["seat"] == seat
        assert welcome["floor"]["admitted"] is False
        assert welcome["speakers"] == [f"{seat}:interpreter"]
        # Asking from the lobby is refused by the floor, and changes nothing.
        ws.send_json({"type": "request", "speaker": f"{seat}:interpreter"})
        assert ws.receive_json()["error"] == "not_admitted"
        admitted = post_floor_command(both, court.hearing_a, {"action": "admit", "seat": seat}, token)
        assert admitted.status_code == 200, admitted.text
        assert until(ws, "floor")["admitted"] is True
        # An interpreter's request is a priority one: ahead of the detainee's.
        post_floor_command(both, court.hearing_a, {"action": "admit", "seat": "custody"}, token)
        asked = post_floor_command(both, court.hearing_a, {"action": "request", "speaker": "custody:detainee"}, token)
        assert asked.status_code == 200, asked.text
        ws.send_json({"type": "request", "speaker": f"{seat}:interpreter"})
        while not (floor := until(ws, "floor"))["queued"]:
            pass
        assert floor["queued"] == [f"{seat}:interpreter"]
        whole = both.get(f"/hearings/{court.hearing_a}/floor", headers={"Accept": "application/json"}).json()
        assert whole["floor"]["queue"] == [
            {"speaker": f"{seat}:interpreter", "priority": True},
            {"speaker": "custody:detainee", "priority": False},
        ]
        leave(ws)
    joins = [e for e in logged(services) if e.action in ("participant.joined", "participant.left")]
    assert [(e.action, e.actor_kind, e.actor_id, (e.payload or {})["seat"]) for e in joins] == [
        ("participant.joined", "remote", participant_id, seat),
        ("participant.left", "remote", participant_id, seat),
    ]
    requested = [e for e in logged(services) if e.action == "floor.requested"]
    # The judge asked for the detainee; the interpreter asked from their own seat.
    assert [(e.actor_kind, e.actor_id) for e in requested] == [
        ("user", court.users["judge"]),
        ("remote", participant_id),
    ]


def test_bad_messages_on_the_remote_socket_get_errors_and_change_nothing(
    both: TestClient, services: Services, court: Court_
) -> None:
    _, seat = joined(both, services, court)
    before = len(logged(services))
    with both.websocket_connect(REMOTE_SOCKET) as ws:
        assert ws.receive_json()["seat"] == seat
        cases = [
            ("not json", "malformed_message"),
            ('{"type": "explode"}', "unknown_message"),
            ("x" * (64 * 1024 + 1), "message_too_large"),
            ('{"type": "offer", "sdp": "v=0\\r\\n"}', "bad_sdp"),
            ('{"type": "offer", "sdp": "v=0", "views": ["nowhere"]}', "unknown_seat"),
            ('{"type": "candidate", "candidate": "candidate:nonsense", "sdpMid": "0"}', "bad_candidate"),
            # Only for the seat's own people: not the detainee's, not another seat's.
            ('{"type": "request", "speaker": "custody:detainee"}', "permission_denied"),
        ]
        for raw, code in cases:
            ws.send_text(raw)
            reply = ws.receive_json()
            assert (reply["type"], reply["error"]) == ("error", code), raw[:60]
        ws.send_json({"type": "ping", "nonce": 7})
        assert ws.receive_json() == {"type": "pong", "nonce": 7}
        leave(ws)
    # Joining, the one refusal (recorded as probing) and leaving; nothing else.
    assert [e.action for e in logged(services)[before:]] == [
        "participant.joined",
        "access.denied",
        "participant.left",
    ]


def test_a_reconnect_takes_the_seat_with_the_session_not_the_code(
    both: TestClient, services: Services, court: Court_
) -> None:
    participant_id, seat = joined(both, services, court)
    with both.websocket_connect(REMOTE_SOCKET) as first:
        assert first.receive_json()["seat"] == seat
        # A second window takes the seat; the first is told so.
        with both.websocket_connect(REMOTE_SOCKET) as second:
            assert second.receive_json()["seat"] == seat
            assert until(first, "replaced")["type"] == "replaced"
            leave(second)
    # Back after the link went: a reconnect, with the session.
    with both.websocket_connect(REMOTE_SOCKET) as again:
        assert again.receive_json()["seat"] == seat
        leave(again)
    joins = [e.payload for e in logged(services) if e.action == "participant.joined"]
    assert joins[-1] == {"seat": seat, "reconnected": True}
    assert actions(services).count("remote.code_used") == 1


def test_the_hearings_end_ends_the_remote_session(both: TestClient, services: Services, court: Court_) -> None:
    _, seat = joined(both, services, court)
    login_as(both, services, court.users["judge"])
    with both.websocket_connect(REMOTE_SOCKET) as ws:
        ws.receive_json()
        token = csrf_token(both, "/signin")
        ended = both.post(f"/hearings/{court.hearing_a}/transition", data={"csrf_token": token, "action": "adjourn"})
        assert ended.status_code == 303, ended.text
        assert until(ws, "ended")["message"]
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    # The session the code opened ends with the hearing: the page and the socket are closed to it.
    assert (
        both.get(f"{GATEWAY}/remote", headers={"Accept": "application/json"}).json()["error"] == "remote_session_ended"
    )
    with both.websocket_connect(REMOTE_SOCKET) as ws:
        assert ws.receive_json()["error"] == "remote_session_ended"


def test_the_remote_socket_refuses_everyone_else(both: TestClient, services: Services, court: Court_) -> None:
    open_hearing(services, court.hearing_a)
    login_as(both, services, court.users["judge"])  # a staff session opens nothing here
    with both.websocket_connect(REMOTE_SOCKET) as ws:
        assert ws.receive_json()["error"] == "not_authenticated"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
    with both.websocket_connect(REMOTE_SOCKET, headers={"Origin": "https://evil.example"}) as ws:
        assert ws.receive_json()["error"] == "permission_denied"


def test_a_remote_party_whose_hearing_is_not_open_is_told_so(
    both: TestClient, services: Services, court: Court_
) -> None:
    _, issued = invite(services, court.hearing_a)
    submit_code(both, issued.invitation, issued.code)
    with both.websocket_connect(REMOTE_SOCKET) as ws:
        assert ws.receive_json()["error"] == "hearing_not_open"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4409


def test_a_removed_party_is_closed_by_the_socket_watch(both: TestClient, services: Services, court: Court_) -> None:
    participant_id, _ = joined(both, services, court)
    with both.websocket_connect(REMOTE_SOCKET) as ws:
        ws.receive_json()
        services.unit_of_work(lambda db: issuing.remove_remote_party(db, SYSTEM, court.hearing_a, participant_id))
        both.portal.call(both.app_gateway.state.socket_watch.recheck)  # type: ignore[attr-defined,union-attr]
        ended = until(ws, "remote_ended")
        assert ended["message"] == "Your access to the hearing has ended."
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


def test_cookie_names_keep_the_gateway_apart_from_the_staff_pages() -> None:
    for secure in (True, False):
        names = CookieNames.for_scheme(secure)
        assert len({names.session, names.csrf, names.language, names.device, names.remote, names.remote_csrf}) == 6
        assert names.remote.startswith("__Host-") == secure


def test_a_count_the_database_did_not_take_is_appended_the_next_round(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from hearing.web import remote as gateway_module

    real_append = gateway_module.append
    failures = [RuntimeError("the database is away for a moment")]

    def append_once_failing(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_append(*args, **kwargs)

    monkeypatch.setattr(gateway_module, "append", append_once_failing)
    log = gateway_module.UnknownLog(services, window=60)
    clock = [0.0]
    log.attempts._clock = lambda: clock[0]
    log.attempts.count("10.0.0.1")
    log.attempts.count("10.0.0.2")
    clock[0] = 61.0

    async def rounds() -> None:
        with pytest.raises(RuntimeError):
            await log.flush()
        log.attempts.count("10.0.0.3")  # the next window opens meanwhile
        await log.flush(everything=True)

    asyncio.run(rounds())
    counted = [e.payload for e in logged(services) if e.action == "remote.code_unknown_counted"]
    assert counted == [
        {"repeated": 2, "sources": 2, "window_seconds": 60},
        {"repeated": 1, "sources": 1, "window_seconds": 1},
    ]
