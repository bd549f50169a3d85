"""What the auditor asks of the system's events: a time range, an actor, an
action, one bounded page at a time. Parsed here from the words a form or a
command line gives, and refused with `invalid_input` when they do not say
anything the log could hold. Pure: hearing/audit/reader.py runs the query.

Times are the court's local time (a date alone means the whole day);
pages run newest first, and `before` (a sequence number) turns the page.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from hearing.actors import KINDS
from hearing.audit.actions import Action
from hearing.errors import InvalidInput
from hearing.fields import MAX_ID

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_SEQ = 2**63 - 1
# Earlier than the first entry any court wrote, later than any it will write;
# and far enough from datetime's own ends that a day can be added.
EARLIEST = date(2000, 1, 1)
LATEST = date(9998, 12, 31)

_MOMENT = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?", re.ASCII)
_NUMBER = re.compile(r"[0-9]{1,19}", re.ASCII)
_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,64}", re.ASCII)
FIELDS = ("since", "until", "actor", "action", "before", "limit")


@dataclasses.dataclass(frozen=True)
class ActorFilter:
    """`user:5`, `device:3`, a kind alone (`system`, `anonymous`, ...) or a
    staff user's name (reader.py looks the name up)."""

    kind: str
    id: int | None = None
    username: str | None = None

    def __str__(self) -> str:
        if self.username is not None:
            return self.username
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


@dataclasses.dataclass(frozen=True)
class SystemQuery:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    actor: ActorFilter | None = None
    action: str | None = None
    before: int | None = None  # entries with a smaller sequence number
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput("Times must be timezone-aware.", field="since")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidInput("The start of the range must come before its end.", field="until")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"Show between 1 and {MAX_LIMIT} entries at a time.", field="limit")
        if self.before is not None and not 1 <= self.before <= MAX_SEQ:
            raise InvalidInput("Not an entry number.", field="before")
        if self.action is not None and self.action not in _ACTIONS:
            raise InvalidInput("No such action.", field="action")

    def described(self) -> dict[str, Any]:
        """The filters as the reading's own audit entry records them."""
        described: dict[str, Any] = {
            "since": self.since.astimezone(UTC).isoformat() if self.since else None,
            "until": self.until.astimezone(UTC).isoformat() if self.until else None,
            "actor": str(self.actor) if self.actor else None,
            "action": self.action,
            "before": self.before,
        }
        return {key: value for key, value in described.items() if value is not None}


_ACTIONS = frozenset(a.value for a in Action)


def _moment(text: str, field: str, tz: tzinfo, *, end: bool) -> datetime:
    found = _MOMENT.fullmatch(text)
    if found is None:
        raise InvalidInput("Give a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM).", field=field)
    year, month, day, hour, minute, second = (int(g) if g is not None else None for g in found.groups())
    assert year is not None and month is not None and day is not None
    try:
        on = date(year, month, day)
        at = time(hour or 0, minute or 0, second or 0)
    except ValueError:
        raise InvalidInput("No such date or time.", field=field) from None
    if not EARLIEST <= on <= LATEST:
        raise InvalidInput(f"Give a date between {EARLIEST} and {LATEST}.", field=field)
    if hour is None and end:
        # "Until 3 December" means to the end of that day.
        on = on + timedelta(days=1)
    return datetime.combine(on, at, tzinfo=tz)


def _number(text: str, field: str) -> int:
    if _NUMBER.fullmatch(text) is None:
        raise InvalidInput("Give a whole number.", field=field)
    return int(text)


def parse_actor(text: str) -> ActorFilter:
    kind, colon, rest = text.partition(":")
    if kind in KINDS:
        if not colon:
            return ActorFilter(kind)
        if _NUMBER.fullmatch(rest) is None or not 1 <= int(rest) <= MAX_ID:
            raise InvalidInput("After the kind of actor, give its number (user:5).", field="actor")
        return ActorFilter(kind, int(rest))
    if _USERNAME.fullmatch(text) is None:
        raise InvalidInput("Give user:ID, device:ID, system, anonymous or a user name.", field="actor")
    return ActorFilter("user", username=text)


def parse(values: Mapping[str, str | None], tz: tzinfo) -> SystemQuery:
    """A query from form or command-line values (missing or empty: no filter)."""
    given = {key: (values.get(key) or "").strip() for key in FIELDS}
    return SystemQuery(
        since=_moment(given["since"], "since", tz, end=False) if given["since"] else None,
        until=_moment(given["until"], "until", tz, end=True) if given["until"] else None,
        actor=parse_actor(given["actor"]) if given["actor"] else None,
        action=given["action"] or None,
        before=_number(given["before"], "before") if given["before"] else None,
        limit=_number(given["limit"], "limit") if given["limit"] else DEFAULT_LIMIT,
    )
