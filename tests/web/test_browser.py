"""The staff sign-in, end to end, in Debian's Chromium."""

from __future__ import annotations

import re

import pyotp
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hearing.services import Services
from tests.audit.conducted import CASE, CONDUCTED_ACTIONS, conduct, said
from tests.browser import LiveServer, screenshot, sign_in
from tests.conftest import PASSWORD, Court_, add_unconfirmed_user, current_code, logged

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def test_judge_signs_in_with_password_and_totp_and_sees_the_hearing(
    browser,
    live_server: LiveServer,
    court: Court_,
) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/hearings")
    assert page.url.startswith(f"{live_server.url}/signin?next=")
    page.get_by_label("User name").fill("judge")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Authenticator code").fill(current_code(court.secrets["judge"]))
    screenshot(page, "signin")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/hearings")
    assert page.get_by_role("link", name="SS 1-100/2026").is_visible()
    assert page.get_by_text("SS 1-200/2026").count() == 0
    screenshot(page, "docket-judge")
    page.get_by_role("link", name="SS 1-100/2026").click()
    page.get_by_role("button", name="Open").click()
    assert page.locator(".state").first.inner_text() == "open"
    screenshot(page, "hearing-judge")
    assert errors == []  # no CSP violations or script errors


def test_wrong_code_shows_the_generic_message(browser, live_server: LiveServer, court: Court_) -> None:
    page = browser.new_page()
    page.goto(f"{live_server.url}/signin")
    page.get_by_label("User name").fill("judge")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Authenticator code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    # The one generic message, and its code for a person reporting it to quote.
    assert (
        alert.inner_text().split()
        == "Sign-in failed. Check your details and try again. Error code: authentication_failed".split()
    )
    assert page.context.cookies() and all(c["name"] != "hearing_session" for c in page.context.cookies())


def test_first_sign_in_enrols_the_authenticator_from_the_qr_code(
    browser,
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    enrolment = add_unconfirmed_user(services, "newclerk")
    page = browser.new_page()
    page.goto(f"{live_server.url}/signin")
    page.get_by_label("User name").fill("newclerk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/signin/enrol?ticket=*")
    # The password alone shows no authenticator: the enrolment code comes first.
    assert page.get_by_alt_text("QR code for your authenticator app").count() == 0
    assert enrolment.enrolment_code is not None
    page.get_by_label("Enrolment code").fill(enrolment.enrolment_code.lower().replace("-", " "))
    page.get_by_role("button", name="Continue").click()
    qr = page.get_by_alt_text("QR code for your authenticator app")
    # The QR image really rendered (the CSP allows it as a data: image).
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "enrol-qr")
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(enrolment.totp_secret).now())
    page.get_by_role("button", name="Confirm and sign in").click()
    page.wait_for_url(f"{live_server.url}/hearings")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hearings on")


def test_auditor_reads_a_hearings_log_in_plain_words(
    browser,
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    # The judge opens the hearing; the auditor then reads what happened.
    judge = browser.new_context()
    page = judge.new_page()
    sign_in(page, live_server, "judge", court.secrets["judge"])
    page.goto(f"{live_server.url}/hearings/{court.hearing_a}")
    page.get_by_role("button", name="Open").click()
    judge.close()

    page = browser.new_page()
    sign_in(page, live_server, "auditor", court.secrets["auditor"])
    page.wait_for_url(f"{live_server.url}/audit")
    page.get_by_role("link", name=str(court.hearing_a)).click()
    items = page.locator("ol.audit li")
    assert "Judge (judge) opened the hearing (the lobby)" in items.first.inner_text()
    screenshot(page, "audit-hearing")
    assert [e.action for e in logged(services)][-1] == "audit.read"


def test_auditor_reads_a_conducted_hearing_in_danish_and_english(
    browser,
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    """A hearing that went through the lobby, the floor and a private
    consultation: every entry in words, in the viewer's language."""
    hearing = conduct(services, court)
    entries = [e for e in logged(services) if e.hearing_id == hearing.hearing_id]
    assert {e.action for e in entries} == {a.value for a in CONDUCTED_ACTIONS}
    tz = live_server.settings.timezone
    page = browser.new_page()
    sign_in(page, live_server, "auditor", court.secrets["auditor"])
    page.wait_for_url(f"{live_server.url}/audit")
    row = page.get_by_role("row").filter(has_text=CASE)
    with page.expect_navigation() as opened:
        row.get_by_role("link", name=str(hearing.hearing_id)).click()
    assert opened.value is not None and opened.value.status == 200

    def read(lang: str, count: int) -> list[str]:
        assert page.locator("html").get_attribute("lang") == lang
        items = page.locator("ol.audit li").all_inner_texts()
        assert len(items) == count
        for item in items:
            assert not re.search(r"\b(floor|lobby|hearing|participant|consultation|audit)\.[a-z_]+", item), item
        for sentence in said(hearing, lang, tz):
            assert any(item.endswith(sentence) for item in items), sentence
        return items

    items = read("en", len(entries))
    assert page.get_by_role("heading", level=1).inner_text() == f"Audit log of hearing {hearing.hearing_id} ({CASE})"
    screenshot(page, "audit-conducted-en")
    # The first reading is in the log now, and in words too.
    with page.expect_navigation() as switched:
        page.get_by_role("button", name="Dansk").click()
    assert switched.value is not None and switched.value.status == 200
    items = read("da", len(entries) + 1)
    first_reading = f"Auditor (revisor) læste revisionsloggen for retsmøde {hearing.hearing_id} ({len(entries)} poster)"
    assert items[-1].endswith(first_reading)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Revisionslog for retsmøde")
    screenshot(page, "audit-conducted-da")
    page.get_by_role("link", name="Alle retsmøder").click()
    page.wait_for_url(f"{live_server.url}/audit")
    assert page.get_by_role("columnheader").all_inner_texts() == ["Retsmøde", "Sag", "Poster", "Seneste post"]
    counted = page.get_by_role("row").filter(has_text=CASE).get_by_role("cell").nth(2)
    assert counted.inner_text() == str(len(entries) + 2)
    screenshot(page, "audit-index-da")


@pytest.mark.parametrize(
    ("locale", "lang", "words"),
    [("da-DK", "da", "Der gik noget galt på serveren"), ("en-GB", "en", "Something went wrong on the server")],
)
def test_a_server_fault_shows_chromium_a_page_in_its_language(
    browser, live_server: LiveServer, locale: str, lang: str, words: str
) -> None:
    async def explode(request: Request) -> Response:
        raise RuntimeError("the vault combination is 4711")

    live_server.app.router.routes.append(Route("/explode", explode))
    context = browser.new_context(locale=locale)
    page = context.new_page()
    response = page.goto(f"{live_server.url}/explode")
    assert response is not None and response.status == 500
    assert page.locator("html").get_attribute("lang") == lang
    assert words in page.locator("h1").inner_text()
    assert page.locator("code").inner_text() == "internal_error"
    body = page.content()
    assert "4711" not in body and "Traceback" not in body and '"error"' not in body
    context.close()
