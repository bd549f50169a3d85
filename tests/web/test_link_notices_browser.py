"""Plan B at the bench, in Debian's Chromium: the judge's page says in words
that the custody room is not answering (it never connected), that it is
answering, that its link was lost and the hearing paused, that it is back
and after how long; Resume is one click. Danish first, then English; axe
finds nothing; it fits the bench's 1366×768."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import EndpointKind
from hearing.services import Services
from tests.browser import LiveServer, assert_accessible, screenshot, sign_in
from tests.conftest import Court_, admit, enroll_device, logged, open_hearing
from tests.media.peers import Peer, PeerThread
from tests.waiting import wait_until
from tests.web.test_interruption import kill

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

BENCH = {"width": 1366, "height": 768}


def shown(page, notice: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(f"!document.querySelector('[data-notice={notice}]').hidden"))


def text_of(page, notice: str) -> str:  # type: ignore[no-untyped-def]
    return str(page.evaluate(f"document.querySelector('[data-notice={notice}]').textContent"))


def fits_the_bench(page) -> bool:  # type: ignore[no-untyped-def]
    """The notices and the controls are on the first screen: nothing to scroll to."""
    bottom = page.evaluate("document.querySelector('[data-link-notices]').getBoundingClientRect().bottom")
    return bool(bottom <= BENCH["height"])


@pytest.mark.timeout(180)
def test_the_bench_sees_not_answering_a_lost_link_the_pause_and_resumes_in_one_click(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    h = court.hearing_a
    open_hearing(services, h, HearingState.IN_SESSION)
    admit(services, court, h)
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{h}/media"
    headers = {"Authorization": f"Device {kiosk}"}

    judge = browser.new_context(locale="da-DK", viewport=BENCH).new_page()
    sign_in(judge, live_server, "judge", court.secrets["judge"])
    loaded = time.monotonic()
    judge.goto(f"{live_server.url}/hearings/{h}")
    # Never connected: said within 5 s of the page opening.
    wait_until(lambda: shown(judge, "not-answering"), timeout=5)
    assert time.monotonic() - loaded < 5
    assert "Arrestlokalet svarer ikke" in text_of(judge, "not-answering")
    assert judge.evaluate("document.documentElement.lang") == "da"
    assert fits_the_bench(judge)
    screenshot(judge, "panel-not-answering")
    assert_accessible(judge)

    with PeerThread(Peer("custody", tone=1150.0), url, headers) as custody:
        wait_until(lambda: not shown(judge, "not-answering") and shown(judge, "answering"))
        # The link dies without a word: the judge is told within 5 s, and the hearing pauses.
        assert custody._loop is not None
        dropped = time.monotonic()
        asyncio.run_coroutine_threadsafe(kill(custody.peer), custody._loop).result(10)
        wait_until(lambda: shown(judge, "interrupted"), timeout=5)
        assert time.monotonic() - dropped < 5
        wait_until(
            lambda: judge.evaluate("document.querySelector('[data-role=hearing-state]').className").endswith("paused")
        )
        assert "Retsmødet er sat på pause automatisk" in text_of(judge, "interrupted")
        assert "Forbindelsen til Arresten blev afbrudt" in text_of(judge, "interrupted")
        screenshot(judge, "panel-interrupted")
        assert_accessible(judge)

    with PeerThread(Peer("custody", tone=1150.0), url, headers):
        wait_until(lambda: shown(judge, "restored") and not shown(judge, "interrupted"))
        assert "Arresten er tilbage efter en afbrydelse på" in text_of(judge, "restored")
        assert not text_of(judge, "restored").endswith("..")
        assert not shown(judge, "answering")  # "back after" says it: one notice, not two
        resume = judge.get_by_role("button", name="Genoptag retsmødet")
        resume.wait_for()
        assert fits_the_bench(judge)
        screenshot(judge, "panel-restored")
        assert_accessible(judge)
        resume.focus()
        judge.keyboard.press("Enter")  # one click, or the keyboard
        wait_until(
            lambda: judge.evaluate("document.querySelector('[data-role=hearing-state]').className").endswith(
                "in_session"
            )
        )
        wait_until(lambda: not shown(judge, "restored") and not judge.locator("[data-role=resume-form]").is_visible())
    actions = [e.action for e in logged(services)]
    assert actions.count("hearing.interrupted") == 1 and actions.count("hearing.link_restored") == 1
    assert "hearing.resumed" in actions

    # The clerk follows read-only, in English: the room is gone again (left), and said so.
    clerk = browser.new_context(locale="en-GB", viewport=BENCH).new_page()
    sign_in(clerk, live_server, "clerk", court.secrets["clerk"])
    clerk.goto(f"{live_server.url}/hearings/{h}")
    wait_until(lambda: shown(clerk, "not-answering"), timeout=5)
    assert "The custody room is not answering" in text_of(clerk, "not-answering")
    # The court's clock, 24 hours, as the hearing's times on the page (the browser runs in UTC).
    court_hour = datetime.now(ZoneInfo(live_server.settings.court_timezone)).strftime("(since %H:")
    assert court_hour in text_of(clerk, "not-answering") and "M)" not in text_of(clerk, "not-answering")
    assert clerk.locator("[data-role=resume-form]").count() == 0
    wait_until(lambda: clerk.locator("[data-role=seats] [data-link-mark]").count() > 0)
    screenshot(clerk, "panel-not-answering-clerk-en")
    assert_accessible(clerk)
