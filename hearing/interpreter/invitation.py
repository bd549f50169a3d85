"""The invitation a clerk sends a remote party: one text in Danish and then
English, and a calendar file (RFC 5545) for their calendar's reminder.

The text carries the join address, the code (grouped 4+4 for reading), the
hearing's time in the court's time zone, when the code starts working, the
case number (never the detainee's name) and what to prepare. The calendar
file carries everything but the code: calendars sync to other people's
clouds, and an invitation there must not be a key; it says where the code
is instead.

Pure: no framework, no I/O.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton, get_timezone_name
from icalendar import Alarm, Calendar, Event

from hearing.docket.parties import ParticipantRole
from hearing.interpreter.codes import grouped

LOCALES = {"da": "da_DK", "en": "en_GB"}
REMINDER = timedelta(minutes=15)
READY_MINUTES = 10
PRODID = "-//Hearing//Remote party invitation//DA"

R = ParticipantRole
ROLES = {
    R.INTERPRETER: {"da": "tolk", "en": "interpreter"},
    R.DEFENCE_COUNSEL: {"da": "forsvarer", "en": "defence counsel"},
    R.PROSECUTOR: {"da": "anklager", "en": "prosecutor"},
    R.WITNESS: {"da": "vidne", "en": "witness"},
}


@dataclasses.dataclass(frozen=True)
class InvitationFacts:
    """What an invitation says, gathered by the caller from the hearing and
    the code just issued."""

    case_number: str
    court: str
    role: ParticipantRole
    name: str
    language: str | None
    start: datetime
    end: datetime
    valid_from: datetime
    join_url: str
    code: str
    tz: ZoneInfo
    hearing_id: int
    participant_id: int
    code_id: int
    issued_at: datetime

    def __post_init__(self) -> None:
        for moment in (self.start, self.end, self.valid_from, self.issued_at):
            if moment.tzinfo is None:
                raise ValueError("an invitation's times carry a time zone")
        if self.role not in ROLES:
            raise ValueError(f"no invitation for the role {self.role.value}")


def join_url(gateway_base_url: str, invitation: str) -> str:
    return f"{gateway_base_url.rstrip('/')}/join/{invitation}"


def _moment(value: datetime, lang: str, tz: ZoneInfo) -> str:
    """tirsdag den 1. december 2026 kl. 09.30 / Tuesday 1 December 2026, 09:30."""
    weekday = format_datetime(value, "EEEE", tzinfo=tz, locale=LOCALES[lang])
    day = format_skeleton("yMMMMd", value, tzinfo=tz, locale=LOCALES[lang])
    clock = _clock(value, lang, tz)
    return f"{weekday} den {day} kl. {clock}" if lang == "da" else f"{weekday} {day}, {clock}"


def _clock(value: datetime, lang: str, tz: ZoneInfo) -> str:
    return format_skeleton("Hm", value, tzinfo=tz, locale=LOCALES[lang])


def _zone(value: datetime, lang: str, tz: ZoneInfo) -> str:
    return get_timezone_name(value.astimezone(tz), width="long", locale=LOCALES[lang])


def _span(facts: InvitationFacts, lang: str) -> str:
    tz = facts.tz
    if facts.start.astimezone(tz).date() == facts.end.astimezone(tz).date():
        said = f"{_moment(facts.start, lang, tz)}–{_clock(facts.end, lang, tz)}"
    else:
        said = f"{_moment(facts.start, lang, tz)} – {_moment(facts.end, lang, tz)}"
    return f"{said} ({_zone(facts.start, lang, tz)})"


def _as_whom(facts: InvitationFacts, lang: str) -> str:
    role = ROLES[facts.role][lang]
    return f"{role} ({facts.language})" if facts.role is R.INTERPRETER and facts.language else role


def _admission(facts: InvitationFacts, lang: str) -> str:
    if facts.role is R.INTERPRETER:
        return {
            "da": "Dommeren lukker dig ind i retsmødet, når dommeren har set dig.",
            "en": "The judge admits you to the hearing after seeing you.",
        }[lang]
    return {
        "da": "Du venter i et venteværelse, til dommeren lukker dig ind.",
        "en": "You wait in a waiting room until the judge admits you.",
    }[lang]


def _prepare(facts: InvitationFacts, lang: str) -> list[str]:
    lines = {
        "da": [
            "Et stille rum, hvor ingen andre kan høre med.",
            "Et headset (hovedtelefoner med mikrofon) og et kamera.",
            "En opdateret Chrome, Edge, Firefox eller Safari.",
            f"Vær klar {READY_MINUTES} minutter før retsmødet begynder.",
        ],
        "en": [
            "A quiet room where no one else can listen in.",
            "A headset (headphones with a microphone) and a camera.",
            "A current Chrome, Edge, Firefox or Safari.",
            f"Be ready {READY_MINUTES} minutes before the hearing begins.",
        ],
    }[lang]
    return [*lines, _admission(facts, lang)]


def _body(facts: InvitationFacts, lang: str, *, with_code: bool) -> list[str]:
    tz = facts.tz
    opens = _moment(facts.valid_from, lang, tz)
    if lang == "da":
        lines = [
            f"Retsmøde via video – sag {facts.case_number}",
            "",
            *([f"Til: {facts.name}"] if with_code else []),
            f"Du deltager som {_as_whom(facts, 'da')} i et retsmøde ved {facts.court}.",
            "",
            f"Tidspunkt: {_span(facts, 'da')}",
            f"Adresse:   {facts.join_url}",
        ]
        if with_code:
            lines += [
                f"Kode:      {grouped(facts.code)}",
                "",
                f"Koden virker fra {opens}, til retsmødet slutter, og den kan kun bruges én gang.",
                "Giv den ikke videre. Virker den ikke, så kontakt retten: ingen andre kan hjælpe med den.",
            ]
        else:
            lines += ["", f"Koden står i indkaldelsen fra retten (ikke her). Den virker fra {opens}."]
        heading = "Sådan forbereder du dig:"
    else:
        lines = [
            f"Video hearing – case {facts.case_number}",
            "",
            *([f"To: {facts.name}"] if with_code else []),
            f"You take part as {_as_whom(facts, 'en')} in a hearing at {facts.court}.",
            "",
            f"Time:    {_span(facts, 'en')}",
            f"Address: {facts.join_url}",
        ]
        if with_code:
            lines += [
                f"Code:    {grouped(facts.code)}",
                "",
                f"The code works from {opens} until the hearing ends, and only once.",
                "Do not pass it on. If it does not work, contact the court: no one else can help with it.",
            ]
        else:
            lines += ["", f"The code is in the invitation from the court (not here). It works from {opens}."]
        heading = "How to prepare:"
    return [*lines, "", heading, *(f"- {line}" for line in _prepare(facts, lang))]


SEPARATOR = "—" * 40


def text(facts: InvitationFacts) -> str:
    """The invitation to send: Danish first, then English."""
    return "\n".join([*_body(facts, "da", with_code=True), "", SEPARATOR, "", *_body(facts, "en", with_code=True), ""])


def _uid(facts: InvitationFacts) -> str:
    # One event per party and hearing: a re-issued code's calendar file
    # (a higher SEQUENCE) replaces the earlier one instead of adding another.
    host = urlsplit(facts.join_url).hostname or "hearing"
    return f"hearing-{facts.hearing_id}-party-{facts.participant_id}@{host}"


def ics(facts: InvitationFacts) -> bytes:
    """The calendar file: the hearing as an event with a reminder, without
    the code (and without the party's name: it is their own calendar)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("calscale", "GREGORIAN")
    event = Event()
    event.add("uid", _uid(facts))
    event.add("sequence", facts.code_id)
    event.add("dtstamp", facts.issued_at.astimezone(UTC))
    event.add("dtstart", facts.start.astimezone(UTC))
    event.add("dtend", facts.end.astimezone(UTC))
    event.add("summary", f"Retsmøde via video / Video hearing – {facts.case_number}")
    event.add("url", facts.join_url)
    event.add("location", facts.join_url)
    description = [*_body(facts, "da", with_code=False), "", SEPARATOR, "", *_body(facts, "en", with_code=False)]
    event.add("description", "\n".join(description))
    event.add("transp", "OPAQUE")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Retsmøde via video om 15 minutter / Video hearing in 15 minutes – {facts.case_number}")
    alarm.add("trigger", -REMINDER)
    event.add_component(alarm)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
