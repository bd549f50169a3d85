"""Appending to the audit log, always inside the caller's transaction.

A mutating service function calls `append` before it commits, so the change
and its entry land together or not at all.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from hearing.audit.actions import Action
from hearing.clock import utcnow
from hearing.db.models import AuditEntry


@dataclasses.dataclass(frozen=True)
class Actor:
    kind: str  # user | device | system | anonymous
    id: int | None = None
    role: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in {"user", "device", "system", "anonymous"}:
            raise ValueError(f"unknown actor kind: {self.kind}")


SYSTEM = Actor("system")
ANONYMOUS = Actor("anonymous")


def append(
    db: Session,
    actor: Actor,
    action: Action,
    *,
    hearing_id: int | None = None,
    **payload: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=utcnow(),
        hearing_id=hearing_id,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_role=actor.role,
        action=action.value,
        payload=payload,
    )
    db.add(entry)
    db.flush()
    return entry
