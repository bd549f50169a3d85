"""What the clerk's pages show of a hearing's remote parties (issue 12):
the "Remote parties" section of the hearing's page (hearings.py) and the
add form shown again after a mistake (remote_parties.py) draw from here."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hearing.db.models import Hearing
from hearing.docket.lifecycle import FINAL_STATES
from hearing.docket.parties import ParticipantRole
from hearing.interpreter import issuing, register

R = ParticipantRole
# The roles the clerk's form offers, in its order.
ROLES = (R.INTERPRETER, R.DEFENCE_COUNSEL, R.PROSECUTOR, R.WITNESS)
assert set(ROLES) == issuing.REMOTE_ROLES


@dataclasses.dataclass(frozen=True)
class PartyRow:
    """One remote party as the clerk's list draws it."""

    party: issuing.RemoteParty
    valid_from: datetime | None  # in the court's time
    valid_until: datetime | None
    registered_name: str | None


def section(db: Session, hearing: Hearing, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The "Remote parties" section of a hearing's page (hearings.py renders it)."""
    entries = {e.id: e for e in register.entries(db)}
    rows = []
    for party in issuing.remote_parties(db, hearing.id, now=now):
        registered = entries.get(party.registered_interpreter_id) if party.registered_interpreter_id else None
        rows.append(
            PartyRow(
                party,
                party.valid_from.astimezone(tz) if party.valid_from else None,
                party.valid_until.astimezone(tz) if party.valid_until else None,
                registered.name if registered is not None else None,
            )
        )
    return {
        "parties": rows,
        "roles": [r.value for r in ROLES],
        "register": [e for e in entries.values() if not e.disabled],
        "require_totp": hearing.require_totp,
        "language": hearing.interpreter_language or "",
        # An ended hearing's parties are a record: listed, no longer changed.
        "ended": hearing.state in FINAL_STATES,
    }
