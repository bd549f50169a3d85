"""Every audit action in plain words, in Danish and English; entries that an
older or newer version wrote, or that miss a field, never stop the reading."""

from __future__ import annotations

import json
import re
import string
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearing.audit import sentences
from hearing.audit.actions import Action
from hearing.audit.sentences import Who, describe
from hearing.auth.roles import Role
from hearing.docket.parties import EndpointKind, ParticipantRole
from hearing.routing import seats
from hearing.routing.policy import FloorMode, Medium

CPH = ZoneInfo("Europe/Copenhagen")
JUDGE = Who("user", 3, "judge", "Judge Holm")
KIOSK = Who("device", 7, "custody", "kiosk-a")
OPERATOR = Who("system", None, "operator")

# A payload per action as its writer records it (see tests/audit/test_actions.py,
# which checks these shapes against the real routes and commands).
REALISTIC: dict[Action, tuple[Who, dict[str, Any]]] = {
    Action.SITE_ADDED: (OPERATOR, {"site": "custody_facility", "site_id": 2, "name": "Vestre Fængsel"}),
    Action.USER_CREATED: (OPERATOR, {"user_id": 4, "username": "anne", "role": "judge"}),
    Action.USER_TOTP_RESET: (
        OPERATOR,
        {"user_id": 4, "username": "anne", "enrolment_code_expires_at": "2026-11-27T09:00:00+00:00"},
    ),
    Action.USER_PASSWORD_RESET: (OPERATOR, {"user_id": 4, "username": "anne"}),
    Action.USER_TOTP_CONFIRMED: (JUDGE, {}),
    Action.USER_ENROLMENT_CODE_USED: (JUDGE, {}),
    Action.USER_SIGNED_IN: (JUDGE, {"session_id": 11}),
    Action.USER_SIGN_IN_FAILED: (JUDGE, {"username": "judge", "reason": "totp"}),
    Action.USER_LOCKED: (JUDGE, {"until": "2026-12-01T08:45:00+00:00"}),
    Action.USER_SIGNED_OUT: (JUDGE, {"session_id": 11}),
    Action.DEVICE_ENROLLED: (
        OPERATOR,
        {"endpoint_id": 7, "name": "kiosk-a", "kind": "custody", "site": "Vestre Fængsel"},
    ),
    Action.DEVICE_REISSUED: (OPERATOR, {"endpoint_id": 7, "name": "kiosk-a", "reactivated": True}),
    Action.DEVICE_KIOSK_ENROLLED: (KIOSK, {"endpoint_id": 7}),
    Action.DEVICE_REVOKED: (OPERATOR, {"endpoint_id": 7, "name": "kiosk-a"}),
    Action.ACCESS_DENIED: (JUDGE, {"method": "POST", "path": "/hearings/2/transition", "target_hearing": 2}),
    Action.ACCESS_DENIED_REPEATED: (
        KIOSK,
        {
            "method": "WEBSOCKET",
            "path": "/ws/hearings/2/media",
            "target_hearing": 2,
            "repeated": 9,
            "seat": "custody",
            "command": "request",
            "reason": "permission_denied",
        },
    ),
    Action.USER_DISABLED: (OPERATOR, {"user_id": 4, "username": "anne", "sessions_ended": 1}),
    Action.USER_ENABLED: (OPERATOR, {"user_id": 4, "username": "anne"}),
    Action.HEARING_BOOKED: (
        OPERATOR,
        {
            "case_number": "SS 1-9/2026",
            "courtroom_id": 1,
            "facility_id": 1,
            "start": "2026-12-01T08:30:00+00:00",
            "end": "2026-12-01T09:00:00+00:00",
        },
    ),
    Action.PARTICIPANT_JOINED: (KIOSK, {"seat": "custody", "reconnected": True}),
    Action.PARTICIPANT_LEFT: (KIOSK, {"seat": "custody", "reason": "disconnected"}),
    Action.HEARING_OPENED: (JUDGE, {"from_state": "scheduled", "to_state": "open"}),
    Action.HEARING_STARTED: (JUDGE, {"from_state": "open", "to_state": "in_session"}),
    Action.HEARING_PAUSED: (JUDGE, {"from_state": "in_session", "to_state": "paused"}),
    Action.HEARING_RESUMED: (JUDGE, {"from_state": "paused", "to_state": "in_session"}),
    Action.CONSULTATION_STARTED: (
        JUDGE,
        {"from_state": "in_session", "to_state": "consultation", "members": ["custody"]},
    ),
    Action.CONSULTATION_ENDED: (
        JUDGE,
        {"from_state": "consultation", "to_state": "in_session", "members": ["custody"]},
    ),
    Action.HEARING_ADJOURNED: (JUDGE, {"from_state": "paused", "to_state": "adjourned"}),
    Action.HEARING_CLOSED: (JUDGE, {"from_state": "in_session", "to_state": "closed"}),
    Action.HEARING_CONVERTED_TO_PHYSICAL: (
        JUDGE,
        {"from_state": "consultation", "to_state": "converted_to_physical"},
    ),
    Action.LOBBY_ADMITTED: (JUDGE, {"version": 1, "seat": "custody"}),
    Action.LOBBY_DENIED: (JUDGE, {"version": 0, "seat": "custody"}),
    Action.FLOOR_REQUESTED: (KIOSK, {"version": 2, "speaker": "custody:detainee"}),
    Action.FLOOR_WITHDRAWN: (KIOSK, {"version": 3, "speaker": "custody:detainee"}),
    Action.FLOOR_REQUEST_REMOVED: (JUDGE, {"version": 3, "speaker": "courtroom:defence_counsel"}),
    Action.FLOOR_QUEUE_SKIPPED: (JUDGE, {"version": 3}),
    Action.FLOOR_QUEUE_REORDERED: (JUDGE, {"version": 3, "speaker": "courtroom:defence_counsel", "position": 0}),
    Action.FLOOR_QUEUE_CLEARED: (JUDGE, {"version": 3}),
    Action.FLOOR_GRANTED: (JUDGE, {"version": 3, "speaker": "custody:detainee", "keep_previous": True}),
    Action.FLOOR_TAKEN_BACK: (JUDGE, {"version": 4}),
    Action.FLOOR_MODE_CHANGED: (JUDGE, {"version": 1, "mode": "controlled"}),
    Action.FLOOR_MUTED: (JUDGE, {"version": 1, "seat": "custody"}),
    Action.FLOOR_UNMUTED: (JUDGE, {"version": 2, "seat": "custody"}),
    Action.FLOOR_ALL_MUTED: (JUDGE, {"version": 1}),
    Action.FLOOR_HIDDEN: (JUDGE, {"version": 1, "source": "custody", "receiver": "courtroom", "medium": "video"}),
    Action.FLOOR_UNHIDDEN: (JUDGE, {"version": 2, "source": "custody", "receiver": "courtroom", "medium": "video"}),
    Action.AUDIT_READ: (Who("user", 5, "auditor", "Auditor"), {"hearing": 1, "entries": 12}),
    Action.AUDIT_SYSTEM_READ: (
        Who("user", 5, "auditor", "Auditor"),
        {"entries": 3, "filters": {"action": "access.denied", "since": "2026-12-01T00:00:00+00:00"}},
    ),
    Action.AUDIT_KEY_SHREDDED: (OPERATOR, {"hearing": 1}),
    Action.AUDIT_KEK_ROTATED: (OPERATOR, {"old": "ab" * 16, "new": "cd" * 16, "keys": 2}),
    Action.AUDIT_CHECKPOINT_EXPORTED: (OPERATOR, {"size": 41}),
    # the custody desk (issue 11)
    Action.CUSTODY_CHECKED_IN: (
        Who("user", 5, "custody_officer", "Officer Lund"),
        {"status": "ready", "name_confirmed": True, "reference_confirmed": True, "note": "Ønsker tolk."},
    ),
    Action.CUSTODY_ROOM_ASSIGNED: (
        Who("user", 5, "custody_officer", "Officer Lund"),
        {"endpoint_id": 7, "name": "kiosk-a"},
    ),
    # issue 11, the test call
    Action.ENDPOINT_TEST_CALL: (
        KIOSK,
        {
            "endpoint_id": 7,
            "name": "kiosk-a",
            "grade": "poor",
            "figures": {
                "rtt_ms": 12.5,
                "loss_percent": 3.2,
                "jitter_ms": 4.0,
                "width": 1280,
                "height": 720,
                "fps": 24.5,
                "audio_dbfs": -14.0,
            },
            "reasons": ["loss"],
        },
    ),
}
# Plan B (issue 11).
SYSTEM_ACTOR = Who("system", None, None)
REALISTIC.update(
    {
        Action.HEARING_INTERRUPTED: (
            SYSTEM_ACTOR,
            {"seat": "custody", "paused": True, "from_state": "in_session", "to_state": "paused"},
        ),
        Action.HEARING_LINK_RESTORED: (
            SYSTEM_ACTOR,
            {"seat": "custody", "duration_seconds": 12.4, "in_time": True, "lobby": False},
        ),
        Action.COURT_PAUSE_ON_DROP_SET: (OPERATOR, {"site_id": 1, "name": "Byret", "pause_on_drop": False}),
    }
)

# issue 12: remote parties, the register of interpreters, interpretation.
CLERK = Who("user", 6, "clerk", "Clerk Berg")
INTERPRETER = Who("remote", 12, "interpreter", None)
WINDOW = {"start": "2026-12-01T08:00:00+00:00", "end": "2026-12-01T09:00:00+00:00"}
REALISTIC.update(
    {
        Action.REMOTE_PARTY_ADDED: (
            CLERK,
            {"participant_id": 12, "role": "interpreter", "seat": "interpreter-12", "language": "arabisk"},
        ),
        Action.REMOTE_PARTY_REMOVED: (CLERK, {"participant_id": 12, "seat": "interpreter-12"}),
        Action.REMOTE_CODE_ISSUED: (
            CLERK,
            {"participant_id": 12, "seat": "interpreter-12", "code_id": 3, "reissued": True, **WINDOW},
        ),
        Action.REMOTE_CODE_REVOKED: (CLERK, {"participant_id": 12, "seat": "interpreter-12", "code_id": 3}),
        Action.REMOTE_CODE_USED: (INTERPRETER, {"participant_id": 12, "seat": "interpreter-12", "code_id": 3}),
        Action.REMOTE_CODE_FAILED: (
            ANONYMOUS_ACTOR := Who("anonymous", None, None),
            {"code_id": 3, "seat": "interpreter-12", "attempts": 2, "reason": "wrong_code"},
        ),
        Action.REMOTE_CODE_LOCKED: (ANONYMOUS_ACTOR, {"code_id": 3, "seat": "interpreter-12", "attempts": 5}),
        Action.REMOTE_CODE_UNKNOWN: (SYSTEM_ACTOR, {"repeated": 40, "sources": 3, "window_seconds": 60}),
        Action.REMOTE_TOTP_REQUIRED_SET: (CLERK, {"hearing_id": 4, "require_totp": True}),
        Action.INTERPRETER_REGISTERED: (
            CLERK,
            {"registered_interpreter_id": 2, "name": "Samira Haddad", "languages": "arabisk, fransk"},
        ),
        Action.INTERPRETER_TOTP_ENROLLED: (CLERK, {"registered_interpreter_id": 2, "name": "Samira Haddad"}),
        Action.INTERPRETATION_SET: (
            JUDGE,
            {"version": 9, "mode": "simultaneous", "needs": ["custody", "counsel-14"]},
        ),
        Action.INTERPRETATION_DIRECTION: (SYSTEM_ACTOR, {"version": 10, "direction": "to_court"}),
    }
)
# issue 12, codes: the second factor after the code.
REALISTIC[Action.REMOTE_TOTP_PASSED] = (INTERPRETER, {"participant_id": 12, "seat": "interpreter-12", "code_id": 3})
REALISTIC[Action.INTERPRETER_DISABLED] = (CLERK, {"registered_interpreter_id": 2, "name": "Samira Haddad"})

# What each renders to, in both languages: the words an auditor reads.
EXPECTED: dict[Action, tuple[str, str]] = {
    Action.HEARING_BOOKED: (
        "Systemet (operatør) berammede sag SS 1-9/2026 til 1. december 2026 kl. 09.30–10.00",
        "The system (operator) booked case SS 1-9/2026 for 1 December 2026, 09:30–10:00",
    ),
    Action.USER_LOCKED: (
        "Judge Holm (dommer) blev spærret for login indtil 1. december 2026 kl. 09.45",
        "Judge Holm (judge) was locked out until 1 December 2026, 09:45",
    ),
    Action.ACCESS_DENIED_REPEATED: (
        "Enheden kiosk-a (arresten) blev afvist ved WEBSOCKET /ws/hearings/2/media 9 gange mere"
        " (anmodning om ordet: ikke tilladt)",
        "Device kiosk-a (custody facility) was refused WEBSOCKET /ws/hearings/2/media 9 more times"
        " (asking to speak: not permitted)",
    ),
    Action.PARTICIPANT_LEFT: (
        "Enheden kiosk-a (arresten) forlod videoforbindelsen fra arresten (forbindelsen blev afbrudt)",
        "Device kiosk-a (custody facility) left the video link at the custody facility (the connection was lost)",
    ),
    Action.CONSULTATION_STARTED: (
        "Judge Holm (dommer) indledte en fortrolig samtale (deltagere: arresten)",
        "Judge Holm (judge) began a private consultation (members: the custody facility)",
    ),
    Action.FLOOR_REQUESTED: (
        "Enheden kiosk-a (arresten) bad om ordet på vegne af sigtede (arresten)",
        "Device kiosk-a (custody facility) asked to speak on behalf of the detainee (custody facility)",
    ),
    Action.FLOOR_GRANTED: (
        "Judge Holm (dommer) gav ordet til sigtede (arresten) og lod den forrige taler blive åben",
        "Judge Holm (judge) gave the floor to the detainee (custody facility), keeping the previous speaker live",
    ),
    Action.FLOOR_QUEUE_REORDERED: (
        "Judge Holm (dommer) flyttede forsvareren (retssalen) til plads 1 i køen",
        "Judge Holm (judge) moved defence counsel (courtroom) to place 1 in the queue",
    ),
    Action.FLOOR_HIDDEN: (
        "Judge Holm (dommer) skjulte billedet fra arresten for retssalen",
        "Judge Holm (judge) hid the picture of the custody facility from the courtroom",
    ),
    Action.FLOOR_MODE_CHANGED: (
        "Judge Holm (dommer) skiftede tilstand til styret (kun dommeren, den der har ordet, og tolken høres)",
        "Judge Holm (judge) set the mode to controlled (only the judge, the floor and the interpreter are heard)",
    ),
    Action.AUDIT_READ: (
        "Auditor (revisor) læste revisionsloggen for retsmøde 1 (12 poster)",
        "Auditor (auditor) read the audit log of hearing 1 (12 entries)",
    ),
    Action.AUDIT_SYSTEM_READ: (
        "Auditor (revisor) læste systemhændelserne i revisionsloggen (3 poster)",
        "Auditor (auditor) read the system events of the audit log (3 entries)",
    ),
    # the custody desk (issue 11)
    Action.CUSTODY_CHECKED_IN: (
        "Officer Lund (arrestbetjent) registrerede sigtede: klar (navn og reference bekræftet); "
        "bemærkning: “Ønsker tolk.”",
        "Officer Lund (custody officer) checked the detainee in: ready (name and reference confirmed); "
        "note: “Ønsker tolk.”",
    ),
    Action.CUSTODY_ROOM_ASSIGNED: (
        "Officer Lund (arrestbetjent) satte videorummet til: kiosk-a",
        "Officer Lund (custody officer) set the hearing room: kiosk-a",
    ),
}
EXPECTED.update(
    {
        Action.HEARING_INTERRUPTED: (
            "Systemet registrerede, at forbindelsen til arresten blev afbrudt; retsmødet blev sat på pause",
            "The system recorded that the connection to the custody facility was lost; the hearing was paused",
        ),
        Action.HEARING_LINK_RESTORED: (
            "Systemet registrerede, at arresten var tilbage efter 12.4 sekunder",
            "The system recorded that the custody facility was back after 12.4 seconds",
        ),
    }
)

# issue 13: the courtroom's cameras, pinned by the judge and reported by the rig.
RIG = Who("device", 5, "courtroom", "rig-a")
WITNESS_CAMERA = {"camera": "cam-witness", "seat": "witness", "label": {"da": "Vidne", "en": "Witness"}}
REALISTIC.update(
    {
        Action.CAMERA_PINNED: (JUDGE, {"version": 4, "camera": "cam-witness", "layout": "grid"}),
        Action.CAMERA_RELEASED: (JUDGE, {"version": 5}),
        Action.CAMERA_UNAVAILABLE: (RIG, {**WITNESS_CAMERA, "reason": "read failed: TimeoutError"}),
        Action.CAMERA_RESTORED: (RIG, WITNESS_CAMERA),
    }
)
EXPECTED.update(
    {
        Action.CAMERA_PINNED: (
            (
                "Judge Holm (dommer) fastlåste retssalens billede:"
                " kameraet cam-witness og opstillingen fire kameraer (2×2)"
            ),
            "Judge Holm (judge) pinned the courtroom picture: the camera cam-witness and the layout four cameras (2×2)",
        ),
        Action.CAMERA_RELEASED: (
            "Judge Holm (dommer) frigav retssalens billede: kameraerne skifter selv igen",
            "Judge Holm (judge) released the courtroom picture: the cameras switch by themselves again",
        ),
        Action.CAMERA_UNAVAILABLE: (
            (
                "Enheden rig-a (retssalen) meldte, at kameraet Vidne er utilgængeligt "
                "(read failed: TimeoutError); riggen prøver igen"
            ),
            (
                "Device rig-a (courtroom) reported that the camera Witness is unavailable "
                "(read failed: TimeoutError); the rig keeps trying"
            ),
        ),
        Action.CAMERA_RESTORED: (
            "Enheden rig-a (retssalen) meldte, at kameraet Vidne virker igen",
            "Device rig-a (courtroom) reported that the camera Witness works again",
        ),
    }
)

# issue 14: the recording.
REALISTIC.update(
    {
        Action.RECORDING_STARTED: (JUDGE, {"recording_id": 3}),
        Action.RECORDING_PAUSED: (SYSTEM_ACTOR, {"recording_id": 3, "why": "consultation", "at_seconds": 612.4}),
        Action.RECORDING_RESUMED: (JUDGE, {"recording_id": 3, "why": "judge", "at_seconds": 700.0}),
        Action.RECORDING_FAILED: (SYSTEM_ACTOR, {"recording_id": 3, "reason": "encoder", "segment": 12}),
        Action.RECORDING_SEALED: (
            SYSTEM_ACTOR,
            {"recording_id": 3, "manifest_sha256": "ab" * 32, "segments": 62, "seconds": 615.2, "interrupted": True},
        ),
        Action.RECORDING_EXPORTED: (JUDGE, {"recording_id": 3, "sha256": "0123456789abcdef" * 4, "size": 123456}),
        Action.RECORDING_PURGED: (OPERATOR, {"recording_id": 3, "segments": 62}),
    }
)
EXPECTED.update(
    {
        Action.RECORDING_STARTED: (
            "Judge Holm (dommer) startede optagelse #3",
            "Judge Holm (judge) started recording #3",
        ),
        Action.RECORDING_PAUSED: (
            "Systemet satte optagelse #3 på pause (en fortrolig samtale)",
            "The system paused recording #3 (a private consultation)",
        ),
        Action.RECORDING_RESUMED: (
            "Judge Holm (dommer) genoptog optagelse #3",
            "Judge Holm (judge) resumed recording #3",
        ),
        Action.RECORDING_FAILED: (
            "Systemet registrerede, at optagelse #3 fejlede (encoder); den fortsætter",
            "The system recorded that recording #3 failed (encoder); it goes on anew",
        ),
        Action.RECORDING_SEALED: (
            "Systemet forseglede optagelse #3: 62 afsnit, efter at serveren stoppede: det skrevne er bevaret",
            "The system sealed recording #3: 62 segments, after the server stopped: what was written survived",
        ),
        Action.RECORDING_EXPORTED: (
            "Judge Holm (dommer) udtrak optagelse #3 (SHA-256 0123456789abcdef…)",
            "Judge Holm (judge) exported recording #3 (SHA-256 0123456789abcdef…)",
        ),
        Action.RECORDING_PURGED: (
            "Systemet (operatør) slettede optagelse #3 ved udløbet af opbevaringstiden (nøglen er destrueret)",
            "The system (operator) destroyed recording #3 at the end of its retention (its key is gone)",
        ),
    }
)


def say(action: str, who: Who, payload: object, lang: str, note: str | None = None) -> str:
    return describe(action, who, payload, note, lang=lang, tz=CPH)


def neutral(sentence: str, lang: str) -> bool:
    return {"en": ": the event ", "da": ": hændelsen "}[lang] in sentence


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_action_has_a_sentence_in_both_languages() -> None:
    assert set(sentences.SENTENCES) == set(Action)
    for action, texts in sentences.SENTENCES.items():
        assert set(texts) == set(sentences.LANGUAGES), action
        assert texts["da"] != texts["en"], action
        # The same facts in both: neither language leaves a field out.
        assert placeholders(texts["da"]) == placeholders(texts["en"]), action
        assert placeholders(texts["en"]) <= set(sentences.PLACEHOLDERS) | {"actor"}, action
    for words in (sentences.NEUTRAL, sentences.DETAILS, sentences.MOMENT, sentences.ENTRIES):
        assert set(words) == set(sentences.LANGUAGES)
    for table in (
        sentences.NOTES,
        sentences.SEATS,
        sentences.PLACES,
        sentences.PEOPLE,
        sentences.STAFF_ROLES,
        sentences.SYSTEM_ROLES,
        sentences.SITE_KINDS,
        sentences.DEVICE_KINDS,
        sentences.SIGN_IN_FAILURES,
        sentences.DEPARTURES,
        sentences.MODES,
        sentences.MEDIA,
        sentences.FRAGMENTS,
    ):
        for key, texts in table.items():
            assert set(texts) == set(sentences.LANGUAGES), key


def test_todays_vocabulary_has_words() -> None:
    """Every value today's code writes into an entry is said in words."""
    assert {seats.JUDGE, seats.COURTROOM, seats.CUSTODY, seats.BOOTH} == set(sentences.SEATS) == set(sentences.PLACES)
    assert set(seats.REMOTE_KINDS.values()) <= set(sentences.REMOTE_SEATS)
    assert {r.value for r in ParticipantRole} <= set(sentences.PEOPLE)
    assert {r.value for r in Role} <= set(sentences.STAFF_ROLES)
    assert {k.value for k in EndpointKind} <= set(sentences.DEVICE_KINDS) & set(sentences.PLACES)
    assert {m.value for m in FloorMode} == set(sentences.MODES)
    assert {m.value for m in Medium} == set(sentences.MEDIA)


def test_the_realistic_payloads_cover_every_action() -> None:
    assert set(REALISTIC) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("lang", sentences.LANGUAGES)
def test_each_action_renders_its_own_sentence(action: Action, lang: str) -> None:
    who, payload = REALISTIC[action]
    sentence = say(action.value, who, payload, lang)
    assert not neutral(sentence, lang), sentence
    assert "{" not in sentence and "}" not in sentence
    assert sentence[0].isupper()
    # No raw vocabulary leaks into the words: no ids like custody:detainee or in_session.
    assert not re.search(r"\b[a-z]+[:_][a-z]+\b", sentence), sentence
    if action in EXPECTED:
        assert sentence == EXPECTED[action][sentences.LANGUAGES.index(lang)]


def test_times_are_the_courts_in_summer_and_winter_and_across_midnight() -> None:
    summer = {
        "case_number": "SS 1-1/2026",
        "courtroom_id": 1,
        "facility_id": 1,
        "start": "2026-06-30T21:30:00+00:00",
        "end": "2026-06-30T22:15:00+00:00",
    }
    # 23:30 to 00:15 court-local (UTC+2): two days, said in full.
    assert say("hearing.booked", OPERATOR, summer, "en").endswith("30 June 2026, 23:30 – 1 July 2026, 00:15")
    assert say("hearing.booked", OPERATOR, summer, "da").endswith("30. juni 2026 kl. 23.30 – 1. juli 2026 kl. 00.15")
    utc = describe("user.locked", JUDGE, {"until": "2026-01-15T12:00:00+00:00"}, None, lang="en", tz=UTC)
    assert utc.endswith("15 January 2026, 12:00")
    assert say("user.locked", JUDGE, {"until": "2026-01-15T12:00:00+00:00"}, "en").endswith("15 January 2026, 13:00")


def test_optional_fields_missing_still_make_the_sentence() -> None:
    # A grant to the first in the queue names no one; older consultations named no members;
    # a first join is no reconnection.
    granted = say("floor.granted", JUDGE, {"version": 2}, "en")
    assert granted == "Judge Holm (judge) gave the floor to the first in the queue"
    assert say("floor.granted", JUDGE, {"version": 2}, "da") == "Judge Holm (dommer) gav ordet til den første i køen"
    old = {"from_state": "in_session", "to_state": "consultation"}
    assert say("consultation.started", JUDGE, old, "da") == "Judge Holm (dommer) indledte en fortrolig samtale"
    assert say("participant.joined", KIOSK, {"seat": "custody"}, "en") == (
        "Device kiosk-a (custody facility) joined the video link at the custody facility"
    )
    two = {**old, "members": ["booth", "custody"]}
    assert say("consultation.started", JUDGE, two, "en").endswith(
        "(members: the consultation booth and the custody facility)"
    )
    assert say("consultation.started", JUDGE, two, "da").endswith("(deltagere: samtalerummet og arresten)")
    three = {**old, "members": ["counsel-3", "custody", "interpreter-4"]}
    assert say("consultation.started", JUDGE, three, "en").endswith(
        "(members: defence counsel's connection counsel-3, the custody facility and "
        "the interpreter's connection interpreter-4)"
    )


def test_unknown_seats_speakers_and_values_are_said_as_written() -> None:
    remote = {"version": 5, "speaker": "interpreter-12:interpreter"}
    assert say("floor.requested", JUDGE, remote, "en").endswith("on behalf of the interpreter (interpreter-12)")
    assert say("floor.requested", JUDGE, remote, "da").endswith("på vegne af tolken (interpreter-12)")
    assert say("floor.muted", JUDGE, {"version": 5, "seat": "interpreter-12"}, "da").endswith(
        "slog lyden fra for tolkens forbindelse interpreter-12"
    )
    assert say("floor.muted", JUDGE, {"version": 5, "seat": "interpreter-12"}, "en").endswith(
        "muted the interpreter's connection interpreter-12"
    )
    assert say("floor.muted", JUDGE, {"version": 5, "seat": "hologram-3"}, "en").endswith(
        "muted the connection hologram-3"
    )
    assert say("floor.muted", JUDGE, {"version": 5, "seat": "interpreter-x"}, "da").endswith(
        "slog lyden fra for forbindelsen interpreter-x"
    )
    assert say("floor.requested", JUDGE, {"speaker": "hall:witness"}, "en").endswith("the witness (hall)")
    assert say("floor.requested", JUDGE, {"speaker": "nobody"}, "en").endswith("on behalf of nobody")
    left = say("participant.left", KIOSK, {"seat": "custody", "reason": "solar_flare"}, "en")
    assert left.endswith("(solar_flare)")
    assert say("user.created", OPERATOR, {"username": "x", "role": 7}, "en").endswith("the account x (7)")


@pytest.mark.parametrize("lang", sentences.LANGUAGES)
def test_an_unknown_action_gets_a_neutral_sentence_with_its_details(lang: str) -> None:
    payload = {"seat": "interpreter-12", "language": "arabisk"}
    sentence = say("interpreter.admitted", JUDGE, payload, lang)
    word, role = {"en": ("the event", "judge"), "da": ("hændelsen", "dommer")}[lang]
    assert sentence.startswith(f"Judge Holm ({role}): {word} interpreter.admitted (")
    assert '"interpreter-12"' in sentence and '"arabisk"' in sentence
    assert say("interpreter.admitted", JUDGE, {}, lang).endswith(f"{word} interpreter.admitted")


@pytest.mark.parametrize("lang", sentences.LANGUAGES)
def test_missing_or_malformed_fields_fall_back_to_the_neutral_sentence(lang: str) -> None:
    broken = [
        ("floor.requested", {"version": 2}),
        ("floor.hidden", {"source": "custody", "medium": "video"}),
        ("hearing.booked", {"case_number": "SS 1-9/2026", "start": "tomorrow", "end": "later"}),
        ("hearing.booked", {"case_number": "SS 1-9/2026"}),
        ("user.locked", {"until": 17}),
        ("audit.read", {"entries": 3}),
    ]
    for action, payload in broken:
        sentence = say(action, JUDGE, payload, lang)
        assert neutral(sentence, lang), sentence
        assert action in sentence
        for value in payload.values():
            assert json.dumps(value) in sentence
    # A payload that is not an object at all (a newer writer's list, say).
    assert neutral(say("floor.muted", JUDGE, ["custody"], lang), lang)


@pytest.mark.parametrize("lang", sentences.LANGUAGES)
def test_an_unreadable_payload_says_why(lang: str) -> None:
    shredded = say("hearing.opened", JUDGE, None, lang, note="shredded")
    assert neutral(shredded, lang) and "hearing.opened" in shredded
    assert shredded.endswith(sentences.NOTES["shredded"][lang])
    assert say("hearing.opened", JUDGE, None, lang, note="unreadable").endswith(sentences.NOTES["unreadable"][lang])


def test_actors_in_words() -> None:
    assert sentences.actor(Who("anonymous"), "da") == "en, der ikke var logget ind"
    assert sentences.actor(Who("system"), "en") == "the system"
    assert sentences.actor(Who("system", None, "demo"), "da") == "systemet (demo)"
    # A user or device deleted since: its id.
    assert sentences.actor(Who("user", 9, "clerk"), "da") == "bruger #9 (retssekretær)"
    assert sentences.actor(Who("device", 4, "courtroom"), "en") == "device #4 (courtroom)"
    assert sentences.actor(Who("robot", 2), "en") == "robot #2"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
KEYS = sorted({k for _, payload in REALISTIC.values() for k in payload} | {"members", "until"})


@given(
    action=st.sampled_from([a.value for a in Action] + ["no.such_action", ""]),
    payload=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), JSON, max_size=6) | JSON,
    lang=st.sampled_from(sentences.LANGUAGES),
)
def test_no_payload_makes_the_reader_fail(action: str, payload: object, lang: str) -> None:
    sentence = say(action, JUDGE, payload, lang)
    assert sentence.startswith("Judge Holm")
