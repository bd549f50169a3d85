"""Who hears and sees whom: one pure function from the hearing's state.

`route(state)` gives, for every receiver, the audio sources mixed into what
it hears (each with a gain) and the video sources it is sent. The media room
applies the result; it never asks a client to mute itself. A source that is
not in a receiver's route is not forwarded to it (invariant 1 in DESIGN.md).

The rules, in the order they apply:

1. Nobody receives their own audio or video.
2. A private consultation is a room of its own: its members' media reaches
   only its members, its members receive only each other, and the recorder
   never receives it (invariant 2). One seat alone can be a consultation: the
   custody facility's room, where counsel sits with the detainee, cut off
   from the court while they confer.
3. Who is live: in *open* mode everyone not muted; in *controlled* mode only
   the judge, the floor holder, those the judge keeps live, and the
   interpreter. The judge is always live and cannot be muted.
4. The interpreter hears every party the judge has not muted, whatever the
   floor mode and the interpretation mode, undimmed: interpreting needs
   every word, not only the floor's. Never a private consultation they are
   not part of (rule 2 comes first).
5. Selective mute hides one source's sound and/or picture from chosen
   receivers; screening hides a source's picture from chosen receivers.
6. Interpretation (the judge's choice of mode, kept on the floor):
   - *consecutive*: the interpreter takes the floor after each speaker and
     is heard by everyone, like any party (direction `everyone`);
   - *simultaneous* (whispered): the interpreter speaks while the original
     goes on, and its direction follows the floor (`direction()`), with no
     one switching it. While the court speaks (`to_party`), the interpreter
     is heard only by those who need interpretation, and they hear everyone
     else ducked (DUCKED_GAIN) under it. When the floor holder's seat needs
     interpretation and is not muted, it turns (`to_court`): the
     interpreter is heard by everyone outside those who need it, and they
     hear those who need it ducked under the rendition; those who need it
     no longer hear the interpreter. Inside a private consultation its
     members talk among themselves: nobody is ducked, and an interpreter
     who confers is heard by every member.
   The recorder keeps both voices at full level in every mode.
7. The lobby: a seat waiting to be admitted by the judge is heard by no one
   and receives nothing until it is admitted; only the lobby's viewers (the
   bench, which decides whom to admit) see its picture, and never hear it.
8. Audio only (plan B): a seat whose link cannot carry video any more (its
   video stopped, or its bandwidth collapsed, while its sound still arrives)
   is on audio only: its video is sent to no one (nor recorded) and it is
   sent no video, so that what bandwidth is left carries the sound. Its
   audio is routed by the rules above, unchanged.

Pure and deterministic: no I/O, no clock, no aiortc.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping

from hearing.docket.parties import ParticipantRole

RECORDER = "recorder"
DUCKED_GAIN = 0.25


class FloorMode(enum.StrEnum):
    OPEN = "open"
    CONTROLLED = "controlled"


class Interpretation(enum.StrEnum):
    NONE = "none"
    CONSECUTIVE = "consecutive"
    SIMULTANEOUS = "simultaneous"


class Direction(enum.StrEnum):
    """Where the interpreter's voice goes now (rule 6)."""

    NONE = "none"  # no interpretation
    EVERYONE = "everyone"  # consecutive: heard like any party
    TO_PARTY = "to_party"  # simultaneous, the court speaks: into the ears of those who need it
    TO_COURT = "to_court"  # simultaneous, one who needs it holds the floor: to everyone else


class Medium(enum.StrEnum):
    AUDIO = "audio"
    VIDEO = "video"


@dataclasses.dataclass(frozen=True)
class Hidden:
    """Selective mute: `source`'s `medium` is not sent to `receiver`."""

    source: str
    receiver: str
    medium: Medium


@dataclasses.dataclass(frozen=True)
class MediaState:
    """What the routing depends on. Participants are keyed by an id that is
    stable across reconnects; roles come from the hearing's participant list."""

    roles: Mapping[str, ParticipantRole]
    mode: FloorMode = FloorMode.OPEN
    floor: str | None = None
    kept_live: frozenset[str] = frozenset()
    muted: frozenset[str] = frozenset()
    hidden: frozenset[Hidden] = frozenset()
    consultation: frozenset[str] = frozenset()
    interpretation: Interpretation = Interpretation.NONE
    needs_interpretation: frozenset[str] = frozenset()
    recording: bool = False
    lobby: frozenset[str] = frozenset()
    lobby_viewers: frozenset[str] = frozenset()
    audio_only: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        known = set(self.roles)
        if RECORDER in known:
            raise ValueError(f"'{RECORDER}' is reserved for the recorder")
        for name, group in (
            ("kept live", self.kept_live),
            ("muted", self.muted),
            ("consultation", self.consultation),
            ("needs interpretation", self.needs_interpretation),
            ("lobby", self.lobby),
            ("lobby viewers", self.lobby_viewers),
            ("audio only", self.audio_only),
        ):
            if not group <= known:
                raise ValueError(f"{name}: unknown participants {sorted(group - known)}")
        if self.floor is not None and self.floor not in known:
            raise ValueError(f"floor holder {self.floor!r} is not a participant")
        for item in self.hidden:
            if item.source not in known or item.receiver not in known | {RECORDER}:
                raise ValueError(f"hidden: unknown participant in {item}")
        if any(self.roles[p] is ParticipantRole.JUDGE for p in self.consultation | self.muted | self.lobby):
            raise ValueError("the judge can be neither muted, nor in a private consultation, nor in the lobby")
        if any(self.roles[p] is ParticipantRole.INTERPRETER for p in self.needs_interpretation):
            raise ValueError("an interpreter does not need interpretation")

    def is_live(self, source: str) -> bool:
        role = self.roles[source]
        if role is ParticipantRole.JUDGE:
            return True
        if source in self.muted:
            return False
        if self.mode is FloorMode.OPEN:
            return True
        return source == self.floor or source in self.kept_live or role is ParticipantRole.INTERPRETER


@dataclasses.dataclass(frozen=True)
class AudioFeed:
    source: str
    gain: float


@dataclasses.dataclass(frozen=True)
class Route:
    receiver: str
    audio: tuple[AudioFeed, ...]
    video: tuple[str, ...]

    def hears(self, source: str) -> bool:
        return any(feed.source == source and feed.gain > 0 for feed in self.audio)


class Unseen(enum.StrEnum):
    """Why a receiver is not sent a source's picture, in the court's terms."""

    LOBBY = "lobby"  # the source, or the receiver, waits to be admitted
    CONSULTATION = "consultation"  # a private consultation stands between them
    SCREENED = "screened"  # the judge hides the source's picture from the receiver
    AUDIO_ONLY = "audio_only"  # the source's or the receiver's link carries sound only (rule 8)


def route(state: MediaState) -> dict[str, Route]:
    receivers = sorted(state.roles) + ([RECORDER] if state.recording else [])
    return {receiver: _route_for(state, receiver) for receiver in receivers}


def unseen(state: MediaState, source: str, receiver: str) -> Unseen | None:
    """Why `receiver` is not sent `source`'s picture, or None if its route
    lists it (rules 2, 5, 7 and 8). Said on the receiver's screen in words."""
    if receiver in state.lobby or (source in state.lobby and receiver not in state.lobby_viewers):
        return Unseen.LOBBY
    if _separated(state, source, receiver):
        return Unseen.CONSULTATION
    if Hidden(source, receiver, Medium.VIDEO) in state.hidden:
        return Unseen.SCREENED
    if source in state.audio_only or receiver in state.audio_only:
        return Unseen.AUDIO_ONLY
    return None


def _separated(state: MediaState, source: str, receiver: str) -> bool:
    """Rule 2: the consultation is a closed room in both directions."""
    if receiver == RECORDER:
        return source in state.consultation
    return (source in state.consultation) != (receiver in state.consultation)


def _route_for(state: MediaState, receiver: str) -> Route:
    receiver_role = state.roles.get(receiver)
    in_consultation = receiver in state.consultation
    audio: list[AudioFeed] = []
    video: list[str] = []
    if receiver in state.lobby:
        return Route(receiver, (), ())
    for source in sorted(state.roles):
        if source in state.lobby and receiver in state.lobby_viewers and source != receiver:
            # The bench sees who waits, to decide; nobody hears them yet.
            if unseen(state, source, receiver) is None:
                video.append(source)
            continue
        if source == receiver or source in state.lobby or _separated(state, source, receiver):
            continue
        if (
            Hidden(source, receiver, Medium.VIDEO) not in state.hidden
            and source not in state.audio_only
            and receiver not in state.audio_only
        ):
            video.append(source)
        if Hidden(source, receiver, Medium.AUDIO) in state.hidden:
            continue
        # Inside a consultation everyone speaks freely; the floor rules the court.
        if not in_consultation and not state.is_live(source) and receiver_role is not ParticipantRole.INTERPRETER:
            continue
        if not in_consultation and source in state.muted:
            continue
        gain = _gain(state, source, receiver)
        if gain > 0:
            audio.append(AudioFeed(source, gain))
    return Route(receiver, tuple(audio), tuple(video))


def direction(state: MediaState) -> Direction:
    """Where the interpreter's voice goes now (rule 6)."""
    return direction_of(state.interpretation, state.needs_interpretation, floor=state.floor, muted=state.muted)


def direction_of(
    mode: Interpretation, needs: frozenset[str], *, floor: str | None, muted: frozenset[str] = frozenset()
) -> Direction:
    """The same rule for whoever holds only the floor's fields (the floor
    itself, which audits each turn). Only the holder turns it, not a seat the
    judge keeps live: one interpreter has one voice, and renders whoever has
    the word; a kept-live party answers briefly while the holder still
    speaks. A holder the judge has muted is heard by no one, interpreter
    included, so the court's words go on being rendered to them."""
    if mode is Interpretation.NONE:
        return Direction.NONE
    if mode is Interpretation.CONSECUTIVE:
        return Direction.EVERYONE
    if floor is not None and floor in needs and floor not in muted:
        return Direction.TO_COURT
    return Direction.TO_PARTY


def _gain(state: MediaState, source: str, receiver: str) -> float:
    if state.interpretation is not Interpretation.SIMULTANEOUS or receiver == RECORDER:
        return 1.0  # the record keeps both voices, at full level
    if receiver in state.consultation:
        return 1.0  # a conversation among its members: nobody is ducked
    if state.roles[receiver] is ParticipantRole.INTERPRETER:
        return 1.0  # every word, undimmed (rule 4)
    interpreter = state.roles[source] is ParticipantRole.INTERPRETER
    needs = receiver in state.needs_interpretation
    if direction(state) is Direction.TO_PARTY:
        # The court speaks: the interpreter speaks into the ears of those who
        # need it, over the court ducked; the court hears the original.
        if needs:
            return 1.0 if interpreter else DUCKED_GAIN
        return 0.0 if interpreter else 1.0
    # One who needs interpretation speaks: the court hears the rendition over
    # the speaker ducked; those who need it hear the court, not the rendition.
    if needs:
        return 0.0 if interpreter else 1.0
    return DUCKED_GAIN if source in state.needs_interpretation else 1.0
