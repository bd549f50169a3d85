"""The audit log in plain words, in Danish and English.

Entries outlive the code that wrote them: a reader meets actions that an
older or newer version wrote, and payloads written before a field existed.
Neither may stop an auditor from reading the rest, so every entry gets a
sentence: its own where the fields it needs are there, a neutral one that
lists what the entry holds otherwise. Never an exception.

The words are keyed by what the log holds (seat ids, role and reason
values as they were written), not by the enums of today's code, and they
are the court's own: the same as on the judge's panel
(hearing/web/language.py). Times are said in the court's time zone.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from babel.dates import format_skeleton
from babel.lists import format_list

from hearing.audit.actions import Action

LANGUAGES = ("da", "en")
# British English: day before month, a 24-hour clock, "defence counsel".
LOCALES = {"da": "da_DK", "en": "en_GB"}

Words = dict[str, dict[str, str]]

SENTENCES: dict[Action, dict[str, str]] = {
    Action.SITE_ADDED: {"en": "{actor} added the {site_kind} {name}", "da": "{actor} tilføjede {site_kind} {name}"},
    Action.USER_CREATED: {
        "en": "{actor} created the account {username} ({role})",
        "da": "{actor} oprettede kontoen {username} ({role})",
    },
    Action.USER_TOTP_RESET: {
        "en": "{actor} reset the authenticator of {username}",
        "da": "{actor} nulstillede godkendelsesappen for {username}",
    },
    Action.USER_PASSWORD_RESET: {
        "en": "{actor} reset the password of {username}",
        "da": "{actor} nulstillede adgangskoden for {username}",
    },
    Action.USER_TOTP_CONFIRMED: {
        "en": "{actor} confirmed a new authenticator",
        "da": "{actor} bekræftede en ny godkendelsesapp",
    },
    Action.USER_ENROLMENT_CODE_USED: {
        "en": "{actor} used an enrolment code to set up a new authenticator",
        "da": "{actor} brugte en tilmeldingskode til at opsætte en ny godkendelsesapp",
    },
    Action.USER_SIGNED_IN: {"en": "{actor} signed in", "da": "{actor} loggede ind"},
    Action.USER_SIGN_IN_FAILED: {
        "en": "{actor} failed to sign in as {username} ({failure})",
        "da": "{actor} kunne ikke logge ind som {username} ({failure})",
    },
    Action.USER_LOCKED: {
        "en": "{actor} was locked out until {until}",
        "da": "{actor} blev spærret for login indtil {until}",
    },
    Action.USER_SIGNED_OUT: {"en": "{actor} signed out", "da": "{actor} loggede ud"},
    Action.DEVICE_ENROLLED: {
        "en": "{actor} enrolled the {device} {name} at {site}",
        "da": "{actor} tilmeldte {device} {name} i {site}",
    },
    Action.DEVICE_REISSUED: {
        "en": "{actor} issued new credentials to the device {name}{reactivated}",
        "da": "{actor} udstedte nye adgangsoplysninger til enheden {name}{reactivated}",
    },
    Action.DEVICE_KIOSK_ENROLLED: {
        "en": "{actor} completed its enrollment as a kiosk",
        "da": "{actor} gennemførte sin tilmelding som kiosk",
    },
    Action.DEVICE_REVOKED: {"en": "{actor} revoked the device {name}", "da": "{actor} tilbagekaldte enheden {name}"},
    Action.ACCESS_DENIED: {
        "en": "{actor} was refused {method} {path}",
        "da": "{actor} blev afvist ved {method} {path}",
    },
    Action.ACCESS_DENIED_REPEATED: {
        "en": "{actor} was refused {method} {path} {repeated} more times ({command}: {refusal})",
        "da": "{actor} blev afvist ved {method} {path} {repeated} gange mere ({command}: {refusal})",
    },
    Action.USER_DISABLED: {
        "en": "{actor} disabled the account {username}",
        "da": "{actor} deaktiverede kontoen {username}",
    },
    Action.USER_ENABLED: {
        "en": "{actor} enabled the account {username} again",
        "da": "{actor} genaktiverede kontoen {username}",
    },
    Action.HEARING_BOOKED: {
        "en": "{actor} booked case {case_number} for {when}",
        "da": "{actor} berammede sag {case_number} til {when}",
    },
    Action.PARTICIPANT_JOINED: {
        "en": "{actor} joined the video link at {seat}{again}",
        "da": "{actor} tilsluttede sig videoforbindelsen fra {seat}{again}",
    },
    Action.PARTICIPANT_LEFT: {
        "en": "{actor} left the video link at {seat} ({departure})",
        "da": "{actor} forlod videoforbindelsen fra {seat} ({departure})",
    },
    Action.HEARING_OPENED: {
        "en": "{actor} opened the hearing (the lobby)",
        "da": "{actor} åbnede retsmødet (venteværelset)",
    },
    Action.HEARING_STARTED: {"en": "{actor} started the hearing", "da": "{actor} begyndte retsmødet"},
    Action.HEARING_PAUSED: {"en": "{actor} paused the hearing", "da": "{actor} holdt pause i retsmødet"},
    Action.HEARING_RESUMED: {"en": "{actor} resumed the hearing", "da": "{actor} genoptog retsmødet"},
    Action.CONSULTATION_STARTED: {
        "en": "{actor} began a private consultation{members}",
        "da": "{actor} indledte en fortrolig samtale{members}",
    },
    Action.CONSULTATION_ENDED: {
        "en": "{actor} ended the private consultation{members}",
        "da": "{actor} afsluttede den fortrolige samtale{members}",
    },
    Action.HEARING_ADJOURNED: {"en": "{actor} adjourned the hearing", "da": "{actor} udsatte retsmødet"},
    Action.HEARING_CLOSED: {"en": "{actor} closed the hearing", "da": "{actor} afsluttede retsmødet"},
    Action.HEARING_CONVERTED_TO_PHYSICAL: {
        "en": "{actor} converted the hearing to a physical hearing",
        "da": "{actor} skiftede retsmødet til fysisk fremmøde",
    },
    Action.LOBBY_ADMITTED: {
        "en": "{actor} admitted {seat} from the lobby",
        "da": "{actor} lod {seat} komme ind fra venteværelset",
    },
    Action.LOBBY_DENIED: {
        "en": "{actor} turned {seat} away from the lobby",
        "da": "{actor} afviste {seat} i venteværelset",
    },
    Action.FLOOR_REQUESTED: {
        "en": "{actor} asked to speak on behalf of {speaker}",
        "da": "{actor} bad om ordet på vegne af {speaker}",
    },
    Action.FLOOR_WITHDRAWN: {
        "en": "{actor} withdrew the request to speak on behalf of {speaker}",
        "da": "{actor} trak anmodningen om ordet på vegne af {speaker} tilbage",
    },
    Action.FLOOR_REQUEST_REMOVED: {
        "en": "{actor} removed {speaker} from the queue",
        "da": "{actor} fjernede {speaker} fra køen",
    },
    Action.FLOOR_QUEUE_SKIPPED: {
        "en": "{actor} skipped the first in the queue",
        "da": "{actor} sprang den første i køen over",
    },
    Action.FLOOR_QUEUE_REORDERED: {
        "en": "{actor} moved {speaker} to place {place} in the queue",
        "da": "{actor} flyttede {speaker} til plads {place} i køen",
    },
    Action.FLOOR_QUEUE_CLEARED: {"en": "{actor} cleared the queue", "da": "{actor} ryddede køen"},
    Action.FLOOR_GRANTED: {
        "en": "{actor} gave the floor to {grantee}{keeping}",
        "da": "{actor} gav ordet til {grantee}{keeping}",
    },
    Action.FLOOR_TAKEN_BACK: {"en": "{actor} took back the floor", "da": "{actor} tog ordet tilbage"},
    Action.FLOOR_MODE_CHANGED: {"en": "{actor} set the mode to {mode}", "da": "{actor} skiftede tilstand til {mode}"},
    Action.FLOOR_MUTED: {"en": "{actor} muted {seat}", "da": "{actor} slog lyden fra for {seat}"},
    Action.FLOOR_UNMUTED: {"en": "{actor} unmuted {seat}", "da": "{actor} slog lyden til for {seat}"},
    Action.FLOOR_ALL_MUTED: {
        "en": "{actor} muted everyone but the judge",
        "da": "{actor} slog lyden fra for alle undtagen dommeren",
    },
    Action.FLOOR_HIDDEN: {
        "en": "{actor} hid {medium} of {source} from {receiver}",
        "da": "{actor} skjulte {medium} fra {source} for {receiver}",
    },
    Action.FLOOR_UNHIDDEN: {
        "en": "{actor} showed {medium} of {source} to {receiver} again",
        "da": "{actor} viste igen {medium} fra {source} for {receiver}",
    },
    Action.AUDIT_READ: {
        "en": "{actor} read the audit log of hearing {hearing} ({entries})",
        "da": "{actor} læste revisionsloggen for retsmøde {hearing} ({entries})",
    },
    Action.AUDIT_SYSTEM_READ: {
        "en": "{actor} read the system events of the audit log ({entries})",
        "da": "{actor} læste systemhændelserne i revisionsloggen ({entries})",
    },
    Action.AUDIT_KEY_SHREDDED: {
        "en": "{actor} destroyed the audit key of hearing {hearing}",
        "da": "{actor} destruerede revisionsnøglen for retsmøde {hearing}",
    },
    Action.AUDIT_KEK_ROTATED: {
        "en": "{actor} replaced the audit log's key-encryption key",
        "da": "{actor} udskiftede revisionsloggens nøglekrypteringsnøgle",
    },
    Action.AUDIT_CHECKPOINT_EXPORTED: {
        "en": "{actor} exported a signed checkpoint of the first {covered}",
        "da": "{actor} eksporterede et signeret kontrolpunkt over de første {covered}",
    },
    # issue 11, the test call
    Action.ENDPOINT_TEST_CALL: {
        "en": "{actor} made a test call: {test_grade} ({test_figures})",
        "da": "{actor} foretog et prøveopkald: {test_grade} ({test_figures})",
    },
}

# What an entry that has no sentence of its own says: the action's stable
# name and every field it holds, so nothing is hidden from the auditor.
NEUTRAL = {"en": "{actor}: the event {action}", "da": "{actor}: hændelsen {action}"}
DETAILS = {"en": "details", "da": "detaljer"}
NOTES: Words = {
    "shredded": {
        "en": "(payload destroyed with the hearing's audit key)",
        "da": "(indholdet er destrueret sammen med retsmødets revisionsnøgle)",
    },
    "unreadable": {
        "en": "(payload does not decrypt: it was altered or moved)",
        "da": "(indholdet kan ikke dekrypteres: det er ændret eller flyttet)",
    },
}

# Seats as the log names them. As the object of a sentence ("muted the
# custody facility") and as where someone sits ("the detainee (custody facility)").
SEATS: Words = {
    "judge": {"en": "the bench", "da": "dommerpodiet"},
    "courtroom": {"en": "the courtroom", "da": "retssalen"},
    "custody": {"en": "the custody facility", "da": "arresten"},
    "booth": {"en": "the consultation booth", "da": "samtalerummet"},
}
PLACES: Words = {
    "judge": {"en": "bench", "da": "dommerpodiet"},
    "courtroom": {"en": "courtroom", "da": "retssalen"},
    "custody": {"en": "custody facility", "da": "arresten"},
    "booth": {"en": "consultation booth", "da": "samtalerummet"},
}
# A remote participant's seat is `<kind>-<participant id>` (interpreter-12):
# said as whose connection it is, with its id, since two may share a kind.
REMOTE_SEATS: Words = {
    "interpreter": {"en": "the interpreter's", "da": "tolkens"},
    "counsel": {"en": "defence counsel's", "da": "forsvarerens"},
    "prosecutor": {"en": "the prosecutor's", "da": "anklagerens"},
    "detainee": {"en": "the detainee's", "da": "sigtedes"},
    "observer": {"en": "the observer's", "da": "tilhørerens"},
    "officer": {"en": "the custody officer's", "da": "arrestbetjentens"},
    "judge": {"en": "the judge's", "da": "dommerens"},
    "witness": {"en": "the witness's", "da": "vidnets"},
}
REMOTE_SEAT = {"en": "{whose} connection {seat}", "da": "{whose} forbindelse {seat}"}
# A seat this version does not know: its id.
OTHER_SEAT = {"en": "the connection {seat}", "da": "forbindelsen {seat}"}
# A person's role in the hearing, as the one who speaks.
PEOPLE: Words = {
    "judge": {"en": "the judge", "da": "dommeren"},
    "prosecutor": {"en": "the prosecutor", "da": "anklageren"},
    "defence_counsel": {"en": "defence counsel", "da": "forsvareren"},
    "detainee": {"en": "the detainee", "da": "sigtede"},
    "interpreter": {"en": "the interpreter", "da": "tolken"},
    "custody_officer": {"en": "the custody officer", "da": "arrestbetjenten"},
    "observer": {"en": "the observer", "da": "tilhøreren"},
    "witness": {"en": "the witness", "da": "vidnet"},
}
STAFF_ROLES: Words = {
    "judge": {"en": "judge", "da": "dommer"},
    "clerk": {"en": "clerk", "da": "retssekretær"},
    "custody_officer": {"en": "custody officer", "da": "arrestbetjent"},
    "auditor": {"en": "auditor", "da": "revisor"},
    "admin": {"en": "administrator", "da": "administrator"},
}
SYSTEM_ROLES: Words = {
    "operator": {"en": "operator", "da": "operatør"},
    "demo": {"en": "demo", "da": "demo"},
}
SITE_KINDS: Words = {
    "court": {"en": "court", "da": "retten"},
    "courtroom": {"en": "courtroom", "da": "retssalen"},
    "custody_facility": {"en": "custody facility", "da": "arresten"},
}
DEVICE_KINDS: Words = {
    "courtroom": {"en": "courtroom rig", "da": "retssalsenheden"},
    "custody": {"en": "custody endpoint", "da": "arrestenheden"},
    "booth": {"en": "consultation booth", "da": "samtalerumsenheden"},
}
SIGN_IN_FAILURES: Words = {
    "unknown_user": {"en": "no such user", "da": "ukendt bruger"},
    "disabled": {"en": "the account is disabled", "da": "kontoen er deaktiveret"},
    "locked": {"en": "the account is locked", "da": "kontoen er spærret"},
    "password": {"en": "wrong password", "da": "forkert adgangskode"},
    "totp": {"en": "wrong authenticator code", "da": "forkert engangskode"},
    "changed": {"en": "the password changed meanwhile", "da": "adgangskoden blev ændret imens"},
    "enrolment_code": {"en": "wrong enrolment code", "da": "forkert tilmeldingskode"},
    "enrolment_code_expired": {"en": "the enrolment code has expired", "da": "tilmeldingskoden er udløbet"},
}
DEPARTURES: Words = {
    "left": {"en": "hung up", "da": "lagde på"},
    "ended": {"en": "the hearing ended", "da": "retsmødet sluttede"},
    "denied": {"en": "turned away by the judge", "da": "afvist af dommeren"},
    "timeout": {"en": "no sign of life", "da": "intet livstegn"},
    "disconnected": {"en": "the connection was lost", "da": "forbindelsen blev afbrudt"},
    "replaced": {"en": "replaced by a new connection", "da": "afløst af en ny forbindelse"},
    "revoked": {"en": "the device's credential was revoked", "da": "enhedens adgang blev tilbagekaldt"},
    "signed_out": {"en": "signed out", "da": "logget ud"},
    "session_ended": {"en": "the session expired", "da": "sessionen udløb"},
    "disabled": {"en": "the account was disabled", "da": "kontoen blev deaktiveret"},
    # issue 12, gateway: a remote party's session (opened by a one-time code) ended.
    "remote_ended": {"en": "the remote access ended", "da": "fjernadgangen ophørte"},
}
MODES: Words = {
    "open": {"en": "open (everyone is heard)", "da": "åben (alle høres)"},
    "controlled": {
        "en": "controlled (only the judge, the floor and the interpreter are heard)",
        "da": "styret (kun dommeren, den der har ordet, og tolken høres)",
    },
}
MEDIA: Words = {
    "audio": {"en": "the sound", "da": "lyden"},
    "video": {"en": "the picture", "da": "billedet"},
}
# What a seat asked for and why it was refused, in an access.denied_repeated.
REFUSED_COMMANDS: Words = {
    "request": {"en": "asking to speak", "da": "anmodning om ordet"},
    "withdraw": {"en": "withdrawing a request to speak", "da": "tilbagetrækning af en anmodning om ordet"},
}
REFUSAL_REASONS: Words = {
    "permission_denied": {"en": "not permitted", "da": "ikke tilladt"},
}
# Parts of a sentence that only some entries have.
FRAGMENTS: Words = {
    "reactivated": {"en": " and reactivated it", "da": " og genaktiverede den"},
    "again": {"en": " (reconnected)", "da": " (genforbundet)"},
    "members": {"en": " (members: {members})", "da": " (deltagere: {members})"},
    "keeping": {"en": ", keeping the previous speaker live", "da": " og lod den forrige taler blive åben"},
    "first_in_queue": {"en": "the first in the queue", "da": "den første i køen"},
}
ENTRIES = {"en": ("{n} entry", "{n} entries"), "da": ("{n} post", "{n} poster")}
# Who did it, by the kind of actor; a user or device deleted since is named by its id.
ACTORS: Words = {
    "user": {"en": "user #{id}", "da": "bruger #{id}"},
    "device": {"en": "device {name}", "da": "enheden {name}"},
    "system": {"en": "the system", "da": "systemet"},
    "anonymous": {"en": "someone not signed in", "da": "en, der ikke var logget ind"},
}
# A moment in a sentence, and a span within one day.
MOMENT = {"en": "{day}, {time}", "da": "{day} kl. {time}"}


@dataclasses.dataclass(frozen=True)
class Who:
    """An entry's actor as the log has it, with the user's or device's name
    when the reader found one."""

    kind: str  # user | device | system | anonymous
    id: int | None = None
    role: str | None = None
    name: str | None = None


def _word(words: Words, value: str, lang: str) -> str:
    return words.get(value, {}).get(lang, value)


def actor(who: Who, lang: str) -> str:
    roles = {"user": STAFF_ROLES, "device": PLACES, "system": SYSTEM_ROLES}
    if who.kind not in ACTORS:
        return f"{who.kind} #{who.id}"
    if who.kind == "user" and who.name:
        label = who.name
    else:
        label = ACTORS[who.kind][lang].format(id=who.id, name=who.name or f"#{who.id}")
    if who.role and who.kind in roles:
        return f"{label} ({_word(roles[who.kind], who.role, lang)})"
    return label


def seat(value: str, lang: str) -> str:
    if value in SEATS:
        return SEATS[value][lang]
    kind, _, number = value.partition("-")
    if kind in REMOTE_SEATS and number.isdigit():
        return REMOTE_SEAT[lang].format(whose=REMOTE_SEATS[kind][lang], seat=value)
    return OTHER_SEAT[lang].format(seat=value)


def speaker(value: str, lang: str) -> str:
    """`custody:detainee` -> "the detainee (custody facility)"."""
    where, sep, role = value.partition(":")
    if not sep:
        return value
    return f"{_word(PEOPLE, role, lang)} ({_word(PLACES, where, lang)})"


def _clock(value: datetime, lang: str, tz: tzinfo) -> str:
    return format_skeleton("Hm", value, tzinfo=tz, locale=LOCALES[lang])


def moment(value: datetime, lang: str, tz: tzinfo) -> str:
    """1 December 2026, 09:30 / 1. december 2026 kl. 09.30, in the court's time zone."""
    day = format_skeleton("yMMMMd", value, tzinfo=tz, locale=LOCALES[lang])
    return MOMENT[lang].format(day=day, time=_clock(value, lang, tz))


def span(start: datetime, end: datetime, lang: str, tz: tzinfo) -> str:
    if start.astimezone(tz).date() != end.astimezone(tz).date():
        return f"{moment(start, lang, tz)} – {moment(end, lang, tz)}"
    return f"{moment(start, lang, tz)}–{_clock(end, lang, tz)}"


class _Payload:
    """One entry's fields, said in one language. A missing field raises
    KeyError (the sentence falls back to the neutral one); a field of an
    unexpected type is said as it is."""

    def __init__(self, payload: Mapping[str, Any], lang: str, tz: tzinfo) -> None:
        self.payload, self.lang, self.tz = payload, lang, tz

    def text(self, key: str) -> str:
        value = self.payload[key]
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def word(self, words: Words, key: str) -> str:
        return _word(words, self.text(key), self.lang)

    def flag(self, key: str, fragment: str) -> str:
        return FRAGMENTS[fragment][self.lang] if self.payload.get(key) is True else ""

    def seat(self, key: str) -> str:
        return seat(self.text(key), self.lang)

    def speaker(self) -> str:
        return speaker(self.text("speaker"), self.lang)

    def grantee(self) -> str:
        # A grant without a speaker went to whoever was first in the queue.
        if self.payload.get("speaker") is None:
            return FRAGMENTS["first_in_queue"][self.lang]
        return self.speaker()

    def members(self) -> str:
        # Entries written before consultations named their members have none.
        members = self.payload.get("members")
        if not isinstance(members, list) or not members:
            return ""
        seats = [seat(m if isinstance(m, str) else json.dumps(m), self.lang) for m in members]
        return FRAGMENTS["members"][self.lang].format(members=format_list(seats, locale=LOCALES[self.lang]))

    def count(self, key: str) -> str:
        value = self.payload[key]
        if not isinstance(value, int) or isinstance(value, bool):
            return self.text(key)
        one, many = ENTRIES[self.lang]
        return (one if value == 1 else many).format(n=value)

    def place(self) -> str:
        # Stored from 0, as the floor counts; said from 1, as people count.
        value = self.payload["position"]
        return str(value + 1) if isinstance(value, int) and not isinstance(value, bool) else self.text("position")

    def time(self, key: str) -> datetime:
        value = datetime.fromisoformat(self.text(key))
        # Every writer stores UTC; a naive value can only be UTC.
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    def until(self) -> str:
        return moment(self.time("until"), self.lang, self.tz)

    def when(self) -> str:
        return span(self.time("start"), self.time("end"), self.lang, self.tz)


def _as_written(key: str) -> Callable[[_Payload], str]:
    return lambda p: p.text(key)


# Each placeholder of the sentences above: how it is said.
PLACEHOLDERS: dict[str, Callable[[_Payload], str]] = {
    **{key: _as_written(key) for key in ("name", "username", "case_number", "method", "path", "site", "hearing")},
    "repeated": _as_written("repeated"),
    "command": lambda p: p.word(REFUSED_COMMANDS, "command"),
    "refusal": lambda p: p.word(REFUSAL_REASONS, "reason"),
    "site_kind": lambda p: p.word(SITE_KINDS, "site"),
    "role": lambda p: p.word(STAFF_ROLES, "role"),
    "device": lambda p: p.word(DEVICE_KINDS, "kind"),
    "failure": lambda p: p.word(SIGN_IN_FAILURES, "reason"),
    "departure": lambda p: p.word(DEPARTURES, "reason"),
    "mode": lambda p: p.word(MODES, "mode"),
    "medium": lambda p: p.word(MEDIA, "medium"),
    "seat": lambda p: p.seat("seat"),
    "source": lambda p: p.seat("source"),
    "receiver": lambda p: p.seat("receiver"),
    "speaker": _Payload.speaker,
    "grantee": _Payload.grantee,
    "members": _Payload.members,
    "place": _Payload.place,
    "entries": lambda p: p.count("entries"),
    "covered": lambda p: p.count("size"),
    "until": _Payload.until,
    "when": _Payload.when,
    "reactivated": lambda p: p.flag("reactivated", "reactivated"),
    "again": lambda p: p.flag("reconnected", "again"),
    "keeping": lambda p: p.flag("keep_previous", "keeping"),
    # issue 11, the test call
    "test_grade": lambda p: p.word(TEST_CALL_GRADES, "grade"),
    "test_figures": lambda p: figures_said(p.payload["figures"], p.lang),
}


# issue 11, the test call: its grade and figures in words.
TEST_CALL_GRADES: Words = {
    "good": {"en": "good", "da": "god"},
    "poor": {"en": "poor", "da": "svag"},
    "bad": {"en": "bad", "da": "dårlig"},
}
TEST_CALL_FIGURES: Words = {
    "rtt_ms": {"en": "round trip {value} ms", "da": "svartid {value} ms"},
    "loss_percent": {"en": "loss {value} %", "da": "tab {value} %"},
    "jitter_ms": {"en": "jitter {value} ms", "da": "jitter {value} ms"},
    "picture": {"en": "picture {width}×{height} at {fps} fps", "da": "billede {width}×{height} med {fps} billeder/s"},
    "audio_dbfs": {"en": "sound {value} dBFS", "da": "lyd {value} dBFS"},
    "unmeasured": {"en": "nothing measured", "da": "intet målt"},
}


def figures_said(figures: object, lang: str) -> str:
    """A test call's figures, those that were measured, in one line."""
    if not isinstance(figures, Mapping):
        raise KeyError("figures")
    said = [
        TEST_CALL_FIGURES[key][lang].format(value=figures[key])
        for key in ("rtt_ms", "loss_percent", "jitter_ms")
        if figures.get(key) is not None
    ]
    if figures.get("width") and figures.get("height"):
        size = {k: figures.get(k) for k in ("width", "height", "fps")}
        said.append(TEST_CALL_FIGURES["picture"][lang].format(**size))
    if figures.get("audio_dbfs") is not None:
        said.append(TEST_CALL_FIGURES["audio_dbfs"][lang].format(value=figures["audio_dbfs"]))
    return ", ".join(said) or TEST_CALL_FIGURES["unmeasured"][lang]


class _Said(dict[str, str]):
    """What str.format_map looks up: the actor, then each placeholder."""

    def __init__(self, who: str, payload: _Payload) -> None:
        super().__init__(actor=who)
        self.entry = payload

    def __missing__(self, key: str) -> str:
        return PLACEHOLDERS[key](self.entry)


def _neutral(action: str, who: str, payload: object, lang: str) -> str:
    sentence = NEUTRAL[lang].format(actor=who, action=action)
    if isinstance(payload, Mapping) and payload:
        fields = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(payload.items()))
        return f"{sentence} ({DETAILS[lang]}: {fields})"
    if payload is not None and not isinstance(payload, Mapping):
        return f"{sentence} ({DETAILS[lang]}: {json.dumps(payload, ensure_ascii=False)})"
    return sentence


def _template(action: str) -> dict[str, str] | None:
    try:
        return SENTENCES.get(Action(action))
    except ValueError:  # written by another version
        return None


def describe(action: str, who: Who, payload: object, note: str | None, *, lang: str, tz: tzinfo) -> str:
    """One entry in one language (da or en), its times in `tz`. `payload` is
    the decrypted JSON (None, with a `note` from NOTES, when it cannot be read)."""
    name = actor(who, lang)
    template = _template(action)
    if payload is None:
        sentence = _neutral(action, name, None, lang)
        if note in NOTES:
            sentence = f"{sentence} {NOTES[note][lang]}"
    elif template is None or not isinstance(payload, Mapping):
        sentence = _neutral(action, name, payload, lang)
    else:
        try:
            sentence = template[lang].format_map(_Said(name, _Payload(payload, lang, tz)))
        except (KeyError, ValueError, TypeError, OverflowError):
            # A field missing, or a time that does not parse: the neutral
            # sentence still shows everything the entry holds.
            sentence = _neutral(action, name, payload, lang)
    return sentence[:1].upper() + sentence[1:]


# --- the custody desk (issue 11: the officer's console) ------------------------

CHECK_IN_STATUSES: Words = {
    "in_room": {"en": "the detainee is in the room", "da": "sigtede er i rummet"},
    "ready": {"en": "ready", "da": "klar"},
}
CONFIRMATIONS: Words = {
    "both": {"en": "name and reference confirmed", "da": "navn og reference bekræftet"},
    "name": {"en": "name confirmed, reference not", "da": "navn bekræftet, reference ikke"},
    "reference": {"en": "reference confirmed, name not", "da": "reference bekræftet, navn ikke"},
    "none": {"en": "neither name nor reference confirmed", "da": "hverken navn eller reference bekræftet"},
}
CUSTODY_FRAGMENTS: Words = {
    "note": {"en": "; note: “{note}”", "da": "; bemærkning: “{note}”"},
    "no_room": {
        "en": "none (any kiosk at the facility may join)",
        "da": "intet (enhver kiosk i arresten kan deltage)",
    },
}


def _confirmed(p: _Payload) -> str:
    name, reference = p.payload["name_confirmed"] is True, p.payload["reference_confirmed"] is True
    key = "both" if name and reference else "name" if name else "reference" if reference else "none"
    return CONFIRMATIONS[key][p.lang]


def _noted(p: _Payload) -> str:
    note = p.payload.get("note")
    return CUSTODY_FRAGMENTS["note"][p.lang].format(note=note) if isinstance(note, str) and note else ""


def _room(p: _Payload) -> str:
    if p.payload["endpoint_id"] is None:
        return CUSTODY_FRAGMENTS["no_room"][p.lang]
    return p.text("name")


SENTENCES.update(
    {
        Action.CUSTODY_CHECKED_IN: {
            "en": "{actor} checked the detainee in: {check_in} ({confirmed}){noted}",
            "da": "{actor} registrerede sigtede: {check_in} ({confirmed}){noted}",
        },
        Action.CUSTODY_ROOM_ASSIGNED: {
            "en": "{actor} set the hearing room: {room}",
            "da": "{actor} satte videorummet til: {room}",
        },
    }
)
PLACEHOLDERS.update(
    {
        "check_in": lambda p: p.word(CHECK_IN_STATUSES, "status"),
        "confirmed": _confirmed,
        "noted": _noted,
        "room": _room,
    }
)


# Plan B (issue 11): the link lost and restored, and the court's setting.
SENTENCES.update(
    {
        Action.HEARING_INTERRUPTED: {
            "en": "{actor} recorded that the connection to {seat} was lost{paused_it}",
            "da": "{actor} registrerede, at forbindelsen til {seat} blev afbrudt{paused_it}",
        },
        Action.HEARING_LINK_RESTORED: {
            "en": "{actor} recorded that {seat} was back after {duration} seconds{to_lobby}",
            "da": "{actor} registrerede, at {seat} var tilbage efter {duration} sekunder{to_lobby}",
        },
        Action.COURT_PAUSE_ON_DROP_SET: {
            "en": "{actor} set whether {name} pauses a hearing when a link drops: {pause_setting}",
            "da": "{actor} indstillede, om {name} holder pause, når en forbindelse afbrydes: {pause_setting}",
        },
    }
)
FRAGMENTS.update(
    {
        "paused_it": {"en": "; the hearing was paused", "da": "; retsmødet blev sat på pause"},
        "to_lobby": {
            "en": ", too late to take its seat again: it waits in the lobby",
            "da": ", for sent til at genindtage sin plads: den venter i venteværelset",
        },
    }
)
PAUSE_SETTINGS: Words = {"true": {"en": "yes", "da": "ja"}, "false": {"en": "no", "da": "nej"}}
PLACEHOLDERS.update(
    {
        "paused_it": lambda p: p.flag("paused", "paused_it"),
        "to_lobby": lambda p: p.flag("lobby", "to_lobby"),
        "duration": _as_written("duration_seconds"),
        "pause_setting": lambda p: p.word(PAUSE_SETTINGS, "pause_on_drop"),
    }
)


# issue 12: remote parties by one-time code, the register of interpreters,
# and interpretation that follows the floor.
ACTORS["remote"] = {"en": "remote party #{id}", "da": "fjerndeltager #{id}"}
SENTENCES.update(
    {
        Action.REMOTE_PARTY_ADDED: {
            "en": "{actor} added {party} to the hearing as a remote party ({seat})",
            "da": "{actor} tilføjede {party} til retsmødet som fjerndeltager ({seat})",
        },
        Action.REMOTE_PARTY_REMOVED: {
            "en": "{actor} removed the remote party at {seat} from the hearing",
            "da": "{actor} fjernede fjerndeltageren på {seat} fra retsmødet",
        },
        Action.REMOTE_CODE_ISSUED: {
            "en": "{actor} issued a one-time code for {seat}{reissued}, valid {when}",
            "da": "{actor} udstedte en engangskode til {seat}{reissued}, gyldig {when}",
        },
        Action.REMOTE_CODE_REVOKED: {
            "en": "{actor} revoked the one-time code for {seat}",
            "da": "{actor} tilbagekaldte engangskoden til {seat}",
        },
        Action.REMOTE_CODE_USED: {
            "en": "{actor} used the one-time code for {seat} and waits in the lobby",
            "da": "{actor} brugte engangskoden til {seat} og venter i venteværelset",
        },
        Action.REMOTE_CODE_FAILED: {
            "en": "{actor} failed to use the one-time code for {seat} ({code_failure}; attempt {attempts})",
            "da": "{actor} kunne ikke bruge engangskoden til {seat} ({code_failure}; forsøg {attempts})",
        },
        Action.REMOTE_CODE_LOCKED: {
            "en": "The one-time code for {seat} was locked after {attempts} failed attempts",
            "da": "Engangskoden til {seat} blev spærret efter {attempts} mislykkede forsøg",
        },
        Action.REMOTE_CODE_UNKNOWN: {
            "en": "{actor}: {repeated} attempts with an unknown invitation at the gateway, from {sources} addresses",
            "da": "{actor}: {repeated} forsøg med en ukendt invitation ved gatewayen, fra {sources} adresser",
        },
        Action.REMOTE_TOTP_REQUIRED_SET: {
            "en": "{actor} set whether registered interpreters need their authenticator: {totp_setting}",
            "da": "{actor} indstillede, om registrerede tolke skal bruge deres godkendelsesapp: {totp_setting}",
        },
        Action.INTERPRETER_REGISTERED: {
            "en": "{actor} registered the interpreter {name} ({languages})",
            "da": "{actor} registrerede tolken {name} ({languages})",
        },
        Action.INTERPRETER_TOTP_ENROLLED: {
            "en": "{actor} set up an authenticator for the registered interpreter {name}",
            "da": "{actor} opsatte en godkendelsesapp for den registrerede tolk {name}",
        },
        Action.INTERPRETATION_SET: {
            "en": "{actor} set the interpretation to {interpretation}{for_whom}",
            "da": "{actor} satte tolkningen til {interpretation}{for_whom}",
        },
        Action.INTERPRETATION_DIRECTION: {
            "en": "{actor} recorded that the interpretation now goes {direction}",
            "da": "{actor} registrerede, at tolkningen nu går {direction}",
        },
    }
)
INTERPRETATIONS: Words = {
    "none": {"en": "none", "da": "ingen"},
    "consecutive": {"en": "consecutive", "da": "konsekutiv"},
    "simultaneous": {"en": "simultaneous (whispered)", "da": "simultan (hvisket)"},
}
DIRECTIONS: Words = {
    # The court speaks; the interpreter speaks into the ears of those who need it.
    "to_party": {"en": "to those who need it", "da": "til dem, der har brug for den"},
    # The one who needs interpretation holds the floor; the court hears the rendition.
    "to_court": {"en": "to the court", "da": "til retten"},
    "everyone": {"en": "to everyone", "da": "til alle"},
    "none": {"en": "nowhere", "da": "ingen steder"},
}
CODE_FAILURES: Words = {
    "wrong_code": {"en": "wrong code", "da": "forkert kode"},
    "outside_window": {"en": "outside its time window", "da": "uden for tidsrummet"},
    "used": {"en": "already used", "da": "allerede brugt"},
    "revoked": {"en": "revoked", "da": "tilbagekaldt"},
    "locked": {"en": "locked", "da": "spærret"},
    "wrong_totp": {"en": "wrong authenticator code", "da": "forkert kode fra godkendelsesappen"},
    "hearing_ended": {"en": "the hearing has ended", "da": "retsmødet er afsluttet"},
}
FRAGMENTS.update(
    {
        "reissued": {"en": " (a new code in place of the old)", "da": " (en ny kode i stedet for den gamle)"},
    }
)


def _party(p: _Payload) -> str:
    role = p.word(PEOPLE, "role")
    language = p.payload.get("language")
    return f"{role} ({language})" if isinstance(language, str) and language else role


def _for_whom(p: _Payload) -> str:
    needs = p.payload.get("needs")
    if not isinstance(needs, list) or not needs:
        return ""
    listed = [seat(n if isinstance(n, str) else json.dumps(n), p.lang) for n in needs]
    return " for " + format_list(listed, locale=LOCALES[p.lang])


PLACEHOLDERS.update(
    {
        "party": _party,
        "reissued": lambda p: p.flag("reissued", "reissued"),
        "attempts": _as_written("attempts"),
        "sources": _as_written("sources"),
        "languages": _as_written("languages"),
        "code_failure": lambda p: p.word(CODE_FAILURES, "reason"),
        "interpretation": lambda p: p.word(INTERPRETATIONS, "mode"),
        "direction": lambda p: p.word(DIRECTIONS, "direction"),
        "for_whom": _for_whom,
        "totp_setting": lambda p: p.word(PAUSE_SETTINGS, "require_totp"),
    }
)


# issue 12, codes: the second factor after the code.
SENTENCES.update(
    {
        Action.REMOTE_TOTP_PASSED: {
            "en": "{actor} confirmed the one-time code for {seat} with their authenticator and waits in the lobby",
            "da": "{actor} bekræftede engangskoden til {seat} med sin godkendelsesapp og venter i venteværelset",
        },
        Action.INTERPRETER_DISABLED: {
            "en": "{actor} took the interpreter {name} off the register (their authenticator no longer counts)",
            "da": "{actor} fjernede tolken {name} fra registret (godkendelsesappen gælder ikke længere)",
        },
    }
)


# issue 13: the courtroom's cameras, pinned by the judge and reported by the rig.
SENTENCES.update(
    {
        Action.CAMERA_PINNED: {
            "en": "{actor} pinned the courtroom picture: {pinned}",
            "da": "{actor} fastlåste retssalens billede: {pinned}",
        },
        Action.CAMERA_RELEASED: {
            "en": "{actor} released the courtroom picture: the cameras switch by themselves again",
            "da": "{actor} frigav retssalens billede: kameraerne skifter selv igen",
        },
        Action.CAMERA_UNAVAILABLE: {
            "en": (
                "{actor} reported that the camera {camera_label} is unavailable ({camera_reason}); the rig keeps trying"
            ),
            "da": "{actor} meldte, at kameraet {camera_label} er utilgængeligt ({camera_reason}); riggen prøver igen",
        },
        Action.CAMERA_RESTORED: {
            "en": "{actor} reported that the camera {camera_label} works again",
            "da": "{actor} meldte, at kameraet {camera_label} virker igen",
        },
    }
)
LAYOUT_NAMES: Words = {
    "single": {"en": "one camera", "da": "ét kamera"},
    "speaker_strip": {"en": "the speaker with a strip of the others", "da": "taleren med en stribe af de andre"},
    "grid": {"en": "four cameras (2×2)", "da": "fire kameraer (2×2)"},
}
CAMERA_FRAGMENTS: Words = {
    "camera": {"en": "the camera {camera}", "da": "kameraet {camera}"},
    "layout": {"en": "the layout {layout}", "da": "opstillingen {layout}"},
    "unknown_reason": {"en": "no reason given", "da": "ingen årsag oplyst"},
}


def _camera_label(p: _Payload) -> str:
    label = p.payload.get("label")
    if isinstance(label, dict) and isinstance(label.get(p.lang), str):
        return str(label[p.lang])
    return p.text("camera")


def _pinned(p: _Payload) -> str:
    parts = []
    if isinstance(camera := p.payload.get("camera"), str):
        parts.append(CAMERA_FRAGMENTS["camera"][p.lang].format(camera=camera))
    if isinstance(p.payload.get("layout"), str):
        parts.append(CAMERA_FRAGMENTS["layout"][p.lang].format(layout=p.word(LAYOUT_NAMES, "layout")))
    return format_list(parts, locale=LOCALES[p.lang]) if parts else p.text("camera")


def _camera_reason(p: _Payload) -> str:
    reason = p.payload.get("reason")
    return reason if isinstance(reason, str) and reason else CAMERA_FRAGMENTS["unknown_reason"][p.lang]


PLACEHOLDERS.update({"pinned": _pinned, "camera_label": _camera_label, "camera_reason": _camera_reason})


# issue 14: the recording.
SENTENCES.update(
    {
        Action.RECORDING_STARTED: {
            "en": "{actor} started recording {recording}",
            "da": "{actor} startede optagelse {recording}",
        },
        Action.RECORDING_PAUSED: {
            "en": "{actor} paused recording {recording} ({pause_reason})",
            "da": "{actor} satte optagelse {recording} på pause ({pause_reason})",
        },
        Action.RECORDING_RESUMED: {
            "en": "{actor} resumed recording {recording}",
            "da": "{actor} genoptog optagelse {recording}",
        },
        Action.RECORDING_FAILED: {
            "en": "{actor} recorded that recording {recording} failed ({recording_failure}); it goes on anew",
            "da": "{actor} registrerede, at optagelse {recording} fejlede ({recording_failure}); den fortsætter",
        },
        Action.RECORDING_SEALED: {
            "en": "{actor} sealed recording {recording}: {segments} segments{interrupted_note}",
            "da": "{actor} forseglede optagelse {recording}: {segments} afsnit{interrupted_note}",
        },
        Action.RECORDING_EXPORTED: {
            "en": "{actor} exported recording {recording} (SHA-256 {export_hash})",
            "da": "{actor} udtrak optagelse {recording} (SHA-256 {export_hash})",
        },
        Action.RECORDING_PURGED: {
            "en": "{actor} destroyed recording {recording} at the end of its retention (its key is gone)",
            "da": "{actor} slettede optagelse {recording} ved udløbet af opbevaringstiden (nøglen er destrueret)",
        },
    }
)
PAUSE_REASONS: Words = {
    "judge": {"en": "by the judge", "da": "af dommeren"},
    "consultation": {"en": "a private consultation", "da": "en fortrolig samtale"},
}
FRAGMENTS.update(
    {
        "interrupted_note": {
            "en": ", after the server stopped: what was written survived",
            "da": ", efter at serveren stoppede: det skrevne er bevaret",
        },
    }
)
PLACEHOLDERS.update(
    {
        "recording": lambda p: f"#{p.text('recording_id')}",
        "pause_reason": lambda p: p.word(PAUSE_REASONS, "why"),
        "recording_failure": _as_written("reason"),
        "segments": _as_written("segments"),
        "interrupted_note": lambda p: p.flag("interrupted", "interrupted_note"),
        "export_hash": lambda p: p.text("sha256")[:16] + "…",
    }
)
