"""A hearing conducted through the real service functions, from booking to
close: the lobby, the floor and a private consultation. The auditor's
tests (the page and `hearing audit show`) read its log."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from babel.dates import format_skeleton
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.clock import utcnow
from hearing.db.models import StaffUser
from hearing.docket import booking, proceedings
from hearing.docket.lifecycle import HearingState, Transition
from hearing.docket.parties import EndpointKind, HearingKind
from hearing.services import Services
from hearing.speaker_order import commands, presiding
from hearing.speaker_order.commands import Command
from tests.conftest import Court_, enroll_device, open_hearing

CASE = "SS 1-300/2026"
DETAINEE, PROSECUTOR, DEFENCE = "custody:detainee", "courtroom:prosecutor", "courtroom:defence_counsel"
HIDE = {"source": "custody", "receiver": "courtroom", "medium": "video"}


@dataclasses.dataclass(frozen=True)
class Conducted:
    hearing_id: int
    start: datetime
    end: datetime


def conduct(services: Services, court: Court_) -> Conducted:
    """Book, open, admit, give and take the floor, confer in private, close."""
    # The seeded hearing of this courtroom is out of the way: this one is booked now.
    open_hearing(services, court.hearing_a, HearingState.CLOSED)
    clerk = Actor("user", court.users["clerk"], "clerk")
    judge = Actor("user", court.users["judge"], "judge")
    endpoint_id = enroll_device(services, "kiosk-a", EndpointKind.CUSTODY, "Facility A").endpoint_id
    kiosk = Actor("device", endpoint_id, "custody")
    start = utcnow().replace(second=0, microsecond=0).astimezone(UTC)
    request = booking.BookingRequest(
        case_number=CASE,
        kind=HearingKind.REMAND_EXTENSION,
        courtroom_id=court.courtroom_a,
        facility_id=court.facility_a,
        start=start,
        minutes=45,
        detainee_name="Jens Hansen",
        detainee_reference="VF-77",
        prosecutor="Anklager Friis",
        defence_counsel="Advokat Vang",
    )
    hearing_id = services.unit_of_work(lambda db: booking.book(db, clerk, request).id)

    def transition(step: Transition) -> None:
        def run(db: Session) -> None:
            proceedings.transition(db, db.get_one(StaffUser, judge.id), judge, hearing_id, step, utcnow())

        services.unit_of_work(run)

    def floor(action: str, **fields: Any) -> None:
        # Parsed as the judge's panel sends it; the custody endpoint is connected.
        command = commands.parse({"action": action, **fields})
        services.unit_of_work(
            lambda db: presiding.act(
                db, judge, hearing_id, command, courtroom_id=court.courtroom_a, connected=frozenset({"custody"})
            )
        )

    def endpoint(action: str, speaker: str) -> None:
        command = Command(action, speaker=speaker)
        services.unit_of_work(lambda db: presiding.act(db, kiosk, hearing_id, command, seat="custody"))

    def media(actor: Actor, action: Action, **payload: object) -> None:
        # As the media socket (hearing/web/media.py) records a seat joining and leaving.
        services.unit_of_work(lambda db: append(db, actor, action, hearing_id=hearing_id, **payload))

    transition(Transition.OPEN)
    media(judge, Action.PARTICIPANT_JOINED, seat="judge")
    media(kiosk, Action.PARTICIPANT_JOINED, seat="custody")
    floor("deny", seat="custody")
    media(kiosk, Action.PARTICIPANT_LEFT, seat="custody", reason="denied")
    media(kiosk, Action.PARTICIPANT_JOINED, seat="custody", reconnected=True)
    floor("admit", seat="custody")
    transition(Transition.START)
    floor("mode", mode="controlled")
    endpoint("request", DETAINEE)
    floor("request", speaker=PROSECUTOR)
    floor("request", speaker=DEFENCE)
    floor("reorder", speaker=PROSECUTOR, position=0)
    floor("remove", speaker=DEFENCE)
    floor("grant")
    floor("grant", speaker=DETAINEE, keep_previous=True)
    floor("take_back")
    endpoint("request", DETAINEE)
    endpoint("withdraw", DETAINEE)
    floor("request", speaker=PROSECUTOR)
    floor("request", speaker=DEFENCE)
    floor("skip")
    floor("clear")
    floor("mode", mode="open")
    floor("mute", seat="custody")
    floor("unmute", seat="custody")
    floor("mute_all")
    floor("hide", **HIDE)
    floor("unhide", **HIDE)
    transition(Transition.BEGIN_CONSULTATION)
    transition(Transition.END_CONSULTATION)
    media(kiosk, Action.PARTICIPANT_LEFT, seat="custody", reason="disconnected")
    media(kiosk, Action.PARTICIPANT_JOINED, seat="custody", reconnected=True)
    transition(Transition.PAUSE)
    transition(Transition.RESUME)
    transition(Transition.CLOSE)
    media(kiosk, Action.PARTICIPANT_LEFT, seat="custody", reason="ended")
    media(judge, Action.PARTICIPANT_LEFT, seat="judge", reason="left")
    return Conducted(hearing_id, start, start + timedelta(minutes=45))


# Every action such a hearing leaves in its log (the reading adds audit.read).
CONDUCTED_ACTIONS = {
    Action.HEARING_BOOKED,
    Action.PARTICIPANT_JOINED,
    Action.PARTICIPANT_LEFT,
    Action.HEARING_OPENED,
    Action.HEARING_STARTED,
    Action.HEARING_PAUSED,
    Action.HEARING_RESUMED,
    Action.CONSULTATION_STARTED,
    Action.CONSULTATION_ENDED,
    Action.HEARING_CLOSED,
    *(a for a in Action if a.value.startswith(("floor.", "lobby."))),
}


# Some of what the auditor reads, in each language ({when} is the booking's
# time, in the court's time zone).
SAID = {
    "da": [
        "Clerk (retssekretær) berammede sag SS 1-300/2026 til {when}",
        "Judge (dommer) afviste arresten i venteværelset",
        "Enheden kiosk-a (arresten) tilsluttede sig videoforbindelsen fra arresten (genforbundet)",
        "Judge (dommer) lod arresten komme ind fra venteværelset",
        "Enheden kiosk-a (arresten) bad om ordet på vegne af sigtede (arresten)",
        "Judge (dommer) flyttede anklageren (retssalen) til plads 1 i køen",
        "Judge (dommer) gav ordet til den første i køen",
        "Judge (dommer) gav ordet til sigtede (arresten) og lod den forrige taler blive åben",
        "Judge (dommer) slog lyden fra for arresten",
        "Judge (dommer) skjulte billedet fra arresten for retssalen",
        "Judge (dommer) indledte en fortrolig samtale (deltagere: samtalerummet og arresten)",
        "Judge (dommer) afsluttede den fortrolige samtale (deltagere: samtalerummet og arresten)",
        "Enheden kiosk-a (arresten) forlod videoforbindelsen fra arresten (forbindelsen blev afbrudt)",
        "Judge (dommer) afsluttede retsmødet",
    ],
    "en": [
        "Clerk (clerk) booked case SS 1-300/2026 for {when}",
        "Judge (judge) turned the custody facility away from the lobby",
        "Device kiosk-a (custody facility) joined the video link at the custody facility (reconnected)",
        "Judge (judge) admitted the custody facility from the lobby",
        "Device kiosk-a (custody facility) asked to speak on behalf of the detainee (custody facility)",
        "Judge (judge) moved the prosecutor (courtroom) to place 1 in the queue",
        "Judge (judge) gave the floor to the first in the queue",
        "Judge (judge) gave the floor to the detainee (custody facility), keeping the previous speaker live",
        "Judge (judge) muted the custody facility",
        "Judge (judge) hid the picture of the custody facility from the courtroom",
        "Judge (judge) began a private consultation (members: the consultation booth and the custody facility)",
        "Judge (judge) ended the private consultation (members: the consultation booth and the custody facility)",
        "Device kiosk-a (custody facility) left the video link at the custody facility (the connection was lost)",
        "Judge (judge) closed the hearing",
    ],
}


def said(hearing: Conducted, lang: str, tz: tzinfo) -> list[str]:
    start, end = hearing.start.astimezone(tz), hearing.end.astimezone(tz)
    clock = {"da": "%H.%M", "en": "%H:%M"}[lang]

    def day(moment: datetime) -> str:
        return str(format_skeleton("yMMMMd", moment, locale={"da": "da_DK", "en": "en_GB"}[lang]))

    at = {"da": "{day} kl. {time}", "en": "{day}, {time}"}[lang]
    if start.date() == end.date():
        when = at.format(day=day(start), time=start.strftime(clock)) + "–" + end.strftime(clock)
    else:
        # A booking that runs past midnight names both days.
        when = at.format(day=day(start), time=start.strftime(clock)) + " – "
        when += at.format(day=day(end), time=end.strftime(clock))
    return [s.format(when=when) for s in SAID[lang]]
