"""Key custody over the log's lifetime: destroying a hearing's key when its
retention ends, and re-wrapping every data key under a new KEK."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit import keys
from hearing.audit.actions import Action
from hearing.audit.log import append, log_of, scope_of
from hearing.clock import utcnow
from hearing.db.models import AuditKey, Hearing, Recording
from hearing.docket.lifecycle import FINAL_STATES
from hearing.errors import Conflict, NotFound


def shred(db: Session, actor: Actor, hearing_id: int) -> None:
    """Destroy the hearing's data key: its payloads become unreadable for
    good, while every entry still verifies (leaves cover ciphertext)."""
    hearing = db.get(Hearing, hearing_id)
    if hearing is not None and hearing.state not in FINAL_STATES:
        raise Conflict("A hearing's audit key can be destroyed only after the hearing has ended.")
    key = db.scalar(select(AuditKey).where(AuditKey.scope == scope_of(hearing_id)).with_for_update())
    if key is None:
        raise NotFound(f"Hearing {hearing_id} has no audit entries.")
    if key.wrapped is None:
        raise Conflict(f"The audit key of hearing {hearing_id} is already destroyed.")
    key.wrapped = None
    key.shredded_at = utcnow()
    log_of(db).forget_keys()
    # A system event: the hearing's own key is gone.
    append(db, actor, Action.AUDIT_KEY_SHREDDED, hearing=hearing_id)


def rewrap_all(db: Session, actor: Actor, new_kek: bytes) -> int:
    """Re-wrap every live data key under `new_kek`; entries are untouched."""
    log = log_of(db)
    old_fingerprint, new_fingerprint = log.keys.kek_fingerprint, keys.fingerprint(new_kek)
    existing = list(db.scalars(select(AuditKey).with_for_update()))
    # The recordings' data keys are wrapped under the same KEK (issue 14): they move with it.
    recordings = list(db.scalars(select(Recording).with_for_update()))
    # The entry below creates the system key if there is none yet; count it too.
    live = sum(k.wrapped is not None for k in existing) + (not any(k.scope == scope_of(None) for k in existing))
    live += sum(r.wrapped_key is not None for r in recordings)
    # Logged first, while the system key is still wrapped under the old KEK.
    append(db, actor, Action.AUDIT_KEK_ROTATED, old=old_fingerprint.hex(), new=new_fingerprint.hex(), keys=live)
    for key in db.scalars(select(AuditKey)):
        if key.wrapped is not None:
            key.wrapped = keys.wrap(new_kek, keys.unwrap(log.keys.kek, key.wrapped))
        key.kek_fingerprint = new_fingerprint
    for recording in recordings:
        if recording.wrapped_key is not None:
            recording.wrapped_key = keys.wrap(new_kek, keys.unwrap(log.keys.kek, recording.wrapped_key))
        recording.kek_fingerprint = new_fingerprint
    return live


def rotation_done(db: Session, new_kek: bytes) -> bool:
    """Whether an interrupted rotation already committed every key under `new_kek`."""
    fingerprints = set(db.scalars(select(AuditKey.kek_fingerprint)))
    fingerprints |= set(db.scalars(select(Recording.kek_fingerprint)))
    return fingerprints == {keys.fingerprint(new_kek)}
