"""Plan B through the real media socket, on both databases: a Python custody
peer whose connection is killed abruptly mid-hearing, and that comes back.

A killed connection pauses the hearing (when the court says so) and is
audited as an interruption; back within RECONNECT_SECONDS, the seat is the
same, with its floor, mutes and consultation intact, and the interruption's
duration is audited; back later, it waits in the lobby."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.clock import utcnow
from hearing.db.models import Court, Hearing, StaffUser
from hearing.docket import proceedings
from hearing.docket.lifecycle import HearingState, Transition
from hearing.docket.parties import EndpointKind
from hearing.live.hearing import RECONNECT_SECONDS
from hearing.routing.policy import Medium
from hearing.services import Services
from hearing.speaker_order import presiding
from hearing.speaker_order.commands import Command
from hearing.speaker_order.floor import Floor
from tests.browser import LiveServer
from tests.conftest import Court_, admit, enroll_device, logged, open_hearing, session_cookie
from tests.media.peers import Peer
from tests.waiting import wait_until_async

# The live server's hearings run on this clock: a test moves it past the reconnect window.
OFFSET = [0.0]


def shifted() -> float:
    return time.monotonic() + OFFSET[0]


@pytest.fixture
def hearing(live_server: LiveServer, services: Services, court: Court_) -> dict[str, Any]:
    OFFSET[0] = 0.0
    live_server.app.state.live_hearings.clock = shifted
    open_hearing(services, court.hearing_a, HearingState.IN_SESSION)
    admit(services, court, court.hearing_a)
    judge = Actor("user", court.users["judge"], "judge")
    # A floor worth keeping: the detainee has the floor, the prosecutor's room
    # does not see the custody room's picture.
    for command in (
        Command("request", speaker="custody:detainee"),
        Command("grant"),
        Command("hide", source="custody", receiver="courtroom", medium=Medium.VIDEO),
    ):
        services.unit_of_work(
            lambda db, c=command: presiding.act(db, judge, court.hearing_a, c, courtroom_id=court.courtroom_a)
        )
    kiosk = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").token
    return {
        "url": f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{court.hearing_a}/media",
        "judge": {"Cookie": f"hearing_session={session_cookie(services, court.users['judge'])}"},
        "custody": {"Authorization": f"Device {kiosk}"},
    }


def state_of(services: Services, hearing_id: int) -> tuple[HearingState, Floor]:
    def load(db: Session) -> tuple[HearingState, Floor]:
        row = db.get_one(Hearing, hearing_id)
        return row.state, presiding.current(db, row)

    return services.unit_of_work(load)


def entries(services: Services, action: str) -> list[dict[str, object]]:
    return [e.payload or {} for e in logged(services) if e.action == action]


async def kill(peer: Peer) -> None:
    """The link dies without a word: no leave, no close frame."""
    assert peer.client is not None and peer.client._socket is not None
    peer.client._socket.transport.abort()  # type: ignore[attr-defined]
    await peer.connection.close()


async def drop_and_return(
    services: Services, hearing_id: int, hearing: dict[str, Any], *, late: bool = False
) -> tuple[list[dict[str, Any]], Floor, Floor]:
    """Judge and custody connect; custody is killed; (late: the clock moves
    past the window;) custody connects again. What the judge's seat was told,
    the floor before the drop and after the return."""
    judge, custody, again = Peer("judge", tone=450.0), Peer("custody", tone=1150.0), Peer("custody", tone=1150.0)
    try:
        await judge.connect(hearing["url"], hearing["judge"])
        await custody.connect(hearing["url"], hearing["custody"])
        assert judge.client is not None
        _, before = state_of(services, hearing_id)
        await kill(custody)
        await wait_until_async(
            lambda: any(e["type"] == "interruption" and e["since"] for e in judge.client.events),  # type: ignore[union-attr]
            describe=lambda: list(judge.client.events)[-5:],  # type: ignore[union-attr]
        )
        if late:
            OFFSET[0] += RECONNECT_SECONDS + 1
        await again.connect(hearing["url"], hearing["custody"])
        await wait_until_async(lambda: entries(services, "hearing.link_restored"))
        await wait_until_async(
            lambda: any(e["type"] == "interruption" and e["since"] is None for e in judge.client.events)  # type: ignore[union-attr]
        )
        _, after = state_of(services, hearing_id)
        assert again.client is not None and again.client.seat == "custody"
        return list(judge.client.events), before, after
    finally:
        for peer in (judge, custody, again):
            await peer.close()


@pytest.mark.timeout(120)
def test_a_killed_custody_link_pauses_the_hearing_and_back_in_time_it_has_its_seat_as_it_was(
    services: Services, court: Court_, hearing: dict[str, Any]
) -> None:
    events, before, after = asyncio.run(drop_and_return(services, court.hearing_a, hearing))
    interrupted = entries(services, "hearing.interrupted")
    assert interrupted == [{"seat": "custody", "paused": True, "from_state": "in_session", "to_state": "paused"}]
    system = [e for e in logged(services) if e.action in ("hearing.interrupted", "hearing.link_restored")]
    assert {(e.actor_kind, e.actor_id) for e in system} == {("system", None)}
    # The panel's and the seats' word: the hearing paused by itself.
    assert any(e["type"] == "interruption" and e["seat"] == "custody" and e["paused"] for e in events)
    (restored,) = entries(services, "hearing.link_restored")
    assert restored["seat"] == "custody" and restored["in_time"] is True and restored["lobby"] is False
    assert isinstance(restored["duration_seconds"], float) and 0 <= restored["duration_seconds"] < RECONNECT_SECONDS
    # Same seat, same floor: admitted, the floor, the screening; nothing moved.
    assert after == before and after.holder == "custody:detainee" and "custody" in after.admitted
    assert state_of(services, court.hearing_a)[0] is HearingState.PAUSED  # the judge resumes
    joins = [e.get("reconnected", False) for e in entries(services, "participant.joined") if e["seat"] == "custody"]
    assert joins == [False, True]


@pytest.mark.timeout(120)
def test_without_pause_on_drop_the_hearing_goes_on_and_the_interruption_is_still_audited(
    services: Services, court: Court_, hearing: dict[str, Any]
) -> None:
    services.unit_of_work(lambda db: setattr(db.get_one(Court, court.court_id), "pause_on_drop", False))
    events, before, after = asyncio.run(drop_and_return(services, court.hearing_a, hearing))
    assert entries(services, "hearing.interrupted") == [
        {"seat": "custody", "paused": False, "from_state": "in_session", "to_state": "in_session"}
    ]
    assert state_of(services, court.hearing_a)[0] is HearingState.IN_SESSION
    assert not any(e["type"] == "interruption" and e["paused"] for e in events)
    assert after == before


@pytest.mark.timeout(120)
def test_a_consultation_survives_the_drop(services: Services, court: Court_, hearing: dict[str, Any]) -> None:
    def consult(db: Session) -> None:
        judge = db.get_one(StaffUser, court.users["judge"])
        actor = Actor("user", judge.id, "judge")
        proceedings.transition(db, judge, actor, court.hearing_a, Transition.BEGIN_CONSULTATION, utcnow())

    services.unit_of_work(consult)
    _, before, after = asyncio.run(drop_and_return(services, court.hearing_a, hearing))
    assert before.consultation == {"custody", "booth"} and after == before
    # A consultation cannot pause; the interruption is on the record all the same.
    assert entries(services, "hearing.interrupted")[0]["paused"] is False
    assert state_of(services, court.hearing_a)[0] is HearingState.CONSULTATION


@pytest.mark.timeout(120)
def test_back_after_the_window_the_seat_waits_in_the_lobby(
    services: Services, court: Court_, hearing: dict[str, Any]
) -> None:
    events, before, after = asyncio.run(drop_and_return(services, court.hearing_a, hearing, late=True))
    (restored,) = entries(services, "hearing.link_restored")
    assert restored["in_time"] is False and restored["lobby"] is True
    assert isinstance(restored["duration_seconds"], float) and restored["duration_seconds"] >= RECONNECT_SECONDS
    # In the lobby: the floor and its request are gone; the judge's screening stays.
    assert "custody" not in after.admitted and after.holder is None and after.hidden == before.hidden
    assert after.version == before.version + 1
    joins = [e.get("reconnected", False) for e in entries(services, "participant.joined") if e["seat"] == "custody"]
    assert joins == [False, False]


@pytest.mark.timeout(60)
def test_a_drop_in_the_lobby_or_before_the_session_interrupts_nothing(
    live_server: LiveServer, services: Services, court: Court_
) -> None:
    open_hearing(services, court.hearing_a)  # open: the lobby, not yet in session
    url = f"ws://127.0.0.1:{live_server.settings.port}/ws/hearings/{court.hearing_a}/media"
    headers = {
        "Authorization": f"Device {enroll_device(services, 'kiosk-a', EndpointKind.CUSTODY, 'Facility A').token}"
    }

    async def scenario() -> None:
        custody = Peer("custody", tone=1150.0)
        try:
            await custody.connect(url, headers)
            await kill(custody)
            await wait_until_async(lambda: entries(services, "participant.left"))
        finally:
            await custody.close()

    asyncio.run(scenario())
    assert entries(services, "hearing.interrupted") == []
    assert state_of(services, court.hearing_a)[0] is HearingState.OPEN
