"""Test calls, stored: recording one (with its audit entry) and reading the
newest for an endpoint or for a hearing's custody room.

A test call is recorded against the endpoint, not a hearing: it is made
before the hearing, and the same room serves the day's hearings.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit.actions import Action
from hearing.audit.log import append
from hearing.custody import desk
from hearing.custody.testcall import Figures, Grade, Reason
from hearing.db.models import Endpoint, Hearing, TestCall
from hearing.docket.parties import EndpointKind
from hearing.errors import PermissionDenied

# The endpoints whose test call is made and shown: the detainee's kiosk and
# the consultation booth. The courtroom rig's pictures are the judge's to see.
TESTED_KINDS = frozenset({EndpointKind.CUSTODY, EndpointKind.BOOTH})


def may_test(endpoint: Endpoint) -> None:
    if endpoint.kind not in TESTED_KINDS:
        raise PermissionDenied("Test calls are for custody and booth endpoints.")
    if endpoint.revoked_at is not None:
        raise PermissionDenied("This device has been revoked.")


def record(
    db: Session,
    actor: Actor,
    endpoint_id: int,
    figures: Figures,
    grade: Grade,
    reasons: Sequence[Reason],
    at: datetime,
) -> TestCall:
    """The endpoint's test call, kept and audited, in the caller's transaction."""
    endpoint = db.get(Endpoint, endpoint_id)
    if endpoint is None:
        raise PermissionDenied("No such device.")
    may_test(endpoint)
    call = TestCall(endpoint_id=endpoint.id, at=at, grade=grade.value, figures=json.dumps(figures.to_json()))
    db.add(call)
    db.flush()
    append(
        db,
        actor,
        Action.ENDPOINT_TEST_CALL,
        endpoint_id=endpoint.id,
        name=endpoint.name,
        grade=grade.value,
        figures=figures.to_json(),
        reasons=[r.value for r in reasons],
    )
    return call


@dataclasses.dataclass(frozen=True)
class Shown:
    """A test call as the staff pages show it."""

    endpoint: str
    grade: str
    at: datetime
    figures: dict[str, Any]


def _shown(db: Session, call: TestCall, tz: tzinfo) -> Shown:
    endpoint = db.get_one(Endpoint, call.endpoint_id)
    figures = json.loads(call.figures)
    return Shown(endpoint.name, call.grade, call.at.astimezone(tz), figures if isinstance(figures, dict) else {})


def newest(db: Session, endpoint_ids: Sequence[int], tz: tzinfo = UTC) -> Shown | None:
    """The newest test call of these endpoints, its time in `tz`."""
    if not endpoint_ids:
        return None
    call = db.scalar(
        select(TestCall)
        .where(TestCall.endpoint_id.in_(list(endpoint_ids)))
        .order_by(TestCall.at.desc(), TestCall.id.desc())
        .limit(1)
    )
    return None if call is None else _shown(db, call, tz)


def newest_for_hearing(db: Session, hearing: Hearing, tz: tzinfo = UTC) -> Shown | None:
    """The hearing's custody room's newest test call; with no room assigned,
    the newest of any custody endpoint at the hearing's facility."""
    if hearing.custody_endpoint_id is not None:
        return newest(db, [hearing.custody_endpoint_id], tz)
    return newest(db, [room.id for room in desk.rooms_of(db, hearing.facility_id)], tz)
