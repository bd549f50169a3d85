"""The test call in Debian's Chromium with fake camera and microphone, as an
enrolled custody kiosk: it runs, the grade is shown in words and recorded,
in Danish and in English, and the judge's hearing page shows it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hearing.db.models import TestCall
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from tests.browser import LiveServer, assert_accessible, screenshot, sign_in
from tests.conftest import Court_, enroll_device
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

KIOSK_SCREEN = {"width": 1280, "height": 800}  # the custody room's touch screen


def run_to_the_end(page) -> dict[str, object]:  # type: ignore[no-untyped-def]
    wait_until(
        lambda: page.evaluate("window.testCall && window.testCall.state === 'done'"),
        timeout=60,
        describe=lambda: page.evaluate("[window.testCall && window.testCall.state, document.body.innerText]"),
    )
    result: dict[str, object] = page.evaluate("window.testCall.result")
    return result


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1"))


@pytest.mark.timeout(240)
def test_a_kiosk_runs_its_test_call_and_the_judge_sees_the_grade(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    token = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    context = browser.new_context(locale="en-GB", viewport=KIOSK_SCREEN)
    context.add_cookies([{"name": "hearing_device", "value": token, "url": live_server.url}])
    page = context.new_page()
    # As the officer's console has the kiosk open it: ?auto=1 starts at once.
    page.goto(f"{live_server.url}/device/test-call?auto=1")
    assert page.evaluate("document.documentElement.lang") == "da"
    result = run_to_the_end(page)
    assert result["grade"] == "good", result
    # Asked for by the console: it says it goes back to the waiting screen (in 15 s).
    assert (
        page.get_by_role("status").inner_text()
        == "Prøveopkaldet er færdigt. Skærmen vender om lidt tilbage til ventebilledet."
    )
    assert page.locator("[data-role=grade]").inner_text() == "God: forbindelsen er klar."
    # The picture came back and was decoded; the sound was heard.
    assert page.evaluate("document.querySelector('video[data-role=looped]').videoWidth") > 0
    assert page.get_by_text("Svartid").is_visible()
    screenshot(page, "test-call-da")
    assert fits_the_screen(page)
    assert_accessible(page)

    # English, chosen on the kiosk; the call is started by keyboard this time.
    page.get_by_role("button", name="English").click()
    wait_until(lambda: page.evaluate("document.documentElement.lang") == "en")
    start = page.get_by_role("button", name="Start the test call")
    start.focus()
    page.keyboard.press("Enter")
    result = run_to_the_end(page)
    assert result["grade"] == "good", result
    assert page.locator("[data-role=grade]").inner_text() == "Good: the connection is ready."
    screenshot(page, "test-call-en")
    assert fits_the_screen(page)
    assert_accessible(page)

    def stored(db):  # type: ignore[no-untyped-def]
        return [(c.grade, json.loads(c.figures)) for c in db.scalars(select(TestCall).order_by(TestCall.id))]

    calls = services.unit_of_work(stored)
    assert [grade for grade, _ in calls] == ["good", "good"]
    assert calls[-1][1] == result["figures"]

    judge = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 768}).new_page()
    sign_in(judge, live_server, "judge", court.secrets["judge"])
    judge.goto(f"{live_server.url}/hearings/{court.hearing_a}")
    summary = judge.locator("[data-role=test-call-summary]")
    assert summary.locator("[data-grade=good]").inner_text() in ("good", "god")
    assert "kiosk-a" in summary.inner_text()
    screenshot(judge, "test-call-judge")
    assert_accessible(judge)
