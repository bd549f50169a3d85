"""The recording's record in the database: begun, paused, resumed, its
segments, sealed, verified, exported, purged (issue 14).

Each function works in the caller's transaction and audits what it
changes. The data key is made here, wrapped under the audit log's
key-encryption key (the same key handling as the audit payloads: one KEK
to guard and to rotate), and unwrapped only for the recorder and for
export. Files live under `Settings.recording_dir / <recording id>/`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hearing.actors import Actor
from hearing.audit import keys, reader
from hearing.audit.actions import Action
from hearing.audit.log import append, log_of
from hearing.clock import utcnow
from hearing.db.models import Hearing, Recording, RecordingSegment, RecordingState
from hearing.errors import Conflict, NotFound
from hearing.recording import crypto
from hearing.recording import manifest as manifests

ACTIVE = (RecordingState.RECORDING, RecordingState.PAUSED)
SYSTEM = Actor("system")


class RecordingNotFound(NotFound):
    code = "recording_not_found"
    default_message = "No such recording."


class RecordingConflict(Conflict):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Begun:
    recording_id: int
    hearing_id: int
    key: bytes  # the data key, unwrapped: for the recorder's writer only

    def __repr__(self) -> str:  # never the key
        return f"Begun(recording={self.recording_id}, hearing={self.hearing_id})"


def folder(recording_dir: Path, recording_id: int) -> Path:
    """The recording's segments, and nothing else (verify flags any other file)."""
    return recording_dir / f"{recording_id:08d}"


def manifest_path(recording_dir: Path, recording_id: int) -> Path:
    return recording_dir / f"{recording_id:08d}.manifest.json"


def active(db: Session, hearing_id: int) -> Recording | None:
    return db.scalar(select(Recording).where(Recording.hearing_id == hearing_id, Recording.state.in_(ACTIVE)))


def has_recorded(db: Session, hearing_id: int) -> bool:
    return db.scalar(select(Recording.id).where(Recording.hearing_id == hearing_id).limit(1)) is not None


def record_on_start(db: Session, hearing_id: int) -> bool:
    hearing = db.get_one(Hearing, hearing_id)
    return bool(hearing.courtroom.court.record_on_start)


def begin(db: Session, actor: Actor, hearing_id: int) -> Begun:
    """A new recording of the hearing, with a fresh data key."""
    if db.get(Hearing, hearing_id) is None:
        raise NotFound("No such hearing.")
    if active(db, hearing_id) is not None:
        raise RecordingConflict("already_recording", "The hearing is being recorded already.")
    kek = log_of(db).keys.kek
    key = crypto.new_data_key()
    recording = Recording(
        hearing_id=hearing_id,
        state=RecordingState.RECORDING,
        wrapped_key=keys.wrap(kek, key),
        kek_fingerprint=keys.fingerprint(kek),
    )
    db.add(recording)
    db.flush()
    append(db, actor, Action.RECORDING_STARTED, hearing_id=hearing_id, recording_id=recording.id)
    return Begun(recording.id, hearing_id, key)


def _recording(db: Session, recording_id: int) -> Recording:
    recording = db.get(Recording, recording_id)
    if recording is None:
        raise RecordingNotFound()
    return recording


def pauses_of(recording: Recording) -> list[dict[str, Any]]:
    value = json.loads(recording.pauses)
    return value if isinstance(value, list) else []


def pause(db: Session, actor: Actor, recording_id: int, *, why: str, at_seconds: float) -> None:
    recording = _recording(db, recording_id)
    if recording.state is not RecordingState.RECORDING:
        raise RecordingConflict("recording_not_running", "The recording is not running.")
    recording.state = RecordingState.PAUSED
    recording.pauses = json.dumps([*pauses_of(recording), {"start": at_seconds, "end": None, "why": why}])
    append(
        db,
        actor,
        Action.RECORDING_PAUSED,
        hearing_id=recording.hearing_id,
        recording_id=recording_id,
        why=why,
        at_seconds=round(at_seconds, 3),
    )


def resume(db: Session, actor: Actor, recording_id: int, *, why: str, at_seconds: float) -> None:
    recording = _recording(db, recording_id)
    if recording.state is not RecordingState.PAUSED:
        raise RecordingConflict("recording_not_paused", "The recording is not paused.")
    recording.state = RecordingState.RECORDING
    pauses = pauses_of(recording)
    if pauses and pauses[-1].get("end") is None:
        pauses[-1]["end"] = at_seconds
    recording.pauses = json.dumps(pauses)
    append(
        db,
        actor,
        Action.RECORDING_RESUMED,
        hearing_id=recording.hearing_id,
        recording_id=recording_id,
        why=why,
        at_seconds=round(at_seconds, 3),
    )


def segment_written(
    db: Session, recording_id: int, sealed: crypto.SealedSegment, start_seconds: float, duration_seconds: float
) -> None:
    """A closed segment, as its writer left it (not audited one by one: the
    seal's manifest covers every segment)."""
    db.add(
        RecordingSegment(
            recording_id=recording_id,
            number=sealed.number,
            start_seconds=start_seconds,
            duration_seconds=duration_seconds,
            size=sealed.size,
            sha256=sealed.sha256,
        )
    )


def failed(db: Session, recording_id: int, *, reason: str, segment: int | None) -> None:
    recording = _recording(db, recording_id)
    append(
        db,
        SYSTEM,
        Action.RECORDING_FAILED,
        hearing_id=recording.hearing_id,
        recording_id=recording_id,
        reason=reason[:120],
        segment=segment,
    )


def manifest_of(db: Session, recording: Recording) -> manifests.Manifest:
    segments = db.scalars(
        select(RecordingSegment).where(RecordingSegment.recording_id == recording.id).order_by(RecordingSegment.number)
    )
    return manifests.Manifest(
        hearing_id=recording.hearing_id,
        recording_id=recording.id,
        segments=tuple(
            manifests.SegmentEntry(s.number, s.start_seconds, s.duration_seconds, s.size, s.sha256.hex())
            for s in segments
        ),
        pauses=tuple(manifests.Pause(p["start"], p.get("end"), p["why"]) for p in pauses_of(recording)),
        interrupted=recording.interrupted,
    )


def seal(db: Session, actor: Actor, recording_id: int, recording_dir: Path, *, interrupted: bool = False) -> bytes:
    """Stop the recording for good: its manifest is written beside the
    segments and its hash goes into the audit log (the signed checkpoints
    cover it). A recording cut short by a crash is sealed with what
    survived, and says so. Returns the manifest's hash."""
    recording = _recording(db, recording_id)
    if recording.state not in ACTIVE:
        raise RecordingConflict("recording_sealed", "The recording is sealed already.")
    pauses = pauses_of(recording)
    if pauses and pauses[-1].get("end") is None:
        pauses[-1]["end"] = max((s.start_seconds + s.duration_seconds for s in _segments(db, recording_id)), default=0)
        recording.pauses = json.dumps(pauses)
    recording.interrupted = interrupted
    sealed = manifest_of(db, recording)
    digest = sealed.digest()
    directory = folder(recording_dir, recording_id)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    manifest_path(recording_dir, recording_id).write_bytes(sealed.to_bytes())
    for partial in directory.glob("*.partial"):
        partial.unlink()  # the segment in progress when it stopped: never sealed
    now = utcnow()
    recording.state, recording.manifest_hash = RecordingState.SEALED, digest
    recording.stopped_at = recording.stopped_at or now
    recording.sealed_at = now
    append(
        db,
        actor,
        Action.RECORDING_SEALED,
        hearing_id=recording.hearing_id,
        recording_id=recording_id,
        manifest_sha256=digest.hex(),
        segments=len(sealed.segments),
        seconds=round(sum(s.duration_seconds for s in sealed.segments), 3),
        interrupted=interrupted,
    )
    return digest


def _segments(db: Session, recording_id: int) -> list[RecordingSegment]:
    return list(
        db.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.recording_id == recording_id)
            .order_by(RecordingSegment.number)
        )
    )


def interrupted(db: Session) -> list[int]:
    """Recordings left running by a process that is gone (its crash, a kill):
    to be sealed on restart."""
    return list(db.scalars(select(Recording.id).where(Recording.state.in_(ACTIVE)).order_by(Recording.id)))


def data_key(db: Session, recording: Recording) -> bytes:
    if recording.wrapped_key is None:
        raise RecordingConflict("recording_purged", "The recording was destroyed at the end of its retention.")
    log = log_of(db)
    if recording.kek_fingerprint != log.keys.kek_fingerprint:
        raise RecordingConflict("recording_key_mismatch", "The recording's key is wrapped under another KEK.")
    return keys.unwrap(log.keys.kek, recording.wrapped_key)


@dataclasses.dataclass(frozen=True)
class Checked:
    recording: Recording
    manifest: manifests.Manifest
    verdict: manifests.Verdict


def verify(db: Session, recording_id: int, recording_dir: Path, *, sealed_hash: bytes | None = None) -> Checked:
    """Every segment against the manifest, and the manifest against the
    database and the audit log's `recording.sealed` (its hash, when the
    caller read it from the log)."""
    recording = _recording(db, recording_id)
    if recording.state is not RecordingState.SEALED or recording.manifest_hash is None:
        raise RecordingConflict("recording_not_sealed", "Only a sealed recording can be verified.")
    directory = folder(recording_dir, recording_id)
    try:
        written = manifests.Manifest.from_bytes(manifest_path(recording_dir, recording_id).read_bytes())
    except (OSError, ValueError, manifests.ManifestInvalid) as exc:
        verdict = manifests.Verdict(False, None, f"the manifest cannot be read ({type(exc).__name__})")
        return Checked(recording, manifest_of(db, recording), verdict)
    digest = written.digest()
    for name, expected in (("the database", recording.manifest_hash), ("the audit log", sealed_hash)):
        if expected is not None and digest != expected:
            return Checked(
                recording, written, manifests.Verdict(False, None, f"the manifest differs from {name}'s seal")
            )
    key = data_key(db, recording)
    return Checked(recording, written, manifests.verify(written, directory, key, name=crypto.segment_name))


def purge(db: Session, actor: Actor, recording_dir: Path, *, older_than_days: int, now: datetime) -> list[int]:
    """Crypto-shredding: the data keys of sealed recordings older than the
    retention are destroyed and their files removed; audited. The audit log
    still verifies (its entries never held the key)."""
    cutoff = now - timedelta(days=older_than_days)
    expired = list(
        db.scalars(select(Recording).where(Recording.state == RecordingState.SEALED, Recording.sealed_at < cutoff))
    )
    for recording in expired:
        count = len(_segments(db, recording.id))
        recording.wrapped_key = None
        recording.state = RecordingState.PURGED
        recording.purged_at = now
        shutil.rmtree(folder(recording_dir, recording.id), ignore_errors=True)
        manifest_path(recording_dir, recording.id).unlink(missing_ok=True)
        append(
            db,
            actor,
            Action.RECORDING_PURGED,
            hearing_id=recording.hearing_id,
            recording_id=recording.id,
            segments=count,
        )
    return [r.id for r in expired]


def exported(db: Session, actor: Actor, recording_id: int, path: Path) -> str:
    """Audit an export: who, and the exported file's hash. Returns the hash (hex)."""
    recording = _recording(db, recording_id)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    append(
        db,
        actor,
        Action.RECORDING_EXPORTED,
        hearing_id=recording.hearing_id,
        recording_id=recording_id,
        sha256=digest.hexdigest(),
        size=path.stat().st_size,
    )
    return digest.hexdigest()


def sealed_hash(db: Session, reader_actor: Actor, recording: Recording) -> bytes | None:
    """The manifest hash the audit log's `recording.sealed` entry holds (the
    signed checkpoints cover it); reading the log is audited, as every reading is."""
    for entry in reversed(reader.read(db, reader_actor, recording.hearing_id)):
        payload = entry.payload or {}
        if entry.action == Action.RECORDING_SEALED and payload.get("recording_id") == recording.id:
            text = payload.get("manifest_sha256")
            return bytes.fromhex(text) if isinstance(text, str) else None
    return None


def verify_sealed(db: Session, reader_actor: Actor, recording_id: int, recording_dir: Path) -> Checked:
    """`verify`, against the seal the audit log holds."""
    recording = _recording(db, recording_id)
    return verify(db, recording_id, recording_dir, sealed_hash=sealed_hash(db, reader_actor, recording))


@dataclasses.dataclass(frozen=True)
class Listed:
    id: int
    state: str
    segments: int
    seconds: float
    interrupted: bool


def listed(db: Session, hearing_id: int) -> list[Listed]:
    """The hearing's recordings for its pages: state, length, segments."""
    result = []
    for recording in db.scalars(select(Recording).where(Recording.hearing_id == hearing_id).order_by(Recording.id)):
        segments = _segments(db, recording.id)
        seconds = round(sum(s.duration_seconds for s in segments), 1)
        result.append(Listed(recording.id, recording.state.value, len(segments), seconds, recording.interrupted))
    return result
