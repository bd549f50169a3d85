"""Moving a hearing through its lifecycle: the judge's controls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append, checkpoint
from hearing.db.models import Courtroom, Hearing, StaffUser
from hearing.docket import opening
from hearing.docket.lifecycle import FINAL_STATES, LIVE_STATES, Transition, next_state
from hearing.errors import ConfigurationError, CourtroomBusy, HearingNotFound, InvalidInput, PermissionDenied
from hearing.speaker_order import presiding

AUDIT_ACTION = {
    Transition.OPEN: Action.HEARING_OPENED,
    Transition.START: Action.HEARING_STARTED,
    Transition.PAUSE: Action.HEARING_PAUSED,
    Transition.RESUME: Action.HEARING_RESUMED,
    Transition.BEGIN_CONSULTATION: Action.CONSULTATION_STARTED,
    Transition.END_CONSULTATION: Action.CONSULTATION_ENDED,
    Transition.ADJOURN: Action.HEARING_ADJOURNED,
    Transition.CLOSE: Action.HEARING_CLOSED,
    Transition.CONVERT_TO_PHYSICAL: Action.HEARING_CONVERTED_TO_PHYSICAL,
}


def rules_of(db: Session) -> opening.OpeningRules:
    rules = db.info.get(opening.SESSION_KEY)
    if not isinstance(rules, opening.OpeningRules):
        raise ConfigurationError("this database session has no opening rules attached")
    return rules


def _ensure_courtroom_free(db: Session, hearing: Hearing) -> None:
    """One live hearing per courtroom: its bench and its camera rig are one
    physical room, and a rig device joins its courtroom's live hearing."""
    # Lock the courtroom row, as booking does: two hearings of one courtroom
    # opened at the same moment queue here, and the second sees the first.
    # (SQLite's writers are serialised by BEGIN IMMEDIATE already.)
    room = db.scalar(select(Courtroom).where(Courtroom.id == hearing.courtroom_id).with_for_update())
    assert room is not None  # a foreign key
    other = db.execute(
        select(Hearing.case_number, Hearing.state)
        .where(Hearing.courtroom_id == room.id, Hearing.id != hearing.id, Hearing.state.in_(LIVE_STATES))
        .order_by(Hearing.scheduled_start, Hearing.id)
        .limit(1)
    ).first()
    if other is not None:
        case_number, state = other
        raise CourtroomBusy(
            f"{room.name} already has a live hearing, {case_number} ({state.value.replace('_', ' ')}): "
            "adjourn, close or convert it to a physical hearing before opening this one.",
            case_number=case_number,
        )


def transition(
    db: Session,
    judge: StaffUser,
    actor: Actor,
    hearing_id: int,
    step: Transition,
    now: datetime,
    *,
    include_interpreter: bool = False,
) -> Hearing:
    """Move the hearing on. `include_interpreter` (beginning a consultation
    only, and only where the hearing has an interpreter's seat): the
    interpreter confers with the detainee and counsel."""
    # FOR UPDATE: two clicks from two panels apply one after the other.
    hearing = db.scalar(select(Hearing).where(Hearing.id == hearing_id).with_for_update())
    if hearing is None:
        raise HearingNotFound()
    if hearing.courtroom_id != judge.courtroom_id:
        raise PermissionDenied("This hearing is not in your courtroom.")
    if include_interpreter and step is not Transition.BEGIN_CONSULTATION:
        raise InvalidInput("Only a private consultation can include the interpreter.", field="include_interpreter")
    if include_interpreter and not presiding.interpreter_seats(presiding.current(db, hearing)):
        raise InvalidInput("This hearing has no interpreter to include.", field="include_interpreter")
    before = hearing.state
    after = next_state(before, step)
    if step is Transition.OPEN:
        rules_of(db).check_time(hearing.scheduled_start, now)
        _ensure_courtroom_free(db, hearing)
    hearing.state = after
    hearing.updated_at = now
    details: dict[str, object] = {}
    if step in (Transition.BEGIN_CONSULTATION, Transition.END_CONSULTATION):
        # The media follows in the same transaction: who confers is cut off
        # from the court (and the record) until the consultation ends.
        begins = step is Transition.BEGIN_CONSULTATION
        members = presiding.follow_consultation(db, hearing, begins=begins, include_interpreter=include_interpreter)
        details["members"] = sorted(members)
        if include_interpreter:
            details["interpreter_included"] = True
    append(
        db,
        actor,
        AUDIT_ACTION[step],
        hearing_id=hearing.id,
        from_state=before.value,
        to_state=hearing.state.value,
        **details,
    )
    if hearing.state in FINAL_STATES:
        # A signed tree head covering the whole hearing, the moment it ends.
        checkpoint(db)
    return hearing
