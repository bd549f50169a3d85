from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    true,
)
from sqlalchemy.engine import Connection as DBConnection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hearing.auth.roles import Role
from hearing.clock import utcnow
from hearing.db.types import UTCDateTime
from hearing.docket.lifecycle import HearingState
from hearing.docket.parties import (
    Connection,
    EndpointKind,
    HearingKind,
    ParticipantRole,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable, and adding a
    # value is an ordinary migration on every backend.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


class Court(Base):
    __tablename__ = "court"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # When the custody endpoint's link drops during a session, the hearing
    # pauses by itself (the judge resumes it); some courts prefer to decide.
    pause_on_drop: Mapped[bool] = mapped_column(default=True, server_default=true())
    # issue 14: the recording starts by itself when a hearing starts; some
    # courts leave it to the judge.
    record_on_start: Mapped[bool] = mapped_column(default=True, server_default=true())


class Courtroom(Base):
    __tablename__ = "courtroom"
    __table_args__ = (UniqueConstraint("court_id", "name", name="uq_courtroom_court_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[int] = mapped_column(ForeignKey("court.id"))
    name: Mapped[str] = mapped_column(String(200))

    court: Mapped[Court] = relationship()


class CustodyFacility(Base):
    __tablename__ = "custody_facility"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


# A courtroom's devices (the rig, a booth) stand at a courtroom; a kiosk at a
# custody facility. Shared with migrations/versions/0005_custody.py.
ENDPOINT_SITE = (
    "(kind IN ('courtroom', 'booth') AND courtroom_id IS NOT NULL AND facility_id IS NULL)"
    " OR (kind = 'custody' AND facility_id IS NOT NULL AND courtroom_id IS NULL)"
)


class Endpoint(Base):
    """An enrolled device: a courtroom rig, a custody endpoint (the detainee's
    kiosk) or a consultation booth at a courtroom."""

    __tablename__ = "endpoint"
    __table_args__ = (CheckConstraint(ENDPOINT_SITE, name="site"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EndpointKind] = mapped_column(_enum(EndpointKind, "endpoint_kind"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    courtroom_id: Mapped[int | None] = mapped_column(ForeignKey("courtroom.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("custody_facility.id"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    enrollment_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    enrollment_expires_at: Mapped[datetime | None]
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]

    courtroom: Mapped[Courtroom | None] = relationship()
    facility: Mapped[CustodyFacility | None] = relationship()


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "staff_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    # AES-GCM encrypted under a key from the key directory, never plain.
    totp_secret_enc: Mapped[bytes] = mapped_column(LargeBinary(128))
    totp_confirmed: Mapped[bool] = mapped_column(default=False)
    # The last accepted TOTP time step: a code is accepted only once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # The one-time code that, with the password, lets the user set up a new
    # authenticator (after `user add` or `user reset-totp`): a keyed hash,
    # cleared when used.
    enrolment_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    enrolment_code_expires_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    courtroom_id: Mapped[int | None] = mapped_column(ForeignKey("courtroom.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("custody_facility.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]

    courtroom: Mapped[Courtroom | None] = relationship()
    facility: Mapped[CustodyFacility | None] = relationship()


class StaffSession(Base):
    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of a 256-bit random token; the token itself is only in the cookie.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    user: Mapped[StaffUser] = relationship()


class Hearing(Base):
    __tablename__ = "hearing"
    __table_args__ = (
        CheckConstraint("scheduled_end > scheduled_start", name="window"),
        Index("ix_hearing_courtroom_start", "courtroom_id", "scheduled_start"),
        Index("ix_hearing_facility_start", "facility_id", "scheduled_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64))
    kind: Mapped[HearingKind] = mapped_column(_enum(HearingKind, "hearing_kind"))
    courtroom_id: Mapped[int] = mapped_column(ForeignKey("courtroom.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("custody_facility.id"))
    scheduled_start: Mapped[datetime]
    scheduled_end: Mapped[datetime]
    detainee_name: Mapped[str] = mapped_column(String(200))
    detainee_reference: Mapped[str] = mapped_column(String(64))
    interpreter_language: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[HearingState] = mapped_column(_enum(HearingState, "hearing_state"), default=HearingState.SCHEDULED)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # The custody facility's hearing room (its kiosk) the officer assigned:
    # then only that endpoint takes the custody seat. None: any kiosk there.
    custody_endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoint.id"))
    # issue 12: a registered interpreter joins with code + TOTP, not the code alone.
    require_totp: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    courtroom: Mapped[Courtroom] = relationship()
    facility: Mapped[CustodyFacility] = relationship()
    custody_endpoint: Mapped[Endpoint | None] = relationship()
    participants: Mapped[list[Participant]] = relationship(back_populates="hearing", order_by="Participant.id")


class Participant(Base):
    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(_enum(ParticipantRole, "participant_role"))
    display_name: Mapped[str] = mapped_column(String(200))
    connection: Mapped[Connection] = mapped_column(_enum(Connection, "participant_connection"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoint.id"))
    joined_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    # issue 12, a remote party: how the court reaches them (for the invitation),
    # the language an interpreter interprets, and the court's register entry.
    contact: Mapped[str] = mapped_column(String(200), default="", server_default="")
    language: Mapped[str | None] = mapped_column(String(64))
    registered_interpreter_id: Mapped[int | None] = mapped_column(ForeignKey("registered_interpreter.id"))

    hearing: Mapped[Hearing] = relationship(back_populates="participants")
    registered_interpreter: Mapped[RegisteredInterpreter | None] = relationship()


class RegisteredInterpreter(Base):
    """An interpreter on the court's register, who may enroll a TOTP
    authenticator: a hearing can then ask for the code and the TOTP."""

    __tablename__ = "registered_interpreter"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200), default="")
    languages: Mapped[str] = mapped_column(String(200), default="")
    # AES-GCM encrypted under the TOTP key (as staff secrets are), never plain.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    totp_confirmed: Mapped[bool] = mapped_column(default=False)
    # The last accepted TOTP time step: a code is accepted only once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class OneTimeCode(Base):
    """A remote party's one-time code for one hearing: only its keyed hash.

    `invitation` is the public half (in the join address); the code is the
    secret half. Admission uses it once (`used_at`, set by one conditional
    update); a code is dead once used, revoked, locked or out of its window."""

    __tablename__ = "one_time_code"
    __table_args__ = (
        CheckConstraint("valid_until > valid_from", name="window"),
        CheckConstraint("failed_attempts >= 0", name="attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation: Mapped[str] = mapped_column(String(32), unique=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship()


class RemoteSession(Base):
    """What a used code opened: the remote party's browser session for that
    hearing (a reconnect uses it, never the code again). `verified_at` is
    set once every factor the hearing asks for has passed."""

    __tablename__ = "remote_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of a 256-bit random token; the token itself is only in the cookie.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("one_time_code.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship()


class CheckIn(Base):
    """The custody officer's check-in of the detainee for one hearing: the
    current word (each change is in the audit log with who made it)."""

    __tablename__ = "custody_check_in"
    __table_args__ = (CheckConstraint("status IN ('in_room', 'ready')", name="status"),)

    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), primary_key=True, autoincrement=False)
    officer_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    name_confirmed: Mapped[bool]
    reference_confirmed: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TestCall(Base):
    """One pre-hearing test call of an endpoint: its grade and the figures
    measured (JSON), kept against the endpoint."""

    __tablename__ = "test_call"
    __table_args__ = (
        CheckConstraint("grade IN ('good', 'poor', 'bad')", name="grade"),
        Index("ix_test_call_endpoint_at", "endpoint_id", "at"),
    )
    __test__ = False  # not a pytest class, despite the name

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoint.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    grade: Mapped[str] = mapped_column(String(8))
    figures: Mapped[str] = mapped_column(Text)


class FloorRecord(Base):
    """The judge's floor for one hearing (hearing/speaker_order/floor.py),
    stored whole as JSON: it is read and written only as one value."""

    __tablename__ = "hearing_floor"

    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), primary_key=True, autoincrement=False)
    version: Mapped[int]
    state: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditKey(Base):
    """A data key for one hearing's audit payloads (or the system's), stored
    only wrapped under the key-encryption key. Shredding sets it to NULL."""

    __tablename__ = "audit_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), unique=True)
    hearing_id: Mapped[int | None]
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary(40))
    kek_fingerprint: Mapped[bytes] = mapped_column(LargeBinary(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shredded_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One event. The header is plain; the payload is AES-256-GCM ciphertext.
    No foreign key to hearings: the log outlives what it describes."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    hearing_id: Mapped[int | None] = mapped_column(index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[int] = mapped_column(ForeignKey("audit_key.id"))
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """The log's one head row: its size, last chain hash and Merkle frontier.
    Every append locks it, which is what makes sequence numbers gap-free and
    the chain consistent across tasks and processes."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    checkpoint_at: Mapped[datetime | None]


class AuditCheckpoint(Base):
    """A signed tree head, as the note text that was signed."""

    __tablename__ = "audit_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text)


EMPTY_HEAD = {"id": 1, "size": 0, "chain_hash": bytes(32), "frontier": b"", "checkpoint_size": 0}


@event.listens_for(AuditHead.__table__, "after_create")
def _insert_empty_head(target: Table, connection: DBConnection, **_: Any) -> None:
    connection.execute(target.insert().values(**EMPTY_HEAD))


class RecordingState(enum.StrEnum):
    RECORDING = "recording"  # segments are being written
    PAUSED = "paused"  # by the judge, or by a consultation
    SEALED = "sealed"  # stopped; its manifest's hash is in the audit log
    PURGED = "purged"  # its data key destroyed, its files removed (retention)


class Recording(Base):
    """One recording of a hearing (issue 14): encrypted segments on disk,
    their data key here, wrapped under the audit log's key-encryption key."""

    __tablename__ = "recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    hearing_id: Mapped[int] = mapped_column(ForeignKey("hearing.id"), index=True)
    state: Mapped[RecordingState] = mapped_column(_enum(RecordingState, "recording_state"))
    # The per-recording data key (AES-256), RFC 3394-wrapped; NULL once purged.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary(40))
    kek_fingerprint: Mapped[bytes] = mapped_column(LargeBinary(8))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]
    sealed_at: Mapped[datetime | None]
    # SHA-256 of the sealed manifest (also in the recording.sealed audit entry).
    manifest_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # Sealed on restart after a crash, with the segments that survived.
    interrupted: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The pauses, as JSON: [{"from": seconds, "to": seconds or null, "why": "judge" | "consultation"}]
    # on the recording's clock; the manifest carries them.
    pauses: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    purged_at: Mapped[datetime | None]


class RecordingSegment(Base):
    """One closed segment (about 10 s), as written: its file, its place on
    the recording's clock and the hash of its ciphertext."""

    __tablename__ = "recording_segment"
    __table_args__ = (UniqueConstraint("recording_id", "number", name="uq_recording_segment_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), index=True)
    number: Mapped[int]
    # On the recording's clock (the server's arrival clock), in seconds.
    start_seconds: Mapped[float] = mapped_column(Float)
    duration_seconds: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)
