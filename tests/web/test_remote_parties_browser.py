"""Issue 12's pages in Debian's Chromium with fake media: the clerk invites
a remote interpreter and the judge lets them in.

The clerk (Danish, then English) adds an interpreter on the hearing's page,
issues the code and sees it once with the invitation in both languages,
downloads the calendar file (it parses, and holds no code), and finds the
code gone on reloading; the register of interpreters enrols an
authenticator from its QR. The judge (English, 1366×768) has joined the
video link when the clerk adds a second interpreter during the hearing; the
interpreter takes their seat with the session their code opened (redeemed
with the codes' service, the seat taken by tests/web/remote_seat.py as the
gateway's socket will, the media from the Python media client): the
judge's lobby card shows their name, role, language and live picture with
the arrival signal (the highlight, the live region's words, one chime),
and the judge admits them; a witness who arrives is turned away after the
card asks. Every screen is saved and scanned by axe-core.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import icalendar
import pyotp
import pytest
from sqlalchemy import select

from hearing.clock import utcnow
from hearing.db.models import OneTimeCode, Participant
from hearing.docket.lifecycle import HearingState
from hearing.interpreter import admission
from hearing.services import Services
from tests.browser import LiveServer, assert_accessible, screenshot, sign_in
from tests.conftest import Court_, logged, open_hearing
from tests.media.peers import Peer, PeerThread
from tests.waiting import wait_until
from tests.web import remote_seat

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

BENCH = {"width": 1366, "height": 768}
DESK = {"width": 1366, "height": 900}


def add_party(page: Any, role_label: str, name: str, language: str = "", contact: str = "") -> None:
    form = page.locator("form.remote-add")
    form.locator("select[name=role]").select_option(label=role_label)
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=language]").fill(language)
    form.locator("input[name=contact]").fill(contact)
    form.locator("button[type=submit]").click()
    page.locator("#remote-parties").get_by_text(name, exact=True).wait_for()


def party_row(page: Any, name: str) -> Any:
    return page.locator("#remote-parties tr", has=page.get_by_text(name, exact=True))


def invitation_of(services: Services, name: str) -> str:
    def find(db: Any) -> str:
        party = db.scalar(select(Participant.id).where(Participant.display_name == name))
        query = select(OneTimeCode.invitation).where(OneTimeCode.participant_id == party)
        return str(db.scalar(query.order_by(OneTimeCode.id.desc())))

    return services.unit_of_work(find)


def redeem(services: Services, invitation: str, code: str) -> str:
    """What the gateway does with the code typed on the join page."""
    redeemed = services.unit_of_work(
        lambda db: admission.redeem(db, services.keys, invitation, code.replace(" ", ""), now=utcnow())
    )
    assert isinstance(redeemed, admission.Redeemed), redeemed
    return redeemed.token


@pytest.mark.timeout(180)
def test_the_clerk_invites_an_interpreter_and_the_code_is_shown_once(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    h = court.hearing_a
    context = browser.new_context(locale="da-DK", viewport=DESK, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    clerk = context.new_page()
    sign_in(clerk, live_server, "clerk", court.secrets["clerk"])
    clerk.goto(f"{live_server.url}/hearings/{h}")
    clerk.get_by_role("heading", name="Fjerndeltagere").wait_for()
    add_party(clerk, "Tolk", "Amira Haddad", "arabisk", "amira@example.dk")
    row = party_row(clerk, "Amira Haddad")
    assert "Ingen kode endnu" in row.inner_text() and "arabisk" in row.inner_text()
    screenshot(clerk, "remote-1-hearing-da")
    assert_accessible(clerk)

    row.get_by_role("button", name="Udsted kode").click()
    clerk.wait_for_url(re.compile(r"/remote/\d+/code$"))
    code = clerk.locator("[data-role=code]").inner_text()
    assert re.fullmatch(r"\d{4} \d{4}", code)
    letter = clerk.locator("[data-role=invitation]").input_value()
    assert "Retsmøde via video" in letter and "Video hearing" in letter
    assert letter.index("Retsmøde via video") < letter.index("Video hearing")  # Danish first
    assert letter.count(code) == 2 and f"/join/{invitation_of(services, 'Amira Haddad')}" in letter
    assert "Koden vises kun denne ene gang" in clerk.locator("[data-role=shown-once]").inner_text()
    clerk.get_by_role("button", name="Kopiér invitationen").click()
    clerk.get_by_role("status").filter(has_text="Kopieret.").wait_for()
    assert clerk.evaluate("navigator.clipboard.readText()") == letter
    with clerk.expect_download() as download:
        clerk.locator("[data-role=ics]").click()
    ics = download.value.path().read_bytes()
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert "SS 1-100/2026" in str(event["summary"]) and str(event["url"]).endswith(
        f"/join/{invitation_of(services, 'Amira Haddad')}"
    )
    assert code.encode() not in ics and code.replace(" ", "").encode() not in ics
    screenshot(clerk, "remote-2-code-da")
    assert_accessible(clerk)

    # Reloaded: the code is gone, and the page says so.
    clerk.reload()
    clerk.locator("[data-role=gone]").wait_for()
    assert clerk.locator("[data-role=code]").count() == 0 and code not in clerk.content()
    assert_accessible(clerk)

    # In English: the hearing's page says the code's state in words; the code page too.
    clerk.get_by_role("button", name="English").click()
    clerk.locator("[data-role=gone]").filter(has_text="has been shown and is gone").wait_for()
    screenshot(clerk, "remote-3-gone-en")
    assert_accessible(clerk)
    clerk.get_by_role("link", name="Back to the hearing").click()
    assert "Live from" in party_row(clerk, "Amira Haddad").inner_text()
    # Revoking asks first.
    party_row(clerk, "Amira Haddad").get_by_text("Revoke the code …").click()
    screenshot(clerk, "remote-4-revoke-en")
    assert_accessible(clerk)
    party_row(clerk, "Amira Haddad").get_by_role("button", name="Yes, revoke the code").click()
    party_row(clerk, "Amira Haddad").get_by_text("Revoked").wait_for()
    assert [e.action for e in logged(services)][-1] == "remote.code_revoked"


@pytest.mark.timeout(120)
def test_the_register_enrols_an_interpreters_authenticator_from_the_qr(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    court: Court_,
) -> None:
    clerk = browser.new_context(locale="en-GB", viewport=DESK).new_page()
    sign_in(clerk, live_server, "clerk", court.secrets["clerk"])
    clerk.get_by_role("link", name="Interpreters").click()
    clerk.get_by_role("heading", name="The register of interpreters").wait_for()
    clerk.get_by_label("Name").fill("Amira Haddad")
    clerk.get_by_label("Languages").fill("arabisk, fransk")
    clerk.get_by_role("button", name="Add an interpreter").click()
    clerk.locator("[data-role=totp-state]").filter(has_text="none confirmed").wait_for()
    assert_accessible(clerk)
    clerk.get_by_role("button", name="Enrol an authenticator: Amira Haddad").click()
    qr = clerk.get_by_role("img", name="QR code for the interpreter's authenticator app")
    qr.wait_for()
    uri = unquote(clerk.locator(".mono").text_content() or "")
    secret = re.search(r"secret=([A-Z2-7]+)", uri)
    assert secret, uri
    screenshot(clerk, "register-1-qr-en")
    assert_accessible(clerk)
    clerk.get_by_label("First code from the app").fill(pyotp.TOTP(secret.group(1)).now())
    clerk.get_by_role("button", name="Confirm").click()
    clerk.locator("[data-role=totp-state]").filter(has_text="confirmed").wait_for()
    clerk.get_by_role("button", name="Dansk").click()
    clerk.get_by_role("heading", name="Tolkeregistret").wait_for()
    screenshot(clerk, "register-2-da")
    assert_accessible(clerk)


def lobby_card(judge: Any, seat: str) -> Any:
    return judge.locator(f"li.lobby-card[data-seat='{seat}']")


def picture_width(judge: Any, seat: str) -> int:
    width: int = judge.evaluate(f"document.querySelector('video[data-lobby-view=\"{seat}\"]').videoWidth")
    return width


def panel_height(judge: Any) -> float:
    height: float = judge.evaluate("document.querySelector('[data-panel]').getBoundingClientRect().height")
    return height


@pytest.mark.timeout(240)
def test_the_judge_sees_who_waits_hears_the_chime_and_admits_them(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    services: Services,
    court: Court_,
) -> None:
    h = court.hearing_a
    open_hearing(services, h, HearingState.IN_SESSION)
    remote_seat.take_remote_seats(live_server.app)
    url = f"ws://127.0.0.1:{live_server.settings.port}{remote_seat.PATH}"

    judge = browser.new_context(locale="en-GB", viewport=BENCH).new_page()
    errors: list[str] = []
    judge.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(judge, live_server, "judge", court.secrets["judge"])
    judge.goto(f"{live_server.url}/hearings/{h}")
    judge.get_by_role("button", name="Join the video link").click()
    judge.locator("[data-media-panel]").get_by_role("status").filter(has_text="Connected").wait_for()
    assert judge.locator("li.lobby-card").count() == 0
    before = panel_height(judge)

    # The clerk adds the interpreter during the hearing, after the judge's link was made.
    clerk = browser.new_context(locale="da-DK", viewport=DESK).new_page()
    sign_in(clerk, live_server, "clerk", court.secrets["clerk"])
    clerk.goto(f"{live_server.url}/hearings/{h}")
    add_party(clerk, "Tolk", "Amira Haddad", "arabisk")
    party_row(clerk, "Amira Haddad").get_by_role("button", name="Udsted kode").click()
    code = clerk.locator("[data-role=code]").inner_text()
    token = redeem(services, invitation_of(services, "Amira Haddad"), code)
    seat = services.unit_of_work(lambda db: admission.load_session(db, services.keys, token, now=utcnow())).seat  # type: ignore[union-attr]

    with PeerThread(Peer(seat, tone=523.0, camera=(640, 360)), url, {"Authorization": f"Remote {token}"}):
        card = lobby_card(judge, seat)
        card.wait_for()
        assert card.locator(".lobby-who").inner_text() == "Amira Haddad"
        what = card.locator(".lobby-what").inner_text()
        assert "Interpreter (remote)" in what and "Language: arabisk" in what
        assert card.locator("[data-role=lobby-waiting]").inner_text() == "Amira Haddad is waiting"
        # The arrival signal: the highlight, the live region's words, one chime.
        assert card.get_attribute("data-arrived") == "true" and "arrived" in (card.get_attribute("class") or "")
        announce = judge.locator("[data-role=lobby-announce]")
        assert announce.get_attribute("aria-live") == "polite"
        assert announce.inner_text() == "Amira Haddad is waiting in the lobby."
        assert judge.locator(".panel-lobby").get_attribute("data-chimes") == "1"
        assert judge.evaluate("window.hearingChime.context.state") == "running"
        # The live picture: the link pinned the new seat (a new offer on the same socket).
        wait_until(lambda: picture_width(judge, seat) == 640, timeout=20)
        card.locator("[data-role=lobby-overlay]").wait_for(state="hidden")
        assert card.get_attribute("data-picture") == "shown"
        live = live_server.app.state.live_hearings.get(h)
        assert live is not None and not live.room.routes["judge"].hears(seat)  # seen, never heard, while waiting
        assert panel_height(judge) <= before + 1  # the card fits the lobby's place on the bench
        screenshot(judge, "lobby-1-arrival-en")
        assert_accessible(judge)

        # A language switch keeps the link and does not ring again.
        judge.get_by_role("button", name="Dansk").click()
        lobby_card(judge, seat).locator("[data-role=lobby-waiting]").filter(has_text="Amira Haddad venter").wait_for()
        assert judge.locator(".panel-lobby").get_attribute("data-chimes") in (None, "1")
        assert judge.evaluate("window.hearingChime.rung") == 1
        wait_until(lambda: picture_width(judge, seat) == 640)
        screenshot(judge, "lobby-2-arrival-da")
        assert_accessible(judge)
        judge.get_by_role("button", name="English").click()
        lobby_card(judge, seat).get_by_role("button", name="Admit: Interpreter (remote) — Amira Haddad").click()
        wait_until(lambda: seat in live.floor.admitted)
        lobby_card(judge, seat).wait_for(state="detached")
        assert "lobby.admitted" in [e.action for e in logged(services)]
        wait_until(lambda: live.room.routes["judge"].hears(seat))

        # A witness arrives: a second chime; turned away, after the card asks.
        clerk.get_by_role("link", name="Tilbage til retsmødet").click()
        add_party(clerk, "Vidne", "Vera Vidne")
        party_row(clerk, "Vera Vidne").get_by_role("button", name="Udsted kode").click()
        witness_code = clerk.locator("[data-role=code]").inner_text()
        witness_token = redeem(services, invitation_of(services, "Vera Vidne"), witness_code)
        witness = services.unit_of_work(
            lambda db: admission.load_session(db, services.keys, witness_token, now=utcnow())
        ).seat  # type: ignore[union-attr]
        with PeerThread(
            Peer(witness, tone=659.0, camera=(640, 360)), url, {"Authorization": f"Remote {witness_token}"}
        ) as thread:
            card = lobby_card(judge, witness)
            card.wait_for()
            assert "Witness (remote)" in card.locator(".lobby-what").inner_text()
            assert judge.evaluate("window.hearingChime.rung") == 2
            # The clerk follows the panel: the card, said and highlighted, without a sound or the buttons.
            clerk.get_by_role("link", name="Tilbage til retsmødet").click()
            clerks = lobby_card(clerk, witness)
            clerks.locator("[data-role=lobby-waiting]").filter(has_text="Vera Vidne venter").wait_for()
            assert (
                clerks.locator("[data-role=lobby-overlay]").inner_text()
                == "Billedet vises på dommerens videoforbindelse"
            )
            assert clerks.get_by_role("button").count() == 0
            assert clerk.evaluate("window.hearingChime.rung") == 0
            assert_accessible(clerk)
            card.get_by_role("button", name="Turn away: Witness (remote) — Vera Vidne").click()
            question = card.locator("[data-role=lobby-confirm]")
            question.wait_for()
            assert "Turn Vera Vidne away?" in question.inner_text()
            assert judge.evaluate("document.activeElement.textContent") == "Cancel"
            screenshot(judge, "lobby-3-turn-away-en")
            assert_accessible(judge)
            judge.keyboard.press("Escape")  # not yet: the question goes, the card stays
            question.wait_for(state="hidden")
            assert witness not in live.floor.admitted
            card.get_by_role("button", name="Turn away: Witness (remote) — Vera Vidne").click()
            card.get_by_role("button", name="Yes, turn away").click()
            card.wait_for(state="detached")
            wait_until(lambda: witness not in live.connected)
            assert thread.peer.client is not None
        assert "lobby.denied" in [e.action for e in logged(services)]
    assert judge.evaluate("window.hearingMedia.state") == "connected"
    assert errors == []
