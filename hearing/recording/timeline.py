"""The hearing's record for the court's case file, built from its audit log.

Only what belongs in the case file is taken: the lifecycle, admissions and
who joined, who had the floor when, mutes and screening, consultations and
their members, interruptions and how long they lasted, interpretation, and
the recording's start, pauses and seal. Readings of the log, refusals and
codes stay in the audit log, which the auditor reads on its own pages.

Entries are read as they were written (hearing/audit/sentences.py says
why): a payload may lack a field or hold one of an unexpected type, and the
log may hold any order of events (a failed transaction never leaves half a
story, but a reader meets old logs). None of it may stop the record: an
event that makes no sense in its place is kept as an event and opens or
closes no span. A span left open when the hearing ended closes with it;
one still open when the log ends has no end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Protocol

from hearing.audit.actions import Action
from hearing.audit.sentences import LANGUAGES, Who
from hearing.errors import InvalidInput


class Entry(Protocol):
    """What the record needs of an audit entry: hearing.audit.reader.ReadEntry
    (named structurally, so that this module stays free of the database)."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> Who: ...
    @property
    def action(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any] | None: ...
    def in_words(self, lang: str, tz: tzinfo) -> str: ...


# The sections of the record, in the order the page shows them.
LIFECYCLE = "lifecycle"
ADMISSION = "admission"
FLOOR = "floor"
MUTES = "mutes"
CONSULTATION = "consultation"
INTERRUPTION = "interruption"
INTERPRETATION = "interpretation"
RECORDING = "recording"
SECTIONS = (LIFECYCLE, ADMISSION, FLOOR, MUTES, CONSULTATION, INTERRUPTION, INTERPRETATION, RECORDING)

A = Action
SECTION_OF: dict[str, str] = {
    A.HEARING_BOOKED: LIFECYCLE,
    A.HEARING_OPENED: LIFECYCLE,
    A.HEARING_STARTED: LIFECYCLE,
    A.HEARING_PAUSED: LIFECYCLE,
    A.HEARING_RESUMED: LIFECYCLE,
    A.HEARING_ADJOURNED: LIFECYCLE,
    A.HEARING_CLOSED: LIFECYCLE,
    A.HEARING_CONVERTED_TO_PHYSICAL: LIFECYCLE,
    A.LOBBY_ADMITTED: ADMISSION,
    A.LOBBY_DENIED: ADMISSION,
    A.PARTICIPANT_JOINED: ADMISSION,
    A.PARTICIPANT_LEFT: ADMISSION,
    A.FLOOR_GRANTED: FLOOR,
    A.FLOOR_TAKEN_BACK: FLOOR,
    A.FLOOR_MODE_CHANGED: FLOOR,
    A.FLOOR_MUTED: MUTES,
    A.FLOOR_UNMUTED: MUTES,
    A.FLOOR_ALL_MUTED: MUTES,
    A.FLOOR_HIDDEN: MUTES,
    A.FLOOR_UNHIDDEN: MUTES,
    A.CONSULTATION_STARTED: CONSULTATION,
    A.CONSULTATION_ENDED: CONSULTATION,
    A.HEARING_INTERRUPTED: INTERRUPTION,
    A.HEARING_LINK_RESTORED: INTERRUPTION,
    A.INTERPRETATION_SET: INTERPRETATION,
    A.INTERPRETATION_DIRECTION: INTERPRETATION,
    A.RECORDING_STARTED: RECORDING,
    A.RECORDING_PAUSED: RECORDING,
    A.RECORDING_RESUMED: RECORDING,
    A.RECORDING_FAILED: RECORDING,
    A.RECORDING_SEALED: RECORDING,
}
# The states a hearing does not leave: every span still open ends there.
ENDINGS = frozenset({A.HEARING_CLOSED, A.HEARING_ADJOURNED, A.HEARING_CONVERTED_TO_PHYSICAL})

# Kinds of span.
STATE = "state"  # the hearing's state (open, in_session, paused, consultation), from its transitions
HOLDS_FLOOR = "floor"  # someone other than the judge has the floor
MUTED = "muted"  # a seat muted by the judge
HIDDEN = "hidden"  # a seat's sound or picture kept from another seat (screening)
IN_CONSULTATION = "consultation"
INTERRUPTED = "interruption"
INTERPRETED = "interpretation"  # a mode of interpretation other than none
RECORDED = "recording"  # a recording, from its start to its seal
RECORDING_PAUSED = "recording_pause"
SPAN_KINDS = (STATE, HOLDS_FLOOR, MUTED, HIDDEN, IN_CONSULTATION, INTERRUPTED, INTERPRETED, RECORDED, RECORDING_PAUSED)
# Everyone but the judge, muted at once (floor.all_muted names no seats).
EVERYONE = "*"


@dataclasses.dataclass(frozen=True)
class Event:
    seq: int
    at: datetime
    action: str
    section: str
    actor: Who
    seat: str | None
    speaker: str | None
    details: Mapping[str, Any]
    words: Mapping[str, str]  # the entry's sentence, per language

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise InvalidInput(f"No section of the record is called {self.section}.", field="section")
        if self.at.tzinfo is None:
            raise InvalidInput("An event's time must carry its time zone.", field="at")

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "action": self.action,
            "section": self.section,
            "actor": dataclasses.asdict(self.actor),
            "seat": self.seat,
            "speaker": self.speaker,
            "details": dict(self.details),
            "words": dict(self.words),
        }


@dataclasses.dataclass(frozen=True)
class Span:
    """Something that lasted: from the entry `start_seq` until `end_seq`
    (None while it had not ended when the log was read)."""

    kind: str
    start: datetime
    start_seq: int
    end: datetime | None = None
    end_seq: int | None = None
    seat: str | None = None
    speaker: str | None = None
    members: tuple[str, ...] = ()
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in SPAN_KINDS:
            raise InvalidInput(f"No span of the record is called {self.kind}.", field="kind")
        if (self.end is None) != (self.end_seq is None):
            raise InvalidInput("A span's end needs both its time and its entry.", field="end")
        if self.end is not None and self.end < self.start:
            raise InvalidInput("A span cannot end before it starts.", field="end")
        if self.end_seq is not None and self.end_seq < self.start_seq:
            raise InvalidInput("A span cannot end at an earlier entry than it starts.", field="end_seq")

    @property
    def seconds(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "start_seq": self.start_seq,
            "end": None if self.end is None else self.end.isoformat(),
            "end_seq": self.end_seq,
            "seconds": self.seconds,
            "seat": self.seat,
            "speaker": self.speaker,
            "members": list(self.members),
            "details": dict(self.details),
        }


@dataclasses.dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]
    spans: tuple[Span, ...]

    def __post_init__(self) -> None:
        seqs = [e.seq for e in self.events]
        if seqs != sorted(set(seqs)):
            raise InvalidInput("A record's events are in the log's order, each once.", field="events")

    def section(self, name: str) -> list[Event]:
        return [e for e in self.events if e.section == name]

    def spans_of(self, *kinds: str) -> list[Span]:
        return [s for s in self.spans if s.kind in kinds]

    def to_json(self) -> dict[str, Any]:
        return {
            "events": [e.to_json() for e in self.events],
            "spans": [s.to_json() for s in self.spans],
        }


def _text(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def _number(payload: Mapping[str, Any], key: str) -> float | None:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _id(payload: Mapping[str, Any], key: str) -> int | None:
    value = payload.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _members(payload: Mapping[str, Any]) -> tuple[str, ...]:
    members = payload.get("members")
    if not isinstance(members, list):
        return ()
    return tuple(sorted({m for m in members if isinstance(m, str)}))


# What an event's details keep of its payload: the fields the record speaks of.
DETAIL_FIELDS: dict[str, tuple[str, ...]] = {
    A.HEARING_BOOKED: ("case_number", "start", "end"),
    A.FLOOR_GRANTED: ("keep_previous",),
    A.FLOOR_MODE_CHANGED: ("mode",),
    A.FLOOR_HIDDEN: ("source", "receiver", "medium"),
    A.FLOOR_UNHIDDEN: ("source", "receiver", "medium"),
    A.PARTICIPANT_JOINED: ("reconnected",),
    A.PARTICIPANT_LEFT: ("reason",),
    A.HEARING_INTERRUPTED: ("paused",),
    A.HEARING_LINK_RESTORED: ("duration_seconds", "in_time", "lobby"),
    A.INTERPRETATION_SET: ("mode", "needs"),
    A.INTERPRETATION_DIRECTION: ("direction",),
    A.RECORDING_STARTED: ("recording_id",),
    A.RECORDING_PAUSED: ("recording_id", "why", "at_seconds"),
    A.RECORDING_RESUMED: ("recording_id", "why", "at_seconds"),
    A.RECORDING_FAILED: ("recording_id", "reason", "segment"),
    A.RECORDING_SEALED: ("recording_id", "segments", "seconds", "interrupted", "manifest_sha256"),
}
STATE_FIELDS = ("from_state", "to_state")
MEMBER_FIELDS = ("members",)


def _details(action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    fields = DETAIL_FIELDS.get(action, ()) + STATE_FIELDS + MEMBER_FIELDS
    return {key: payload[key] for key in fields if key in payload}


class _Builder:
    """Walks the entries once, keeping what is open: each kind of span keyed
    by what identifies it (a seat, a speaker, a recording)."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.open: dict[tuple[str, Any], Span] = {}
        self.holder: str | None = None

    def begin(self, key: tuple[str, Any], span: Span) -> None:
        # The same thing begun twice (an old log, a lost end): the first goes on.
        if key not in self.open:
            self.open[key] = span

    def finish(self, key: tuple[str, Any], entry: Entry, **details: Any) -> Span | None:
        span = self.open.pop(key, None)
        if span is None:
            return None
        # A clock that stepped back still gives a span that ends where it starts.
        end = max(entry.at, span.start)
        done = dataclasses.replace(span, end=end, end_seq=entry.seq, details={**span.details, **details})
        self.spans.append(done)
        return done

    def finish_all(self, entry: Entry, kinds: frozenset[str]) -> None:
        for key in [k for k in self.open if k[0] in kinds]:
            self.finish(key, entry)

    def result(self) -> tuple[Span, ...]:
        spans = self.spans + list(self.open.values())
        return tuple(sorted(spans, key=lambda s: (s.start_seq, SPAN_KINDS.index(s.kind), s.end_seq or 0)))


# Every span but the recording's ends with the hearing; a recording is sealed
# after it (its seal says so), and is left open until then.
ENDS_WITH_HEARING = frozenset(set(SPAN_KINDS) - {RECORDED, RECORDING_PAUSED})


def _apply(b: _Builder, entry: Entry, payload: Mapping[str, Any]) -> None:
    action = entry.action
    at, seq = entry.at, entry.seq
    to_state = _text(payload, "to_state")
    if to_state is not None:
        b.finish_all(entry, frozenset({STATE}))
        if action not in ENDINGS:
            b.begin((STATE, None), Span(STATE, at, seq, details={"state": to_state}))
    if action in ENDINGS:
        b.finish_all(entry, ENDS_WITH_HEARING)
        b.holder = None
    elif action == A.FLOOR_GRANTED:
        speaker = _text(payload, "speaker")
        keep = payload.get("keep_previous") is True
        if b.holder is not None and not keep and b.holder != speaker:
            b.finish((HOLDS_FLOOR, b.holder), entry)
        b.holder = speaker
        b.begin((HOLDS_FLOOR, speaker), Span(HOLDS_FLOOR, at, seq, speaker=speaker))
    elif action == A.FLOOR_TAKEN_BACK:
        b.finish_all(entry, frozenset({HOLDS_FLOOR}))
        b.holder = None
    elif action == A.FLOOR_MUTED and (seat := _text(payload, "seat")) is not None:
        b.begin((MUTED, seat), Span(MUTED, at, seq, seat=seat))
    elif action == A.FLOOR_ALL_MUTED:
        b.begin((MUTED, EVERYONE), Span(MUTED, at, seq, seat=EVERYONE))
    elif action == A.FLOOR_UNMUTED and (seat := _text(payload, "seat")) is not None:
        b.finish((MUTED, seat), entry)
        # Unmuting one seat after "everyone" ends the blanket mute as such;
        # the seats still muted are not named by the log, so none is guessed.
        b.finish((MUTED, EVERYONE), entry)
    elif action in (A.FLOOR_HIDDEN, A.FLOOR_UNHIDDEN):
        source, receiver, medium = (_text(payload, k) for k in ("source", "receiver", "medium"))
        if source is not None and receiver is not None and medium is not None:
            key = (HIDDEN, (source, receiver, medium))
            if action == A.FLOOR_HIDDEN:
                details = {"receiver": receiver, "medium": medium}
                b.begin(key, Span(HIDDEN, at, seq, seat=source, details=details))
            else:
                b.finish(key, entry)
    elif action == A.CONSULTATION_STARTED:
        members = _members(payload)
        b.begin((IN_CONSULTATION, None), Span(IN_CONSULTATION, at, seq, members=members))
    elif action == A.CONSULTATION_ENDED:
        b.finish((IN_CONSULTATION, None), entry)
    elif action == A.HEARING_INTERRUPTED and (seat := _text(payload, "seat")) is not None:
        b.begin((INTERRUPTED, seat), Span(INTERRUPTED, at, seq, seat=seat))
    elif action == A.HEARING_LINK_RESTORED and (seat := _text(payload, "seat")) is not None:
        # The server measured the gap on its own clock: that figure is the record's.
        measured = _number(payload, "duration_seconds")
        b.finish((INTERRUPTED, seat), entry, **({} if measured is None else {"duration_seconds": measured}))
    elif action == A.INTERPRETATION_SET:
        b.finish_all(entry, frozenset({INTERPRETED}))
        mode = _text(payload, "mode")
        if mode is not None and mode != "none":
            needs = payload.get("needs")
            members = tuple(sorted({n for n in needs if isinstance(n, str)})) if isinstance(needs, list) else ()
            b.begin((INTERPRETED, None), Span(INTERPRETED, at, seq, members=members, details={"mode": mode}))
    elif action in (A.RECORDING_STARTED, A.RECORDING_PAUSED, A.RECORDING_RESUMED, A.RECORDING_SEALED):
        _recording(b, entry, payload)


def _recording(b: _Builder, entry: Entry, payload: Mapping[str, Any]) -> None:
    recording = _id(payload, "recording_id")
    if recording is None:
        return
    action, at, seq = entry.action, entry.at, entry.seq
    ident = {"recording_id": recording}
    if action == A.RECORDING_STARTED:
        b.begin((RECORDED, recording), Span(RECORDED, at, seq, details=ident))
    elif action == A.RECORDING_PAUSED:
        details: dict[str, Any] = {**ident, "why": _text(payload, "why"), "at_seconds": _number(payload, "at_seconds")}
        b.begin((RECORDING_PAUSED, recording), Span(RECORDING_PAUSED, at, seq, details=details))
    elif action == A.RECORDING_RESUMED:
        b.finish((RECORDING_PAUSED, recording), entry, resumed_at_seconds=_number(payload, "at_seconds"))
    else:
        b.finish((RECORDING_PAUSED, recording), entry)
        sealed = {
            "segments": _id(payload, "segments"),
            "seconds": _number(payload, "seconds"),
            "interrupted": payload.get("interrupted") is True,
        }
        b.finish((RECORDED, recording), entry, **sealed)


def timeline(entries: Sequence[Entry], *, tz: tzinfo) -> Timeline:
    """The record of one hearing from its entries (any order: they are taken
    in the log's), each event with its sentence in every language, its times
    said in `tz` (the court's)."""
    builder = _Builder()
    events: list[Event] = []
    seen: set[int] = set()
    for entry in sorted(entries, key=lambda e: e.seq):
        section = SECTION_OF.get(entry.action)
        if section is None or entry.seq in seen:
            continue
        seen.add(entry.seq)
        payload: Mapping[str, Any] = entry.payload if isinstance(entry.payload, dict) else {}
        seat = _text(payload, "seat") or _text(payload, "source")
        events.append(
            Event(
                seq=entry.seq,
                at=entry.at,
                action=entry.action,
                section=section,
                actor=entry.actor,
                seat=seat,
                speaker=_text(payload, "speaker"),
                details=_details(entry.action, payload),
                words={lang: entry.in_words(lang, tz) for lang in LANGUAGES},
            )
        )
        _apply(builder, entry, payload)
    return Timeline(tuple(events), builder.result())
