"""The register of interpreters over HTTP (issue 12): the list, adding an
interpreter, and enrolling their authenticator with the QR and a first code;
bad input and other roles change nothing."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import pyotp
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from hearing.db.models import AuditEntry, RegisteredInterpreter
from hearing.services import Services
from tests.conftest import Court_, csrf_token, logged, login_as

SECRET = re.compile(r"secret=([A-Z2-7]+)")


@pytest.fixture
def clerk(client: TestClient, services: Services, court: Court_) -> TestClient:
    login_as(client, services, court.users["clerk"])
    return client


def post(client: TestClient, path: str, data: dict[str, str] | None = None, *, token: str | None = None) -> Any:
    fields = {"csrf_token": token if token is not None else csrf_token(client, "/interpreters"), **(data or {})}
    return client.post(path, data=fields)


def register_one(client: TestClient, name: str = "Amira Haddad") -> int:
    response = post(client, "/interpreters", {"name": name, "languages": "arabisk,  fransk", "contact": "a@b.dk"})
    assert (response.status_code, response.headers["location"]) == (303, "/interpreters")
    return int(re.findall(r'data-interpreter="(\d+)"', client.get("/interpreters").text)[-1])


def counts(services: Services) -> tuple[int, int]:
    def count(db: Any) -> tuple[int, int]:
        return (
            db.scalar(select(func.count()).select_from(AuditEntry)),
            db.scalar(select(func.count()).select_from(RegisteredInterpreter)),
        )

    return services.unit_of_work(count)


def test_the_clerk_registers_an_interpreter_and_enrols_their_authenticator(
    clerk: TestClient, services: Services
) -> None:
    page = clerk.get("/interpreters")
    assert page.status_code == 200 and "The register is empty." in page.text
    entry = register_one(clerk)
    page = clerk.get("/interpreters").text
    assert "Amira Haddad" in page and "arabisk, fransk" in page and "none confirmed" in page
    begun = post(clerk, f"/interpreters/{entry}/totp")
    assert (begun.status_code, begun.headers["location"]) == (303, f"/interpreters/{entry}/totp")
    shown = clerk.get(f"/interpreters/{entry}/totp")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert 'src="data:image/svg+xml' in shown.text
    secret = SECRET.search(unquote(shown.text))
    assert secret, shown.text
    code = pyotp.TOTP(secret.group(1)).now()
    # A wrong first code: the page again, the QR still there, nothing enrolled.
    wrong = post(clerk, f"/interpreters/{entry}/totp/confirm", {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 400 and "authentication_failed" in wrong.text and "data:image/svg+xml" in wrong.text
    confirmed = post(clerk, f"/interpreters/{entry}/totp/confirm", {"code": code})
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/interpreters")
    assert "confirmed" in clerk.get("/interpreters").text
    # Confirmed: the QR is not shown again.
    after = clerk.get(f"/interpreters/{entry}/totp")
    assert "data:image/svg+xml" not in after.text and "is confirmed" in after.text
    again = post(clerk, f"/interpreters/{entry}/totp/confirm", {"code": code})
    assert again.status_code == 409 and "account_unchanged" in again.text
    actions = [e.action for e in logged(services)]
    assert actions[-2:] == ["interpreter.registered", "interpreter.totp_enrolled"]
    assert all(secret.group(1) not in str(e.payload) for e in logged(services))


def test_a_new_authenticator_replaces_the_confirmed_one_after_asking(clerk: TestClient, services: Services) -> None:
    entry = register_one(clerk)
    post(clerk, f"/interpreters/{entry}/totp")
    secret = SECRET.search(unquote(clerk.get(f"/interpreters/{entry}/totp").text)).group(1)  # type: ignore[union-attr]
    post(clerk, f"/interpreters/{entry}/totp/confirm", {"code": pyotp.TOTP(secret).now()})
    page = clerk.get("/interpreters").text
    assert "New authenticator …" in page and "The current one stops working at once." in page
    post(clerk, f"/interpreters/{entry}/totp")
    assert "none confirmed" in clerk.get("/interpreters").text
    fresh = SECRET.search(unquote(clerk.get(f"/interpreters/{entry}/totp").text)).group(1)  # type: ignore[union-attr]
    assert fresh != secret


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "", "languages": "arabisk"},
        {"name": "A", "languages": ""},
        {"name": "A", "languages": "arabisk,,fransk"},
        {"name": "x" * 201, "languages": "arabisk"},
        {"name": "A\u200bB", "languages": "arabisk"},
        {"name": "A", "languages": "arabisk", "contact": "c" * 201},
        {"name": "A", "languages": "arabisk", "role": "judge"},
    ],
)
def test_a_bad_entry_is_refused_on_the_page_and_nothing_is_added(
    clerk: TestClient, services: Services, fields: dict[str, str]
) -> None:
    before = counts(services)
    response = post(clerk, "/interpreters", fields)
    assert response.status_code == 400 and "<code>invalid_input</code>" in response.text
    assert 'role="alert"' in response.text
    assert counts(services) == before


def test_bad_codes_and_ids_change_nothing(clerk: TestClient, services: Services) -> None:
    entry = register_one(clerk)
    assert post(clerk, f"/interpreters/{entry}/totp/confirm", {"code": "123456"}).status_code == 409  # not begun
    post(clerk, f"/interpreters/{entry}/totp")
    before = counts(services)
    for bad in ({"code": "1" * 17}, {"code": "123456", "extra": "x"}):
        assert post(clerk, f"/interpreters/{entry}/totp/confirm", bad).status_code == 400
    assert post(clerk, f"/interpreters/{entry}/totp/confirm", {"code": "abcdef"}).status_code == 400
    assert clerk.get("/interpreters/999999/totp").status_code == 404
    assert post(clerk, "/interpreters/999999/totp").status_code == 404
    assert post(clerk, f"/interpreters/{entry}/totp", {"x": "1"}).status_code == 400
    for token in ("", "f" * 64):
        assert post(clerk, "/interpreters", {"name": "B", "languages": "x"}, token=token).status_code == 403
        assert post(clerk, f"/interpreters/{entry}/totp", token=token).status_code == 403
    assert counts(services) == before


@pytest.mark.parametrize("role", ["judge", "custody_officer", "auditor", "admin"])
def test_only_the_clerk_keeps_the_register(client: TestClient, services: Services, court: Court_, role: str) -> None:
    login_as(client, services, court.users["clerk"])
    entry = register_one(client)
    client.cookies.clear()
    login_as(client, services, court.users[role])
    token = csrf_token(client, "/signin")
    before = counts(services)[1]
    assert client.get("/interpreters").status_code == 403
    assert client.get(f"/interpreters/{entry}/totp").status_code == 403
    for path in ("/interpreters", f"/interpreters/{entry}/totp", f"/interpreters/{entry}/totp/confirm"):
        response = client.post(path, data={"csrf_token": token, "name": "X", "languages": "y", "code": "1"})
        assert response.status_code == 403 and "permission_denied" in response.text
    assert counts(services)[1] == before
    assert "/interpreters" not in client.get("/").text
