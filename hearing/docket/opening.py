"""When the judge may open a hearing's lobby.

From `open_early_minutes` before the scheduled start, and at any time after
it: courts run late, and a hearing that overruns its slot must still be
held. (The other rule, one live hearing per courtroom, needs the database
and is enforced in hearing/docket/proceedings.py.)
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hearing.clock import require_aware
from hearing.config import Settings
from hearing.errors import ConfigurationError, TooEarly

# Where a database session carries the rules (beside the audit log), so that
# the lifecycle's service applies the court's setting on every path.
SESSION_KEY = "opening_rules"


@dataclasses.dataclass(frozen=True)
class OpeningRules:
    early: timedelta
    timezone: ZoneInfo

    def __post_init__(self) -> None:
        if self.early < timedelta(0):
            raise ConfigurationError("a hearing cannot open after, only before, its start")

    @classmethod
    def from_settings(cls, settings: Settings) -> OpeningRules:
        return cls(timedelta(minutes=settings.open_early_minutes), settings.timezone)

    def opens_at(self, scheduled_start: datetime) -> datetime:
        return require_aware(scheduled_start) - self.early

    def check_time(self, scheduled_start: datetime, now: datetime) -> None:
        opens = self.opens_at(scheduled_start)
        if require_aware(now) >= opens:
            return
        local = opens.astimezone(self.timezone)
        when = f"{local:%Y-%m-%d %H:%M} ({self.timezone.key})"
        minutes = int(self.early.total_seconds() // 60)
        if minutes:
            message = f"Too early: this hearing can be opened from {when}, {minutes} minutes before it starts."
        else:
            message = f"Too early: this hearing can be opened from its start, {when}."
        raise TooEarly(message, opens_at=opens)
