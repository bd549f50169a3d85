"""The judge's panel and the endpoints speak to the floor in commands: small
JSON objects, parsed strictly (a known action, exactly its fields, typed,
short), then executed on a `Floor`. `COMMANDS` is the one table of them.
Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hearing.audit.actions import Action
from hearing.errors import InvalidInput
from hearing.routing.policy import FloorMode, Interpretation, Medium
from hearing.speaker_order.floor import Floor, FloorError

MAX_NAME_CHARS = 64
MAX_NEEDS = 8  # seats that may need interpretation at once: far more than any hearing has


@dataclasses.dataclass(frozen=True)
class Command:
    action: str
    speaker: str | None = None
    seat: str | None = None
    source: str | None = None
    receiver: str | None = None
    medium: Medium | None = None
    mode: FloorMode | None = None
    position: int | None = None
    keep_previous: bool = False
    interpretation: Interpretation | None = None  # sent as "mode" in an "interpretation" command
    needs: frozenset[str] | None = None  # seats; None: the floor's default (the detainee's)
    camera: str | None = None  # a courtroom camera's id (issue 13)
    layout: str | None = None  # a courtroom program layout (issue 13)
    version: int | None = None  # the state the sender saw; a stale click is refused

    def __post_init__(self) -> None:
        if self.action not in COMMANDS:
            raise ValueError(f"unknown floor command {self.action!r}")

    @property
    def rule(self) -> Rule:
        return COMMANDS[self.action]

    def details(self, after: Floor | None = None) -> dict[str, Any]:
        """What the audit entry records besides the action (and the version).
        `after`: the floor the command made, where it says more than the
        command (the seats that need interpretation, defaults applied)."""
        if self.rule.records is not None and after is not None:
            return self.rule.records(self, after)
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del fields["action"], fields["version"]
        # StrEnum values are str already: JSON writes them as their values.
        return {k: v for k, v in fields.items() if v is not None and v is not False}


class Sender(enum.Enum):
    JUDGE = "judge"  # the hearing's judge, from the panel
    SEAT = "seat"  # an endpoint, for the people at its own seat


Run = Callable[[Floor, "Command", frozenset[str]], Floor]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One command: the fields it takes (besides "action" and "version"),
    those it may leave out, the audit action it is logged as, who may send
    it, and what it does to the floor (given the seats connected now)."""

    fields: frozenset[str]
    audit: Action
    run: Run
    optional: frozenset[str] = frozenset()
    senders: frozenset[Sender] = frozenset({Sender.JUDGE})
    turns_away: bool = False  # the caller closes the seat's connection after the commit
    records: Callable[[Command, Floor], dict[str, Any]] | None = None  # the audit payload, if not the fields


def _rule(fields: str, audit: Action, run: Run, **options: Any) -> Rule:
    return Rule(frozenset(fields.split()), audit, run, **options)


BOTH = frozenset({Sender.JUDGE, Sender.SEAT})

# The whole vocabulary of the floor, one row per command. A new command is a row.
COMMANDS: dict[str, Rule] = {
    "admit": _rule("seat", Action.LOBBY_ADMITTED, lambda f, c, _: f.admit(_given(c.seat))),
    "deny": _rule("seat", Action.LOBBY_DENIED, lambda f, c, on: f.turn_away(_given(c.seat), on), turns_away=True),
    "request": _rule("speaker", Action.FLOOR_REQUESTED, lambda f, c, _: f.request(_given(c.speaker)), senders=BOTH),
    "withdraw": _rule("speaker", Action.FLOOR_WITHDRAWN, lambda f, c, _: f.withdraw(_given(c.speaker)), senders=BOTH),
    "remove": _rule("speaker", Action.FLOOR_REQUEST_REMOVED, lambda f, c, _: f.remove(_given(c.speaker))),
    "skip": _rule("", Action.FLOOR_QUEUE_SKIPPED, lambda f, c, _: f.skip()),
    "reorder": _rule(
        "speaker position",
        Action.FLOOR_QUEUE_REORDERED,
        lambda f, c, _: f.reorder(_given(c.speaker), _given(c.position)),
    ),
    "clear": _rule("", Action.FLOOR_QUEUE_CLEARED, lambda f, c, _: f.clear()),
    # With no speaker: the first in the queue.
    "grant": _rule(
        "speaker keep_previous",
        Action.FLOOR_GRANTED,
        lambda f, c, _: f.grant(c.speaker, keep_previous=c.keep_previous),
        optional=frozenset({"speaker", "keep_previous"}),
    ),
    "take_back": _rule("", Action.FLOOR_TAKEN_BACK, lambda f, c, _: f.take_back()),
    "mode": _rule("mode", Action.FLOOR_MODE_CHANGED, lambda f, c, _: f.set_mode(_given(c.mode))),
    "mute": _rule("seat", Action.FLOOR_MUTED, lambda f, c, _: f.mute(_given(c.seat))),
    "unmute": _rule("seat", Action.FLOOR_UNMUTED, lambda f, c, _: f.unmute(_given(c.seat))),
    "mute_all": _rule("", Action.FLOOR_ALL_MUTED, lambda f, c, _: f.mute_all_but_judge()),
    "hide": _rule(
        "source receiver medium",
        Action.FLOOR_HIDDEN,
        lambda f, c, _: f.hide(_given(c.source), _given(c.receiver), _given(c.medium)),
    ),
    "unhide": _rule(
        "source receiver medium",
        Action.FLOOR_UNHIDDEN,
        lambda f, c, _: f.unhide(_given(c.source), _given(c.receiver), _given(c.medium)),
    ),
    # issue 12, interp: the judge's choice of interpretation ("mode" is an
    # Interpretation here; "needs" only with simultaneous).
    "interpretation": _rule(
        "mode needs",
        Action.INTERPRETATION_SET,
        lambda f, c, _: f.interpret(_given(c.interpretation), c.needs),
        optional=frozenset({"needs"}),
        records=lambda c, f: {"mode": f.interpretation.value, "needs": sorted(f.needs_interpretation)},
    ),
    # issue 13: the judge pins the courtroom program (a camera, a layout) and releases it.
    "pin_camera": _rule(
        "camera layout",
        Action.CAMERA_PINNED,
        lambda f, c, _: f.pin_camera(c.camera, c.layout),
        optional=frozenset({"camera", "layout"}),
        records=lambda c, f: {"camera": c.camera, "layout": c.layout},
    ),
    "release_camera": _rule("", Action.CAMERA_RELEASED, lambda f, c, _: f.release_camera()),
}


def _name(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS:
        raise InvalidInput(f"'{key}' must be a name of at most {MAX_NAME_CHARS} characters.", field=key)
    return value


def _int(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise InvalidInput(f"'{key}' must be a non-negative integer.", field=key)
    return value


E = TypeVar("E", FloorMode, Medium, Interpretation)
T = TypeVar("T")


def _choice(body: Mapping[str, Any], key: str, kind: type[E]) -> E:
    try:
        return kind(str(body.get(key)))
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise InvalidInput(f"'{key}' must be one of: {choices}.", field=key) from None


def _seats(body: Mapping[str, Any], key: str) -> frozenset[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_NEEDS:
        raise InvalidInput(f"'{key}' must be a list of at most {MAX_NEEDS} seats.", field=key)
    names = [_name({key: item}, key) for item in value]
    if len(set(names)) != len(names):
        raise InvalidInput(f"'{key}' names a seat twice.", field=key)
    return frozenset(names)


def parse(body: object) -> Command:
    if not isinstance(body, Mapping) or not isinstance(body.get("action"), str):
        raise InvalidInput("A command is a JSON object with an 'action'.", field="action")
    action = body["action"]
    if action not in COMMANDS:
        raise InvalidInput(f"Unknown action {action[:40]!r}.", field="action")
    rule = COMMANDS[action]
    allowed, optional = rule.fields, rule.optional
    extra = set(body) - allowed - {"action", "version"}
    if extra:
        raise InvalidInput(f"Unexpected fields for {action}: {sorted(extra)[:5]}.", field=sorted(extra)[0][:40])
    for key in allowed - optional - set(body):
        raise InvalidInput(f"'{key}' is missing.", field=key)
    version = _int(body, "version") if "version" in body else None
    keep = body.get("keep_previous", False)
    if not isinstance(keep, bool):
        raise InvalidInput("'keep_previous' must be true or false.", field="keep_previous")

    def name(key: str) -> str | None:
        if key not in allowed or (key in optional and body.get(key) is None):
            return None
        return _name(body, key)

    interpreting = action == "interpretation"
    return Command(
        action,
        speaker=name("speaker"),
        seat=name("seat"),
        source=name("source"),
        receiver=name("receiver"),
        medium=_choice(body, "medium", Medium) if "medium" in allowed else None,
        mode=_choice(body, "mode", FloorMode) if "mode" in allowed and not interpreting else None,
        interpretation=_choice(body, "mode", Interpretation) if interpreting else None,
        needs=_seats(body, "needs") if "needs" in allowed else None,
        position=_int(body, "position") if "position" in allowed else None,
        camera=name("camera"),
        layout=name("layout"),
        keep_previous=keep,
        version=version,
    )


def execute(floor: Floor, command: Command, connected: frozenset[str] = frozenset()) -> Floor:
    """The floor after the command, or a FloorError that changes nothing.
    `connected`: the seats with a connection now (only a connected seat can
    be turned away)."""
    if command.version is not None and command.version != floor.version:
        raise FloorError("stale_version", "The panel was out of date; it now shows the current state. Try again.")
    return COMMANDS[command.action].run(floor, command, connected)


def _given(value: T | None) -> T:
    assert value is not None  # parse() requires it for this action
    return value
