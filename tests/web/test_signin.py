from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from starlette.testclient import TestClient

from hearing.actors import SYSTEM
from hearing.app import create_app
from hearing.auth import passwords, users
from hearing.config import Settings
from hearing.db.models import StaffSession, StaffUser
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from hearing.web.routing import CookieNames
from hearing.web.staff import ENROLMENT_TICKET_SECONDS
from tests.conftest import (
    CSRF_INPUT,
    PASSWORD,
    Court_,
    add_unconfirmed_user,
    csrf_token,
    current_code,
    custody_headers,
    enroll_device,
    logged,
    login_as,
    open_hearing,
    post_floor_command,
    reveal_authenticator,
)

NAMES = CookieNames.for_scheme(secure=True)
GENERIC = "Sign-in failed. Check your details and try again."


def post_signin(client: TestClient, username: str, password: str, code: str, token: str | None = None) -> object:
    token = token or csrf_token(client)
    return client.post(
        "/signin",
        data={"csrf_token": token, "username": username, "password": password, "code": code, "next": "/hearings"},
    )


def actions(services: Services) -> list[str]:
    return [e.action for e in logged(services)]


def test_judge_signs_in_with_password_and_totp(client: TestClient, services: Services, court: Court_) -> None:
    response = post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"]))
    assert response.status_code == 303
    assert response.headers["location"] == "/hearings"
    cookie = response.headers["set-cookie"]
    assert "hearing_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    page = client.get("/hearings")
    assert page.status_code == 200
    assert "SS 1-100/2026" in page.text  # the judge's own courtroom
    assert "SS 1-200/2026" not in page.text  # another courtroom's hearing
    assert actions(services)[-1] == "user.signed_in"


@pytest.mark.parametrize(
    ("username", "password", "code_for"),
    [
        ("judge", "wrong password entirely", "judge"),
        ("judge", PASSWORD, None),
        ("nobody", PASSWORD, "judge"),
        ("judge", PASSWORD, "clerk"),
    ],
)
def test_every_failure_gets_the_same_generic_message(
    client: TestClient, court: Court_, username: str, password: str, code_for: str | None
) -> None:
    code = current_code(court.secrets[code_for]) if code_for else "000000"
    response = post_signin(client, username, password, code)
    assert response.status_code == 401
    assert GENERIC in response.text
    assert "hearing_session" not in response.headers.get("set-cookie", "")


def test_totp_code_cannot_be_replayed(client: TestClient, services: Services, court: Court_) -> None:
    code = current_code(court.secrets["clerk"])
    assert post_signin(client, "clerk", PASSWORD, code).status_code == 303
    client.cookies.clear()
    replay = post_signin(client, "clerk", PASSWORD, code)
    assert replay.status_code == 401
    assert GENERIC in replay.text
    failures = [e for e in logged(services) if e.action == "user.sign_in_failed"]
    assert [e.payload["reason"] for e in failures if e.payload] == ["totp"]


def test_five_failures_lock_the_account_for_fifteen_minutes(
    client: TestClient, services: Services, court: Court_
) -> None:
    for _ in range(5):
        assert post_signin(client, "judge", "not the password!", "123456").status_code == 401
    # The lockout holds even with every detail right, and says nothing different.
    locked = post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"]))
    assert locked.status_code == 401 and GENERIC in locked.text
    user = services.unit_of_work(lambda db: db.scalar(select(StaffUser).where(StaffUser.username == "judge")))
    assert user.locked_until is not None
    remaining = user.locked_until - datetime.now(UTC)
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    assert "user.locked" in actions(services)
    # Other accounts are not affected.
    response = post_signin(client, "custody-officer", PASSWORD, current_code(court.secrets["custody_officer"]))
    assert response.status_code == 303


@pytest.mark.sqlite_only
def test_form_without_valid_csrf_token_is_rejected(client: TestClient, court: Court_) -> None:
    csrf_token(client)  # sets the cookie
    fields = {"username": "judge", "password": PASSWORD, "code": current_code(court.secrets["judge"])}
    for token in (None, "0" * 64, "not-a-token"):
        data = dict(fields, **({"csrf_token": token} if token else {}))
        response = client.post("/signin", data=data)
        assert response.status_code == 403
        assert "hearing_session" not in response.headers.get("set-cookie", "")
    # A token minted for another browser's cookie does not transfer.
    other = TestClient(client.app, base_url="https://testserver")
    foreign = csrf_token(other)
    assert post_signin(client, "judge", PASSWORD, fields["code"], token=foreign).status_code == 403


@pytest.mark.sqlite_only
def test_csrf_token_is_required_on_signed_in_forms_too(client: TestClient, services: Services, court: Court_) -> None:
    post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"]))
    response = client.post(f"/hearings/{court.hearing_a}/transition", data={"action": "open"})
    assert response.status_code == 403
    assert "csrf_rejected" in response.text
    assert "hearing.opened" not in actions(services)


def test_first_sign_in_shows_qr_and_confirms_the_authenticator(
    client: TestClient, services: Services, court: Court_
) -> None:
    enrolment = add_unconfirmed_user(services, "newclerk")
    response = post_signin(client, "newclerk", PASSWORD, "")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/signin/enrol?ticket=")
    page, ticket, token = reveal_authenticator(client, location, enrolment.enrolment_code)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text and enrolment.totp_secret in page.text
    bad = client.post("/signin/enrol", data={"csrf_token": token, "ticket": ticket, "code": "000000"})
    # A mistyped code: the same authenticator again, with the generic message.
    assert bad.status_code == 401 and enrolment.totp_secret in bad.text and GENERIC in bad.text
    code = pyotp.TOTP(enrolment.totp_secret).now()
    ok = client.post("/signin/enrol", data={"csrf_token": token, "ticket": ticket, "code": code})
    assert ok.status_code == 303 and "hearing_session=" in ok.headers["set-cookie"]
    # Confirmed: the enrolment pages are gone for good, even with the old tickets.
    assert client.get(location).status_code == 401
    again = {"csrf_token": csrf_token(client), "ticket": ticket, "code": code}  # the CSRF cookie was rotated
    assert client.post("/signin/enrol", data=again).status_code == 401
    assert "user.enrolment_code_used" in actions(services) and "user.totp_confirmed" in actions(services)


@pytest.mark.sqlite_only
def test_tampered_enrolment_ticket_is_refused(client: TestClient, court: Court_) -> None:
    assert client.get("/signin/enrol?ticket=eyJ1c2VyIjoxfQ.bogus.sig").status_code == 401
    assert client.get("/signin/enrol").status_code == 401


def test_signout_ends_the_session(client: TestClient, services: Services, court: Court_) -> None:
    post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"]))
    token = csrf_token(client, "/hearings")
    assert client.post("/signout", data={"csrf_token": token}).status_code == 303
    assert client.get("/hearings").status_code == 303
    ended = services.unit_of_work(lambda db: db.scalars(select(StaffSession.ended_at)).all())
    assert all(e is not None for e in ended)


def test_idle_session_expires_after_thirty_minutes(client: TestClient, services: Services, court: Court_) -> None:
    post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"]))
    assert client.get("/hearings").status_code == 200

    def age(db):
        for record in db.scalars(select(StaffSession)):
            record.last_seen_at = datetime.now(UTC) - timedelta(minutes=31)

    services.unit_of_work(age)
    response = client.get("/hearings")
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


@pytest.mark.sqlite_only
def test_forged_session_cookie_is_refused(client: TestClient, court: Court_) -> None:
    client.cookies.set(NAMES.session, "forged.value")
    assert client.get("/hearings").status_code == 303
    client.cookies.set(NAMES.session, "x" * 5000)
    assert client.get("/api/device/hearings").status_code == 401


@pytest.mark.sqlite_only
def test_signin_is_rate_limited_per_address(client: TestClient, court: Court_) -> None:
    token = csrf_token(client)
    statuses = [
        client.post(
            "/signin", data={"csrf_token": token, "username": "ghost", "password": "x" * 12, "code": "1"}
        ).status_code
        for _ in range(22)
    ]
    assert statuses[:20] == [401] * 20
    assert statuses[-1] == 429


@pytest.mark.sqlite_only
def test_next_parameter_cannot_redirect_off_site(client: TestClient, court: Court_) -> None:
    token = csrf_token(client)
    response = client.post(
        "/signin",
        data={
            "csrf_token": token,
            "username": "judge",
            "password": PASSWORD,
            "code": current_code(court.secrets["judge"]),
            "next": "//evil.example/x",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.sqlite_only
def test_csrf_cookie_attributes(client: TestClient) -> None:
    response = client.get("/signin")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(NAMES.csrf + "=") and "HttpOnly" in cookie and "SameSite=strict" in cookie


# --- API clients: the same form, answered in JSON (docs/protocol.md, "Signing in") ---

JSON = {"Accept": "application/json"}


def signin_fields(token: str, username: str, code: str, password: str = PASSWORD) -> dict[str, str]:
    return {"csrf_token": token, "username": username, "password": password, "code": code, "next": "/hearings"}


def test_an_api_client_signs_in_and_sends_commands_as_documented(
    client: TestClient, services: Services, court: Court_
) -> None:
    # The token comes from a served form's hidden input; the cookie it is bound to stays in the jar.
    anonymous = csrf_token(client)
    assert client.cookies.get(NAMES.csrf)
    response = client.post(
        "/signin", data=signin_fields(anonymous, "judge", current_code(court.secrets["judge"])), headers=JSON
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    # Signed in, the browser has a new CSRF cookie, and the answer its token.
    token = body.pop("csrf_token")
    assert body == {"user": {"username": "judge", "display_name": "Judge", "role": "judge"}, "next": "/hearings"}
    assert token != anonymous and token == csrf_token(client, "/hearings")
    cookie = response.headers["set-cookie"]
    assert "hearing_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert actions(services)[-1] == "user.signed_in"
    # That token, in X-CSRF-Token, for a JSON command; the one from before sign-in is spent.
    stale = post_floor_command(client, court.hearing_a, {"action": "mode", "mode": "controlled"}, anonymous)
    assert stale.status_code == 403 and stale.json()["error"] == "csrf_rejected"
    open_hearing(services, court.hearing_a)
    command = post_floor_command(client, court.hearing_a, {"action": "mode", "mode": "controlled"}, token)
    assert command.status_code == 200, command.text
    assert command.json()["floor"]["mode"] == "controlled"
    refused = post_floor_command(client, court.hearing_a, {"action": "mode", "mode": "open"}, "0" * 64)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_rejected"


def test_an_api_clients_code_is_single_use_too(client: TestClient, services: Services, court: Court_) -> None:
    code = current_code(court.secrets["clerk"])
    assert (
        client.post("/signin", data=signin_fields(csrf_token(client), "clerk", code), headers=JSON).status_code == 200
    )
    client.cookies.delete(NAMES.session)
    replay = client.post("/signin", data=signin_fields(csrf_token(client), "clerk", code), headers=JSON)
    assert replay.status_code == 401
    assert replay.json() == {"error": "authentication_failed", "message": GENERIC}


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("wrong password", 401, "authentication_failed"),
        ("no code", 401, "authentication_failed"),
        ("no csrf token", 403, "csrf_rejected"),
        ("foreign csrf token", 403, "csrf_rejected"),
    ],
)
def test_api_sign_in_refusals_are_json(client: TestClient, court: Court_, case: str, status: int, code: str) -> None:
    token = csrf_token(client)
    fields = signin_fields(token, "judge", current_code(court.secrets["judge"]))
    if case == "wrong password":
        fields["password"] = "not the password at all"
    elif case == "no code":
        fields["code"] = ""
    elif case == "no csrf token":
        del fields["csrf_token"]
    else:
        fields["csrf_token"] = csrf_token(TestClient(client.app, base_url="https://testserver"))
    response = client.post("/signin", data=fields, headers=JSON)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "message"} and body["error"] == code
    assert "hearing_session" not in response.headers.get("set-cookie", "")


@pytest.mark.sqlite_only
def test_api_sign_in_is_rate_limited_in_json(client: TestClient, court: Court_) -> None:
    token = csrf_token(client)
    answers = [
        client.post("/signin", data=signin_fields(token, "ghost", "1", "x" * 12), headers=JSON) for _ in range(21)
    ]
    assert [a.status_code for a in answers[:20]] == [401] * 20
    assert answers[20].status_code == 429 and answers[20].json()["error"] == "rate_limited"


def test_an_api_clients_first_sign_in_answers_enrolment_required(
    client: TestClient, services: Services, court: Court_
) -> None:
    enrolment = add_unconfirmed_user(services, "newclerk")
    response = client.post("/signin", data=signin_fields(csrf_token(client), "newclerk", ""), headers=JSON)
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "enrolment_required" and body["enrol"].startswith("/signin/enrol?ticket=")
    assert "hearing_session" not in response.headers.get("set-cookie", "")
    # A person opens the link in a browser, enters the enrolment code, scans the QR code and confirms.
    page, ticket, token = reveal_authenticator(client, body["enrol"], enrolment.enrolment_code)
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text
    code = pyotp.TOTP(enrolment.totp_secret).now()
    confirmed = client.post("/signin/enrol", data={"csrf_token": token, "ticket": ticket, "code": code}, headers=JSON)
    assert confirmed.status_code == 200
    assert confirmed.json().pop("csrf_token") == csrf_token(client, "/hearings")
    assert {k: v for k, v in confirmed.json().items() if k != "csrf_token"} == {
        "user": {"username": "newclerk", "display_name": "New Clerk", "role": "clerk"},
        "next": "/hearings",
    }
    assert "hearing_session=" in confirmed.headers["set-cookie"]


def test_a_browser_keeps_the_form(client: TestClient, court: Court_) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    token = csrf_token(client)
    fields = signin_fields(token, "judge", current_code(court.secrets["judge"]))
    ok = client.post("/signin", data=fields, headers=browser)
    assert ok.status_code == 303 and ok.headers["location"] == "/hearings"
    client.cookies.delete(NAMES.session)
    fields["csrf_token"] = csrf_token(client)  # the CSRF cookie was rotated at sign-in
    failed = client.post("/signin", data=fields, headers=browser)  # the code is spent
    assert failed.status_code == 401 and failed.headers["content-type"].startswith("text/html")


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("lang", "message"),
    [("en", GENERIC), ("da", "Du blev ikke logget ind. Kontrollér dine oplysninger, og prøv igen.")],
)
def test_the_form_shows_the_errors_code_to_quote(client: TestClient, court: Court_, lang: str, message: str) -> None:
    headers = {"Accept-Language": lang}
    token = csrf_token(client)
    response = client.post("/signin", data=signin_fields(token, "judge", "000000", "wrong"), headers=headers)
    assert response.status_code == 401
    alert = re.search(r'<p class="error" role="alert" id="signin-error">(.*?)</p>', response.text, re.S)
    assert alert is not None
    assert message in alert.group(1) and "<code>authentication_failed</code>" in alert.group(1)
    assert f'<html lang="{lang}">' in response.text
    expired = client.post("/signin", data=signin_fields("0" * 64, "judge", "000000"), headers=headers)
    assert expired.status_code == 403 and "<code>csrf_rejected</code>" in expired.text


@pytest.mark.sqlite_only
def test_the_csrf_token_is_renewed_at_sign_in_and_next_stays_local(client: TestClient, court: Court_) -> None:
    token = csrf_token(client)
    code = current_code(court.secrets["judge"])
    fields = dict(signin_fields(token, "judge", f"{code[:3]} {code[3:]}"), next="//evil.example/")
    response = client.post("/signin", data=fields, headers=JSON)
    assert response.status_code == 200 and response.json()["next"] == "/"
    assert csrf_token(client, "/hearings") == response.json()["csrf_token"] != token


def signer_aged(age: int) -> type[TimestampSigner]:
    """A signer that dates what it signs `age` seconds back: an old enrolment link."""

    class Aged(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    return Aged


@pytest.mark.parametrize(("age", "status"), [(ENROLMENT_TICKET_SECONDS - 30, 200), (ENROLMENT_TICKET_SECONDS + 1, 401)])
def test_an_enrolment_link_lasts_ten_minutes(
    client: TestClient, services: Services, court: Court_, age: int, status: int
) -> None:
    add_unconfirmed_user(services, "newclerk")
    user_id = services.unit_of_work(lambda db: db.scalar(select(StaffUser.id).where(StaffUser.username == "newclerk")))
    minted = URLSafeTimedSerializer(services.keys.session_signing, salt="totp-enrolment", signer=signer_aged(age))
    ticket = minted.dumps({"user": user_id, "next": "/"})
    assert ENROLMENT_TICKET_SECONDS == 10 * 60
    page = client.get(f"/signin/enrol?ticket={ticket}")
    assert page.status_code == status
    assert "data:image/svg+xml" not in page.text  # the code comes first, whatever the ticket's age


# --- A sign-in flood must not stop the court (issue 10, defect 6) ---


def _write_now(services: Services) -> str:
    """A write from another connection, as hearing traffic makes one: it
    waits at most 2 s for the database's write lock."""
    other = sqlite3.connect(services.engine.url.database or "", isolation_level=None, timeout=2)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE court SET name = name")
        other.execute("COMMIT")
        return "written"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other.close()


@pytest.mark.sqlite_only
def test_a_sign_in_hashes_the_password_while_no_transaction_is_open(
    client: TestClient, services: Services, court: Court_, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[str] = []
    scrypt = passwords._scrypt

    def hash_while_another_writes(*args: Any) -> bytes:
        writes.append(_write_now(services))
        return scrypt(*args)

    monkeypatch.setattr(passwords, "_scrypt", hash_while_another_writes)
    assert post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"])).status_code == 303
    client.cookies.clear()
    assert post_signin(client, "judge", "not the password!", "123456").status_code == 401
    assert post_signin(client, "nobody", PASSWORD, "123456").status_code == 401  # the stand-in hash too
    assert writes == ["written"] * 3
    assert actions(services)[-3:] == ["user.signed_in", "user.sign_in_failed", "user.sign_in_failed"]


@pytest.mark.sqlite_only
def test_sign_ins_beyond_the_hash_pool_are_refused_as_busy(
    settings: Settings, services: Services, court: Court_, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = settings.replace(password_hash_workers=1, password_hash_queue=0)
    svc = Services(narrow, services.keys, services.audit.keys, services.engine)
    app = create_app(narrow, svc)
    first, second = (TestClient(app, base_url="https://testserver", follow_redirects=False) for _ in range(2))
    second_token = csrf_token(second)
    hashing, release = threading.Event(), threading.Event()
    scrypt = passwords._scrypt

    def held(*args: Any) -> bytes:
        hashing.set()
        release.wait(10)
        return scrypt(*args)

    monkeypatch.setattr(passwords, "_scrypt", held)
    answers: list[int] = []
    thread = threading.Thread(
        target=lambda: answers.append(
            post_signin(first, "judge", PASSWORD, current_code(court.secrets["judge"])).status_code  # type: ignore[attr-defined]
        )
    )
    thread.start()
    try:
        assert hashing.wait(10)
        busy = second.post("/signin", data=signin_fields(second_token, "clerk", "123456"), headers=JSON)
        assert busy.status_code == 503 and busy.json()["error"] == "signin_busy"
    finally:
        release.set()
        thread.join(10)
    assert answers == [303]
    # Refused before anything was looked at: no attempt counted, nothing audited for it.
    assert actions(services)[-1] == "user.signed_in"
    svc.hashing.close()


@pytest.mark.sqlite_only
def test_staff_and_device_reads_are_served_while_a_writer_holds_the_lock(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["judge"])
    kiosk = custody_headers(services)
    reads = [
        ("/hearings", {}),
        (f"/hearings/{court.hearing_a}/floor", {"Accept": "application/json"}),
        ("/api/device/hearings", kiosk),
    ]
    for path, headers in reads:  # a device's first call records that it was seen
        assert client.get(path, headers=headers).status_code == 200, path
    writer = sqlite3.connect(services.engine.url.database or "", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE court SET name = name")
    answered: list[int] = []

    def read_all() -> None:
        answered.extend(client.get(path, headers=headers).status_code for path, headers in reads)

    reader = threading.Thread(target=read_all)
    reader.start()
    try:
        reader.join(timeout=10)
        assert answered == [200, 200, 200], "a read waited for the writer's lock"
    finally:
        writer.execute("COMMIT")
        writer.close()
        reader.join()


# --- CSRF cookie fixation and cookie names (issue 10, defect 10) ---


def plant(client: TestClient, name: str, value: str) -> None:
    """What an attacker who can write the victim's cookies (a sibling
    subdomain, a plain-HTTP response on the way) does."""
    client.cookies.delete(name)
    client.cookies.set(name, value, domain="testserver.local", path="/")  # as the server's own would be kept


def test_a_planted_csrf_cookie_is_worthless_once_the_victim_signs_in(
    client: TestClient, services: Services, court: Court_
) -> None:
    # The attacker visits as anyone may, and keeps the cookie and its token...
    attacker = TestClient(client.app, base_url="https://testserver")
    planted_token = csrf_token(attacker)
    planted = attacker.cookies.get(NAMES.csrf)
    assert planted
    # ...plants the cookie in the victim's browser; the victim signs in.
    plant(client, NAMES.csrf, planted)
    signed_in = post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"]))
    assert signed_in.status_code == 303
    assert client.cookies.get(NAMES.csrf) not in (None, planted), "the CSRF cookie is rotated at sign-in"
    attack = {"csrf_token": planted_token, "action": "open"}
    refused = client.post(f"/hearings/{court.hearing_a}/transition", data=attack)
    assert refused.status_code == 403 and "csrf_rejected" in refused.text
    # Planting it again afterwards does not help: the token is bound to the session.
    plant(client, NAMES.csrf, planted)
    again = client.post(f"/hearings/{court.hearing_a}/transition", data=attack)
    assert again.status_code == 403 and "csrf_rejected" in again.text
    assert "hearing.opened" not in actions(services)
    # The victim's own forms work.
    mine = csrf_token(client, f"/hearings/{court.hearing_a}")
    assert (
        client.post(f"/hearings/{court.hearing_a}/transition", data={"csrf_token": mine, "action": "open"}).status_code
        == 303
    )
    assert "hearing.opened" in actions(services)


@pytest.mark.sqlite_only
def test_the_csrf_cookie_is_rotated_at_sign_in_and_sign_out(client: TestClient, court: Court_) -> None:
    anonymous = csrf_token(client)
    before = client.cookies.get(NAMES.csrf)
    assert post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"]), anonymous).status_code == 303
    during = client.cookies.get(NAMES.csrf)
    signed_in = csrf_token(client, "/hearings")
    assert during != before and signed_in != anonymous
    assert client.post("/signout", data={"csrf_token": signed_in}).status_code == 303
    after = client.cookies.get(NAMES.csrf)
    assert after not in (before, during)
    # The signed-in token is no good once the session is gone, even on a public form.
    refused = client.post("/language", data={"csrf_token": signed_in, "lang": "da"})
    assert refused.status_code == 403


def set_cookies(response: Any) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


@pytest.mark.parametrize("secure", [True, False])
@pytest.mark.sqlite_only
def test_every_cookie_has_a_host_name_when_secure_and_a_plain_one_on_the_demo(
    settings: Settings, services: Services, court: Court_, secure: bool
) -> None:
    app = create_app(settings.replace(cookie_secure=secure), services)
    base = "https://testserver" if secure else "http://testserver"
    client = TestClient(app, base_url=base, follow_redirects=False)
    seen = set_cookies(client.get("/signin"))
    seen |= set_cookies(post_signin(client, "judge", PASSWORD, current_code(court.secrets["judge"])))
    seen |= set_cookies(client.post("/language", data={"csrf_token": csrf_token(client, "/hearings"), "lang": "da"}))
    creds = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A")
    kiosk = TestClient(app, base_url=base, follow_redirects=False)
    token = csrf_token(kiosk, f"/device/enroll?code={creds.enrollment_code}")
    seen |= set_cookies(kiosk.post("/device/enroll", data={"csrf_token": token, "code": creds.enrollment_code}))
    names = CookieNames.for_scheme(secure)
    assert set(seen) == {names.csrf, names.session, names.language, names.device}
    for name, header in seen.items():
        attributes = [a.strip().lower() for a in header.split(";")[1:]]
        assert "path=/" in attributes and "httponly" in attributes and "samesite=strict" in attributes, header
        assert not any(a.startswith("domain") for a in attributes), header
        assert name.startswith("__Host-") == secure and ("secure" in attributes) == secure, header


# --- A new authenticator takes the enrolment code too (issue 10, defect 16) ---


def test_the_password_alone_does_not_show_a_new_authenticator(
    client: TestClient, services: Services, court: Court_
) -> None:
    enrolment = add_unconfirmed_user(services, "newclerk")
    password_step = post_signin(client, "newclerk", PASSWORD, "")
    assert password_step.status_code == 303
    page = client.get(password_step.headers["location"])
    assert page.status_code == 200
    assert enrolment.totp_secret not in page.text and "data:image/svg+xml" not in page.text
    # Nor can the confirmation be reached with the password's ticket alone.
    ticket = parse_qs(urlparse(password_step.headers["location"]).query)["ticket"][0]
    token = CSRF_INPUT.search(page.text).group(1)  # type: ignore[union-attr]
    code = pyotp.TOTP(enrolment.totp_secret).now()
    confirmed = client.post("/signin/enrol", data={"csrf_token": token, "ticket": ticket, "code": code})
    assert confirmed.status_code == 401 and NAMES.session not in confirmed.headers.get("set-cookie", "")
    assert "user.totp_confirmed" not in actions(services)


def reset_clerk(services: Services, court: Court_, *, hours: float = 72) -> users.Enrolment:
    """`hearing user reset-totp clerk`, as the service does it."""
    return services.unit_of_work(
        lambda db: users.reset_totp(db, services.keys, SYSTEM, "clerk", code_valid=timedelta(hours=hours))
    )


def password_step(client: TestClient, username: str = "clerk") -> str:
    response = post_signin(client, username, PASSWORD, "")
    assert response.status_code == 303 and response.headers["location"].startswith("/signin/enrol?ticket=")
    return response.headers["location"]


def test_after_a_reset_the_password_and_the_enrolment_code_set_up_the_new_authenticator(
    client: TestClient, services: Services, court: Court_
) -> None:
    enrolment = reset_clerk(services, court)
    assert enrolment.enrolment_code and enrolment.enrolment_code_expires_at
    stored = services.unit_of_work(lambda db: db.get_one(StaffUser, court.users["clerk"]))
    # Only a keyed hash is kept, and it says when it expires.
    assert (
        stored.enrolment_code_hash is not None and enrolment.enrolment_code.encode() not in stored.enrolment_code_hash
    )
    assert timedelta(hours=71) < stored.enrolment_code_expires_at - datetime.now(UTC) <= timedelta(hours=72)
    link = password_step(client)
    assert enrolment.totp_secret not in client.get(link).text
    page, ticket, token = reveal_authenticator(client, link, enrolment.enrolment_code)
    assert page.status_code == 200 and enrolment.totp_secret in page.text
    code = pyotp.TOTP(enrolment.totp_secret).now()
    assert client.post("/signin/enrol", data={"csrf_token": token, "ticket": ticket, "code": code}).status_code == 303
    used = [e for e in logged(services) if e.action == "user.enrolment_code_used"]
    assert [(e.actor_kind, e.actor_id) for e in used] == [("user", court.users["clerk"])]
    reset = [e for e in logged(services) if e.action == "user.totp_reset"]
    assert reset[-1].payload == {
        "user_id": court.users["clerk"],
        "username": "clerk",
        "enrolment_code_expires_at": enrolment.enrolment_code_expires_at.isoformat(),
    }
    assert enrolment.enrolment_code not in json.dumps([e.payload for e in logged(services)])
    after = services.unit_of_work(lambda db: db.get_one(StaffUser, court.users["clerk"]))
    assert after.enrolment_code_hash is None and after.enrolment_code_expires_at is None


@pytest.mark.parametrize("case", ["wrong", "none", "reused", "expired", "another account's"])
def test_a_wrong_used_or_expired_enrolment_code_is_refused_with_the_generic_message(
    client: TestClient, services: Services, court: Court_, case: str
) -> None:
    enrolment = reset_clerk(services, court, hours=-1 if case == "expired" else 72)
    code = enrolment.enrolment_code
    assert code
    if case == "wrong":
        code = code[:-1] + ("2" if code[-1] != "2" else "3")
    elif case == "none":
        code = ""
    elif case == "reused":
        _, ticket, token = reveal_authenticator(client, password_step(client), code)
        assert ticket  # shown once
    elif case == "another account's":
        other = add_unconfirmed_user(services, "newclerk")
        code = other.enrolment_code
    before = len(logged(services))
    page, ticket, _ = reveal_authenticator(client, password_step(client), code)
    assert page.status_code == 401 and GENERIC in page.text
    assert enrolment.totp_secret not in page.text and not ticket
    new = logged(services)[before:]
    failures = [e for e in new if e.action == "user.sign_in_failed"]
    if case == "none":
        assert failures == []  # refused before anything was looked at
    else:
        reason = "enrolment_code_expired" if case == "expired" else "enrolment_code"
        assert [e.payload for e in failures] == [{"username": "clerk", "reason": reason}]
        assert failures[0].actor_id == court.users["clerk"]
    assert "user.enrolment_code_used" not in [e.action for e in new]


@pytest.mark.sqlite_only
def test_a_reset_after_the_code_was_used_retires_the_revealed_authenticator(
    client: TestClient, services: Services, court: Court_
) -> None:
    first = reset_clerk(services, court)
    _, ticket, token = reveal_authenticator(client, password_step(client), first.enrolment_code)
    second = reset_clerk(services, court)
    stale = client.post(
        "/signin/enrol", data={"csrf_token": token, "ticket": ticket, "code": pyotp.TOTP(second.totp_secret).now()}
    )
    assert stale.status_code == 401 and second.totp_secret not in stale.text


@pytest.mark.sqlite_only
def test_a_session_read_read_only_still_records_that_it_was_seen(
    client: TestClient, services: Services, court: Court_
) -> None:
    login_as(client, services, court.users["clerk"])
    ago = datetime.now(UTC) - timedelta(minutes=2)

    def age(db: Any) -> None:
        for record in db.scalars(select(StaffSession)):
            record.last_seen_at = ago

    services.unit_of_work(age)
    assert client.get("/hearings").status_code == 200
    seen = services.read_only(lambda db: db.scalars(select(StaffSession.last_seen_at)).all())
    assert len(seen) == 1 and seen[0] > ago + timedelta(seconds=60)
