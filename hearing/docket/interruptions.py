"""A seat's link lost and restored mid-hearing, as services: each one locks
the hearing, changes what it changes, and appends its audit entry in the
same transaction (invariant 3). The system acts: nobody clicked.

- `interrupted`: the custody room's (or the booth's) connection ended while
  the hearing was under way. If the court pauses on a drop
  (`Court.pause_on_drop`, `hearing site pause-on-drop`) and the hearing is
  in session, it pauses; either way `hearing.interrupted` records the seat
  and whether it paused.
- `restored`: the seat is back, with how long it was gone. Within
  RECONNECT_SECONDS it takes its seat as it was (floor, mutes, consultation:
  the floor was never touched). Later, it waits in the lobby: the judge
  admits it again, having seen who is there (docs/operations.md).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import SYSTEM
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.db.models import Court, Courtroom, Hearing
from hearing.docket.lifecycle import HearingState, Transition, next_state
from hearing.errors import HearingNotFound
from hearing.speaker_order import presiding
from hearing.speaker_order.floor import Floor

# The states in which a lost link interrupts the hearing: it is under way.
UNDER_WAY = frozenset({HearingState.IN_SESSION, HearingState.PAUSED, HearingState.CONSULTATION})


@dataclasses.dataclass(frozen=True)
class Interrupted:
    state: HearingState
    paused: bool  # this drop paused the hearing


def _locked(db: Session, hearing_id: int) -> Hearing:
    hearing = db.scalar(select(Hearing).where(Hearing.id == hearing_id).with_for_update())
    if hearing is None:
        raise HearingNotFound()
    return hearing


def pauses_on_drop(db: Session, hearing: Hearing) -> bool:
    court = db.scalar(
        select(Court).join(Courtroom, Courtroom.court_id == Court.id).where(Courtroom.id == hearing.courtroom_id)
    )
    return court is None or court.pause_on_drop


def interrupted(db: Session, hearing_id: int, seat: str, now: datetime) -> Interrupted | None:
    """The seat's connection ended. None when that interrupts nothing: the
    hearing is not under way, or the seat was still in the lobby."""
    hearing = _locked(db, hearing_id)
    if hearing.state not in UNDER_WAY or seat not in presiding.current(db, hearing).admitted:
        return None
    before = hearing.state
    paused = before is HearingState.IN_SESSION and pauses_on_drop(db, hearing)
    if paused:
        hearing.state = next_state(before, Transition.PAUSE)
        hearing.updated_at = now
    append(
        db,
        SYSTEM,
        Action.HEARING_INTERRUPTED,
        hearing_id=hearing.id,
        seat=seat,
        paused=paused,
        from_state=before.value,
        to_state=hearing.state.value,
    )
    return Interrupted(hearing.state, paused)


def restored(db: Session, hearing_id: int, seat: str, duration_seconds: float, *, in_time: bool) -> Floor | None:
    """The seat is back after `duration_seconds`. Late (not `in_time`), it
    is sent to the lobby: the new floor, else None (nothing changed but the
    audit entry)."""
    hearing = _locked(db, hearing_id)
    floor = None if in_time else presiding.send_to_lobby(db, hearing, seat)
    append(
        db,
        SYSTEM,
        Action.HEARING_LINK_RESTORED,
        hearing_id=hearing.id,
        seat=seat,
        duration_seconds=round(duration_seconds, 1),
        in_time=in_time,
        lobby=floor is not None,
    )
    return floor
