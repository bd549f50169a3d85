"""The judge's panel and the endpoints speak to the floor in commands: small
JSON objects, parsed strictly (a known action, exactly its fields, typed,
short), then applied to a `Floor`. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from hearing.audit.actions import Action
from hearing.errors import InvalidInput
from hearing.routing.policy import FloorMode, Medium
from hearing.speaker_order.floor import Floor, FloorError

MAX_NAME_CHARS = 64


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
    version: int | None = None  # the state the sender saw; a stale click is refused

    def details(self) -> dict[str, Any]:
        """What the audit entry records besides the action."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del fields["action"], fields["version"]
        # StrEnum values are str already: JSON writes them as their values.
        return {k: v for k, v in fields.items() if v is not None and v is not False}


# Each action: the fields it takes (besides "action" and "version"), the audit action.
ACTIONS: dict[str, tuple[frozenset[str], Action]] = {
    "admit": (frozenset({"seat"}), Action.LOBBY_ADMITTED),
    "deny": (frozenset({"seat"}), Action.LOBBY_DENIED),
    "request": (frozenset({"speaker"}), Action.FLOOR_REQUESTED),
    "withdraw": (frozenset({"speaker"}), Action.FLOOR_WITHDRAWN),
    "remove": (frozenset({"speaker"}), Action.FLOOR_REQUEST_REMOVED),
    "skip": (frozenset(), Action.FLOOR_QUEUE_SKIPPED),
    "reorder": (frozenset({"speaker", "position"}), Action.FLOOR_QUEUE_REORDERED),
    "clear": (frozenset(), Action.FLOOR_QUEUE_CLEARED),
    "grant": (frozenset({"speaker", "keep_previous"}), Action.FLOOR_GRANTED),
    "take_back": (frozenset(), Action.FLOOR_TAKEN_BACK),
    "mode": (frozenset({"mode"}), Action.FLOOR_MODE_CHANGED),
    "mute": (frozenset({"seat"}), Action.FLOOR_MUTED),
    "unmute": (frozenset({"seat"}), Action.FLOOR_UNMUTED),
    "mute_all": (frozenset(), Action.FLOOR_ALL_MUTED),
    "hide": (frozenset({"source", "receiver", "medium"}), Action.FLOOR_HIDDEN),
    "unhide": (frozenset({"source", "receiver", "medium"}), Action.FLOOR_UNHIDDEN),
}
# What an endpoint may do for the people at its own seat; the rest is the judge's.
SEAT_ACTIONS = frozenset({"request", "withdraw"})
# Grant with no speaker: the first in the queue.
OPTIONAL: dict[str, frozenset[str]] = {"grant": frozenset({"speaker", "keep_previous"})}


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


E = TypeVar("E", FloorMode, Medium)
T = TypeVar("T")


def _choice(body: Mapping[str, Any], key: str, kind: type[E]) -> E:
    try:
        return kind(str(body.get(key)))
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise InvalidInput(f"'{key}' must be one of: {choices}.", field=key) from None


def parse(body: object) -> Command:
    if not isinstance(body, Mapping) or not isinstance(body.get("action"), str):
        raise InvalidInput("A command is a JSON object with an 'action'.", field="action")
    action = body["action"]
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown action {action[:40]!r}.", field="action")
    allowed = ACTIONS[action][0]
    extra = set(body) - allowed - {"action", "version"}
    if extra:
        raise InvalidInput(f"Unexpected fields for {action}: {sorted(extra)[:5]}.", field=sorted(extra)[0][:40])
    optional = OPTIONAL.get(action, frozenset())
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

    return Command(
        action,
        speaker=name("speaker"),
        seat=name("seat"),
        source=name("source"),
        receiver=name("receiver"),
        medium=_choice(body, "medium", Medium) if "medium" in allowed else None,
        mode=_choice(body, "mode", FloorMode) if "mode" in allowed else None,
        position=_int(body, "position") if "position" in allowed else None,
        keep_previous=keep,
        version=version,
    )


def apply(floor: Floor, command: Command) -> Floor:
    """The floor after the command. `deny` changes no floor state: it turns
    a waiting seat away (the caller closes its connection)."""
    if command.version is not None and command.version != floor.version:
        raise FloorError("stale_version", "The panel was out of date; it now shows the current state. Try again.")
    c = command
    match c.action:
        case "admit":
            return floor.admit(_given(c.seat))
        case "deny":
            if _given(c.seat) not in floor.lobby:
                raise FloorError("not_waiting", "That participant is not waiting in the lobby.")
            return floor
        case "request":
            return floor.request(_given(c.speaker))
        case "withdraw":
            return floor.withdraw(_given(c.speaker))
        case "remove":
            return floor.remove(_given(c.speaker))
        case "skip":
            return floor.skip()
        case "reorder":
            return floor.reorder(_given(c.speaker), _given(c.position))
        case "clear":
            return floor.clear()
        case "grant":
            return floor.grant(c.speaker, keep_previous=c.keep_previous)
        case "take_back":
            return floor.take_back()
        case "mode":
            return floor.set_mode(_given(c.mode))
        case "mute":
            return floor.mute(_given(c.seat))
        case "unmute":
            return floor.unmute(_given(c.seat))
        case "mute_all":
            return floor.mute_all_but_judge()
        case "hide":
            return floor.hide(_given(c.source), _given(c.receiver), _given(c.medium))
        case "unhide":
            return floor.unhide(_given(c.source), _given(c.receiver), _given(c.medium))
    raise AssertionError(c.action)  # parse() admits only the actions above


def _given(value: T | None) -> T:
    assert value is not None  # parse() requires it for this action
    return value
