"""Foundation: court, sites, devices, staff, sessions, hearings, participants.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 05:57:04.750571
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "court",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_court")),
        sa.UniqueConstraint("name", name=op.f("uq_court_name")),
    )
    op.create_table(
        "custody_facility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_facility")),
        sa.UniqueConstraint("name", name=op.f("uq_custody_facility_name")),
    )
    op.create_table(
        "courtroom",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("court_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["court_id"], ["court.id"], name=op.f("fk_courtroom_court_id_court")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtroom")),
        sa.UniqueConstraint("court_id", "name", name="uq_courtroom_court_name"),
    )
    op.create_table(
        "endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("courtroom", "custody", name="endpoint_kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("courtroom_id", sa.Integer(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("enrollment_code_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("enrollment_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'courtroom' AND courtroom_id IS NOT NULL AND facility_id IS NULL) OR (kind = 'custody' AND facility_id IS NOT NULL AND courtroom_id IS NULL)",
            name=op.f("ck_endpoint_site"),
        ),
        sa.ForeignKeyConstraint(["courtroom_id"], ["courtroom.id"], name=op.f("fk_endpoint_courtroom_id_courtroom")),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["custody_facility.id"], name=op.f("fk_endpoint_facility_id_custody_facility")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint")),
        sa.UniqueConstraint("enrollment_code_hash", name=op.f("uq_endpoint_enrollment_code_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_endpoint_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_endpoint_token_hash")),
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "judge",
                "clerk",
                "custody_officer",
                "auditor",
                "admin",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret_enc", sa.LargeBinary(length=128), nullable=False),
        sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("courtroom_id", sa.Integer(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["courtroom_id"], ["courtroom.id"], name=op.f("fk_staff_user_courtroom_id_courtroom")),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["custody_facility.id"], name=op.f("fk_staff_user_facility_id_custody_facility")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_user_username")),
    )
    op.create_table(
        "hearing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "remand_extension", "other", name="hearing_kind", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("courtroom_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detainee_name", sa.String(length=200), nullable=False),
        sa.Column("detainee_reference", sa.String(length=64), nullable=False),
        sa.Column("interpreter_language", sa.String(length=64), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "scheduled",
                "open",
                "in_session",
                "paused",
                "consultation",
                "adjourned",
                "closed",
                "converted_to_physical",
                name="hearing_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("booked_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("scheduled_end > scheduled_start", name=op.f("ck_hearing_window")),
        sa.ForeignKeyConstraint(["booked_by_id"], ["staff_user.id"], name=op.f("fk_hearing_booked_by_id_staff_user")),
        sa.ForeignKeyConstraint(["courtroom_id"], ["courtroom.id"], name=op.f("fk_hearing_courtroom_id_courtroom")),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["custody_facility.id"], name=op.f("fk_hearing_facility_id_custody_facility")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hearing")),
    )
    with op.batch_alter_table("hearing", schema=None) as batch_op:
        batch_op.create_index("ix_hearing_courtroom_start", ["courtroom_id", "scheduled_start"], unique=False)
        batch_op.create_index("ix_hearing_facility_start", ["facility_id", "scheduled_start"], unique=False)

    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"], name=op.f("fk_staff_session_user_id_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_session_token_hash")),
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "judge",
                "prosecutor",
                "defence_counsel",
                "detainee",
                "interpreter",
                "custody_officer",
                "observer",
                name="participant_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "connection",
            sa.Enum(
                "courtroom",
                "custody",
                "remote",
                name="participant_connection",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoint.id"], name=op.f("fk_participant_endpoint_id_endpoint")),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"], name=op.f("fk_participant_hearing_id_hearing")),
        sa.ForeignKeyConstraint(["user_id"], ["staff_user.id"], name=op.f("fk_participant_user_id_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant")),
    )
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participant_hearing_id"), ["hearing_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_hearing_id"))

    op.drop_table("participant")
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_user_id"))

    op.drop_table("staff_session")
    with op.batch_alter_table("hearing", schema=None) as batch_op:
        batch_op.drop_index("ix_hearing_facility_start")
        batch_op.drop_index("ix_hearing_courtroom_start")

    op.drop_table("hearing")
    op.drop_table("staff_user")
    op.drop_table("endpoint")
    op.drop_table("courtroom")
    op.drop_table("custody_facility")
    op.drop_table("court")
