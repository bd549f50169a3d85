"""Encrypted, crash-safe recordings (issue 14): a recording per hearing with
its wrapped data key, its closed segments with their ciphertext hashes, and
the court's choice to record from the start.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATES = ("recording", "paused", "sealed", "purged")


def upgrade() -> None:
    with op.batch_alter_table("court") as batch:
        batch.add_column(sa.Column("record_on_start", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "recording",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*STATES, name="recording_state", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("wrapped_key", sa.LargeBinary(length=40), nullable=True),
        sa.Column("kek_fingerprint", sa.LargeBinary(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("manifest_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("interrupted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("pauses", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"], name=op.f("fk_recording_hearing_id_hearing")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording")),
    )
    op.create_index(op.f("ix_recording_hearing_id"), "recording", ["hearing_id"])
    op.create_table(
        "recording_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_seconds", sa.Float(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recording.id"], name=op.f("fk_recording_segment_recording_id_recording")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_segment")),
        sa.UniqueConstraint("recording_id", "number", name="uq_recording_segment_number"),
    )
    op.create_index(op.f("ix_recording_segment_recording_id"), "recording_segment", ["recording_id"])


def downgrade() -> None:
    op.drop_table("recording_segment")
    op.drop_table("recording")
    with op.batch_alter_table("court") as batch:
        batch.drop_column("record_on_start")
