"""When the judge's session ends while the hearing page is open, the page
says so where the judge looks, instead of retrying a feed the server will
refuse (the panel) or showing a plain "Not connected" (the video link)."""

from __future__ import annotations

import pytest

from tests.browser import LiveServer, screenshot, sign_in
from tests.conftest import Court_
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("locale", "panel_says", "link_says", "join", "signout"),
    [
        ("en-GB", "Your session has ended", "You signed out", "Join the video link", "Sign out"),
        ("da-DK", "Din session er afsluttet", "Du er logget ud", "Tilslut videoforbindelsen", "Log ud"),
    ],
)
def test_signing_out_in_another_tab_is_said_on_the_hearing_page(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    court: Court_,
    locale: str,
    panel_says: str,
    link_says: str,
    join: str,
    signout: str,
) -> None:
    h = court.hearing_a
    context = browser.new_context(locale=locale)
    judge = context.new_page()
    sign_in(judge, live_server, "judge", court.secrets["judge"])
    judge.goto(f"{live_server.url}/hearings/{h}")
    judge.locator("button[data-transition=open]").click()
    link = judge.locator("[data-panel] [data-role=link]")
    link.and_(judge.locator(".ok")).wait_for()
    judge.get_by_role("button", name=join).click()
    # Polled from here: page.wait_for_function polls with eval(), which the CSP forbids.
    wait_until(lambda: judge.evaluate("() => window.hearingMedia && window.hearingMedia.state === 'connected'"))

    other = context.new_page()
    other.goto(f"{live_server.url}/hearings")
    other.get_by_role("button", name=signout).click()

    link.filter(has_text=panel_says).wait_for()
    judge.locator("[data-media-panel] [data-role=status]").filter(has_text=link_says).wait_for()
    screenshot(judge, f"signed-out-{locale}")
    # The feed stays down: no reconnect loop against a refused handshake.
    judge.wait_for_timeout(1500)
    assert panel_says in link.inner_text()
