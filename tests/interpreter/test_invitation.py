"""The invitation: Danish then English, the address, the grouped code, the
court's time, what to prepare; and a calendar file (parsed back with
icalendar) that carries everything but the code."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from hearing.docket.parties import ParticipantRole
from hearing.interpreter import invitation
from hearing.interpreter.invitation import InvitationFacts

R = ParticipantRole
CPH = ZoneInfo("Europe/Copenhagen")
START = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)  # 09:30 in Copenhagen (winter)
FACTS = InvitationFacts(
    case_number="SS 1-100/2026",
    court="Retten i Glostrup",
    role=R.INTERPRETER,
    name="Samira Haddad",
    language="arabisk",
    start=START,
    end=START + timedelta(minutes=45),
    valid_from=START - timedelta(minutes=30),
    join_url=invitation.join_url("https://gateway.example.dk/", "abcdefghjk"),
    code="04718263",
    tz=CPH,
    hearing_id=4,
    participant_id=12,
    code_id=3,
    issued_at=START - timedelta(days=2),
)


def test_the_text_is_danish_first_then_english_with_everything_needed() -> None:
    text = invitation.text(FACTS)
    danish, english = text.split(invitation.SEPARATOR)
    assert danish.startswith("Retsmøde via video – sag SS 1-100/2026")
    assert english.strip().startswith("Video hearing – case SS 1-100/2026")
    for half in (danish, english):
        assert "https://gateway.example.dk/join/abcdefghjk" in half
        assert "0471 8263" in half  # grouped 4+4 for reading
        assert "Samira Haddad" in half and "Retten i Glostrup" in half
        assert "Chrome, Edge, Firefox" in half and "10 min" in half
    # The court's time zone: 09:30 in Copenhagen, and the code from 09:00.
    assert "tirsdag den 1. december 2026 kl. 09.30–10.15" in danish
    assert "Tuesday 1 December 2026, 09:30–10:15" in english
    assert "kl. 09.00" in danish and "09:00 until the hearing ends" in english
    assert "tolk (arabisk)" in danish and "interpreter (arabisk)" in english
    assert "når dommeren har set dig" in danish and "after seeing you" in english


def test_the_text_never_names_the_detainee() -> None:
    # The facts have no field for it: the invitation cannot carry it.
    assert not any("detainee" in f.name for f in dataclasses.fields(InvitationFacts))


def test_summer_time_and_a_hearing_across_midnight() -> None:
    summer = dataclasses.replace(
        FACTS,
        start=datetime(2026, 6, 30, 21, 30, tzinfo=UTC),
        end=datetime(2026, 6, 30, 22, 15, tzinfo=UTC),
        valid_from=datetime(2026, 6, 30, 21, 0, tzinfo=UTC),
    )
    text = invitation.text(summer)
    assert "tirsdag den 30. juni 2026 kl. 23.30 – onsdag den 1. juli 2026 kl. 00.15" in text
    assert "sommertid" in text.lower() and "summer time" in text.lower()


@pytest.mark.parametrize(
    ("role", "danish", "english"),
    [
        (R.DEFENCE_COUNSEL, "som forsvarer i", "as defence counsel in"),
        (R.PROSECUTOR, "som anklager i", "as prosecutor in"),
        (R.WITNESS, "som vidne i", "as witness in"),
    ],
)
def test_other_remote_parties_wait_in_the_lobby(role: ParticipantRole, danish: str, english: str) -> None:
    text = invitation.text(dataclasses.replace(FACTS, role=role, language=None))
    assert danish in text and english in text
    assert "venteværelse" in text and "waiting room" in text


def test_facts_refuse_naive_times_and_other_roles() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(FACTS, start=START.replace(tzinfo=None))
    with pytest.raises(ValueError):
        dataclasses.replace(FACTS, role=R.DETAINEE)


def test_the_calendar_file_parses_back_and_holds_no_code() -> None:
    raw = invitation.ics(FACTS)
    assert b"\r\n" in raw  # RFC 5545 line endings
    calendar = Calendar.from_ical(raw)
    assert calendar["METHOD"] == "PUBLISH" and calendar["VERSION"] == "2.0"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "hearing-4-party-12@gateway.example.dk"
    assert int(event["SEQUENCE"]) == 3
    assert event.decoded("DTSTART") == START and event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert b"DTSTART:20261201T083000Z" in raw  # UTC, said as UTC (no TZID)
    assert event.decoded("DTEND") == START + timedelta(minutes=45)
    assert event.decoded("DTSTAMP") == FACTS.issued_at
    assert str(event["URL"]) == str(event["LOCATION"]) == "https://gateway.example.dk/join/abcdefghjk"
    assert "SS 1-100/2026" in str(event["SUMMARY"])
    description = str(event["DESCRIPTION"])
    assert description.index("Retsmøde via video") < description.index("Video hearing")
    assert "Koden står i indkaldelsen" in description and "The code is in the invitation" in description
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm.decoded("TRIGGER") == -timedelta(minutes=15)
    # The code in no form, and not the party's name: calendars sync to clouds.
    unfolded = raw.replace(b"\r\n ", b"")
    for secret in (b"04718263", b"0471 8263", b"0471", b"Samira"):
        assert secret not in unfolded, secret


def test_a_reissued_code_replaces_the_calendar_event() -> None:
    first = Calendar.from_ical(invitation.ics(FACTS)).walk("VEVENT")[0]
    again = dataclasses.replace(
        FACTS, code="99887766", code_id=7, join_url="https://gateway.example.dk/join/zzzzzzzzzz"
    )
    second = Calendar.from_ical(invitation.ics(again)).walk("VEVENT")[0]
    assert str(first["UID"]) == str(second["UID"]) and int(second["SEQUENCE"]) > int(first["SEQUENCE"])
