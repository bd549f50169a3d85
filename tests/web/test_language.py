"""Danish and English: every text in both, the switch, and its bad input."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hearing.services import Services
from hearing.web import language
from hearing.web.routing import CookieNames
from tests.conftest import Court_, csrf_token, login_as, open_hearing

pytestmark = pytest.mark.sqlite_only


def test_every_text_has_both_languages_and_they_differ_where_words_do() -> None:
    for key, texts in language.TEXT.items():
        assert set(texts) == set(language.LANGUAGES), key
        assert all(value.strip() for value in texts.values()), key
    different = sum(texts["da"] != texts["en"] for texts in language.TEXT.values())
    assert different > 0.9 * len(language.TEXT)


@pytest.mark.parametrize(
    ("cookie", "accept", "chosen"),
    [
        (None, None, "en"),
        (None, "da-DK,da;q=0.9,en;q=0.8", "da"),
        (None, "fr-FR, en;q=0.5", "en"),
        ("da", "en-GB", "da"),
        ("xx", "da", "da"),
    ],
)
def test_the_language_comes_from_the_cookie_then_the_browser(
    client: TestClient, cookie: str | None, accept: str | None, chosen: str
) -> None:
    if cookie:
        client.cookies.set(CookieNames.for_scheme(secure=True).language, cookie)
    response = client.get("/signin", headers={"Accept-Language": accept} if accept else {})
    assert f'<html lang="{chosen}">' in response.text


def test_switching_language_keeps_the_page_and_translates_the_panel(
    client: TestClient, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)
    login_as(client, services, court.users["judge"])
    page = f"/hearings/{court.hearing_a}"
    assert "Speaker order" in client.get(page).text
    token = csrf_token(client, page)
    response = client.post("/language", data={"csrf_token": token, "lang": "da", "next": page})
    assert (response.status_code, response.headers["location"]) == (303, page)
    danish = client.get(page).text
    assert "Taleorden" in danish and "Speaker order" not in danish and "Retsmødet" in danish


@pytest.mark.parametrize(
    ("fields", "status", "location"),
    [
        ({"lang": "de"}, 400, None),
        ({"lang": ""}, 400, None),
        ({"lang": "da", "next": "https://evil.example/"}, 303, "/"),
        ({"lang": "da", "next": "//evil.example/"}, 303, "/"),
        ({"lang": "en", "next": "/hearings"}, 303, "/hearings"),
    ],
)
def test_bad_language_choices_are_refused_and_never_redirect_away(
    client: TestClient, fields: dict[str, str], status: int, location: str | None
) -> None:
    response = client.post("/language", data={"csrf_token": csrf_token(client), **fields})
    assert response.status_code == status
    if location is not None:
        assert response.headers["location"] == location
    else:
        assert CookieNames.for_scheme(secure=True).language not in response.cookies


def test_switching_language_needs_the_csrf_token(client: TestClient) -> None:
    response = client.post("/language", data={"lang": "da"})
    assert response.status_code == 403 and CookieNames.for_scheme(secure=True).language not in response.cookies


def test_no_block_of_words_redefines_another_blocks_key() -> None:
    """TEXT is built from blocks added by different parts (TEXT.update): a
    key written twice would silently take the later words on every page
    that uses the earlier (issue 12: the clerk's "Remote parties" heading
    read "Court hearing")."""
    import ast
    import collections
    from pathlib import Path

    import hearing.web.language as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    keys = [
        key.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for key in node.keys
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and "." in key.value
    ]
    twice = [key for key, count in collections.Counter(keys).items() if count > 1]
    assert twice == []
