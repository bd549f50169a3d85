"""Interpretation on the pages, in Debian's Chromium (issue 12): the judge
chooses simultaneous interpretation on the panel (with counsel in the
consultation booth needing it too); the panel and the detainee's kiosk say
in words where the interpretation goes, and both turn, without anyone
switching them, when the detainee is given the floor. Axe-clean on both."""

from __future__ import annotations

from typing import Any

import pytest

from hearing.audit.actions import Action
from hearing.db.models import Participant
from hearing.docket.parties import Connection, ParticipantRole
from hearing.services import Services
from tests.browser import LiveServer, assert_accessible, screenshot, sign_in
from tests.conftest import Court_, logged, open_hearing
from tests.waiting import wait_until
from tests.web.test_kiosk_browser import Bench, enrolled_kiosk, wait_for_state

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

BENCH_SCREEN = {"width": 1366, "height": 768}


def book_interpreter(services: Services, hearing_id: int) -> str:
    def book(db: Any) -> int:
        party = Participant(
            hearing_id=hearing_id,
            role=ParticipantRole.INTERPRETER,
            display_name="Test Interpreter",
            connection=Connection.REMOTE,
        )
        db.add(party)
        db.flush()
        return int(party.id)

    return f"interpreter-{services.unit_of_work(book)}"


def notices(page: Any) -> str:
    return str(page.locator("[data-role=notices]").inner_text())


@pytest.mark.timeout(180)
def test_the_judge_chooses_simultaneous_interpretation_and_both_pages_follow_the_floor(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    h = court.hearing_a
    interpreter = book_interpreter(services, h)  # counsel sits in the courtroom: the booth is counsel's seat
    open_hearing(services, h)
    bench = Bench(live_server, services, court)

    kiosk, _ = enrolled_kiosk(browser, live_server, services)
    wait_for_state(kiosk, "lobby")
    bench.command("admit", seat="custody")
    wait_for_state(kiosk, "admitted")
    bench.command("admit", seat=interpreter)  # waiting, the interpreter would be heard by no one
    assert kiosk.locator(".kiosk-notice-interpretation").count() == 0  # no interpretation: nothing said

    judge = browser.new_context(locale="en-GB", viewport=BENCH_SCREEN).new_page()
    sign_in(judge, live_server, "judge", court.secrets["judge"])
    judge.goto(f"{live_server.url}/hearings/{h}")
    panel = judge.locator("[data-panel]")
    panel.get_by_role("status").filter(has_text="Live").wait_for()
    state = panel.locator("[data-role=interpretation-state]")
    panel.locator("[data-interpretation][data-mode=none]").wait_for()  # drawn from the feed
    assert state.inner_text() == "No interpretation"
    assert panel.get_by_label("No interpretation").is_checked()

    # Counsel in the booth needs it too; then simultaneous, from the keyboard.
    counsel = panel.get_by_label("Counsel also needs interpretation")
    assert counsel.is_visible()
    counsel.check()
    panel.get_by_label("Simultaneous (whispered): follows the floor").focus()
    judge.keyboard.press("Space")
    wait_until(lambda: state.inner_text() == "Simultaneous interpretation — now to the detainee and counsel")
    assert bench.live.floor.needs_interpretation == {"custody", "booth"}
    heard = panel.locator("[data-role=interpretation-heard]")
    wait_until(lambda: heard.inner_text().startswith("The interpreter is heard by:"))
    assert "Custody facility" in heard.inner_text() and "Courtroom" not in heard.inner_text()
    kiosk.locator(".kiosk-notice-interpretation").wait_for()
    assert "Tolkning: tolken taler til dig, hen over retten" in notices(kiosk)
    screenshot(judge, "interpretation-1-panel-to-the-detainee")
    screenshot(kiosk, "interpretation-1-kiosk-to-the-detainee")
    assert_accessible(judge)
    assert_accessible(kiosk)

    # The detainee is given the floor: the direction turns by itself, on both pages.
    bench.command("grant", speaker="custody:detainee")
    wait_until(lambda: state.inner_text() == "Simultaneous interpretation — now to the court")
    wait_until(lambda: "du har ordet — tolken siger dine ord til retten" in notices(kiosk))
    wait_until(lambda: "Courtroom" in heard.inner_text() and "Custody facility" not in heard.inner_text())
    screenshot(judge, "interpretation-2-panel-to-the-court")
    screenshot(kiosk, "interpretation-2-kiosk-to-the-court")
    assert_accessible(judge)
    assert_accessible(kiosk)

    # In English on the kiosk, and back to the party when the floor is taken back.
    kiosk.get_by_role("button", name="English").click()
    wait_until(lambda: "you have the floor — the interpreter speaks your words to the court" in notices(kiosk))
    bench.command("take_back")
    wait_until(lambda: state.inner_text() == "Simultaneous interpretation — now to the detainee and counsel")
    wait_until(lambda: "Interpretation: the interpreter speaks to you, over the court" in notices(kiosk))

    # Consecutive: everyone hears the interpreter.
    panel.get_by_label("Consecutive: the interpreter speaks after each speaker, to everyone").check()
    wait_until(lambda: state.inner_text() == "Consecutive interpretation — everyone hears the interpreter")
    wait_until(lambda: "for everyone" in notices(kiosk))
    assert not counsel.is_checked()

    entries = [e for e in logged(services) if e.action.startswith("interpretation.")]
    assert [(e.action, e.actor_kind) for e in entries] == [
        (Action.INTERPRETATION_SET.value, "user"),
        (Action.INTERPRETATION_DIRECTION.value, "system"),
        (Action.INTERPRETATION_DIRECTION.value, "system"),
        (Action.INTERPRETATION_DIRECTION.value, "system"),
        (Action.INTERPRETATION_SET.value, "user"),
        (Action.INTERPRETATION_DIRECTION.value, "system"),
    ]
    assert [e.payload["direction"] for e in entries if e.action == Action.INTERPRETATION_DIRECTION.value] == [  # type: ignore[index]
        "to_party",
        "to_court",
        "to_party",
        "everyone",
    ]
