"""Errors to HTTP: a page in the reader's language for people, JSON for API clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from hearing.app import create_app
from hearing.config import Settings
from hearing.services import Services
from hearing.web.routing import CookieNames

pytestmark = pytest.mark.sqlite_only

SECRET_DETAIL = "the vault combination is 4711"


async def explode(request: Request) -> Response:
    raise RuntimeError(SECRET_DETAIL)


@pytest.fixture
def faulty(settings: Settings, services: Services) -> Iterator[TestClient]:
    """The application with one route that fails unexpectedly, answered as a
    server would (the exception is not re-raised into the test)."""
    app = create_app(settings, services)
    app.router.routes.append(Route("/explode", explode))
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


def no_leak(body: str) -> None:
    assert SECRET_DETAIL not in body and "RuntimeError" not in body and "Traceback" not in body


@pytest.mark.parametrize(
    ("accept_language", "lang", "words"),
    [
        ("da-DK,da;q=0.9,en;q=0.8", "da", ["Der gik noget galt på serveren", "Fejlkode", "Tilbage til forsiden"]),
        ("en-GB,en;q=0.9", "en", ["Something went wrong on the server", "Error code", "Back to the start page"]),
        ("fr-FR", "en", ["Something went wrong on the server", "Error code"]),
    ],
)
def test_a_browser_gets_a_page_in_its_language(
    faulty: TestClient, accept_language: str, lang: str, words: list[str]
) -> None:
    headers = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": accept_language}
    response = faulty.get("/explode", headers=headers)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text
    assert "<code>internal_error</code>" in response.text
    for word in words:
        assert word in response.text
    no_leak(response.text)


def test_the_language_cookie_wins_over_the_browser(faulty: TestClient) -> None:
    faulty.cookies.set(CookieNames.for_scheme(secure=True).language, "da")
    response = faulty.get("/explode", headers={"Accept-Language": "en"})
    assert '<html lang="da">' in response.text and "Der gik noget galt" in response.text


def test_an_api_client_gets_json(faulty: TestClient) -> None:
    response = faulty.get("/explode", headers={"Accept": "application/json", "Accept-Language": "da"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": "Something went wrong on the server."}
    no_leak(response.text)


def test_the_fault_is_logged_for_the_operator(faulty: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    faulty.get("/explode")
    logged = [r for r in caplog.records if r.name == "hearing.web.errors"]
    assert logged and logged[0].exc_info is not None and SECRET_DETAIL in str(logged[0].exc_info[1])


def test_a_domain_errors_english_message_is_marked_as_english_on_a_danish_page(client: TestClient) -> None:
    response = client.get("/signin/enrol", headers={"Accept-Language": "da"})
    assert response.status_code == 401
    assert '<html lang="da">' in response.text
    assert '<h1 lang="en">Sign-in failed. Check your details and try again.</h1>' in response.text
    assert "Fejlkode: <code>authentication_failed</code> (HTTP 401)" in response.text


def test_an_english_page_does_not_mark_its_english_message(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "<h1>Not Found</h1>" in response.text and "Error code: <code>not_found</code>" in response.text


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_server_fault_goes_out_with_the_security_headers(faulty: TestClient, accept: str) -> None:
    response = faulty.get("/explode", headers={"Accept": accept})
    assert response.status_code == 500
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
