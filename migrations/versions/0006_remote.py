"""Remote parties by one-time code (issue 12): the codes (keyed hashes only),
the sessions a used code opens, the court's register of interpreters with
their TOTP, a hearing's choice to require it, and the witness role.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_ROLES = ("judge", "prosecutor", "defence_counsel", "detainee", "interpreter", "custody_officer", "observer")
NEW_ROLES = (*OLD_ROLES, "witness")


def _role(*values: str) -> sa.Enum:
    return sa.Enum(*values, name="participant_role", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "registered_interpreter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("languages", sa.String(length=200), nullable=False),
        sa.Column("totp_secret_enc", sa.LargeBinary(length=128), nullable=True),
        sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_interpreter")),
    )
    # batch: SQLite alters a table by copying it; PostgreSQL alters in place.
    with op.batch_alter_table("participant") as batch:
        batch.alter_column("role", existing_type=_role(*OLD_ROLES), type_=_role(*NEW_ROLES))
        batch.add_column(sa.Column("contact", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("language", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("registered_interpreter_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_participant_registered_interpreter_id_registered_interpreter"),
            "registered_interpreter",
            ["registered_interpreter_id"],
            ["id"],
        )
    with op.batch_alter_table("hearing") as batch:
        batch.add_column(sa.Column("require_totp", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "one_time_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation", sa.String(length=32), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("valid_until > valid_from", name=op.f("ck_one_time_code_window")),
        sa.CheckConstraint("failed_attempts >= 0", name=op.f("ck_one_time_code_attempts")),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"], name=op.f("fk_one_time_code_hearing_id_hearing")),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_one_time_code_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["staff_user.id"], name=op.f("fk_one_time_code_issued_by_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_code")),
        sa.UniqueConstraint("invitation", name=op.f("uq_one_time_code_invitation")),
    )
    op.create_index(op.f("ix_one_time_code_hearing_id"), "one_time_code", ["hearing_id"])
    op.create_index(op.f("ix_one_time_code_participant_id"), "one_time_code", ["participant_id"])
    op.create_table(
        "remote_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["code_id"], ["one_time_code.id"], name=op.f("fk_remote_session_code_id_one_time_code")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_remote_session_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"], name=op.f("fk_remote_session_hearing_id_hearing")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_remote_session_token_hash")),
    )
    op.create_index(op.f("ix_remote_session_code_id"), "remote_session", ["code_id"])
    op.create_index(op.f("ix_remote_session_participant_id"), "remote_session", ["participant_id"])
    op.create_index(op.f("ix_remote_session_hearing_id"), "remote_session", ["hearing_id"])


def downgrade() -> None:
    op.drop_table("remote_session")
    op.drop_table("one_time_code")
    with op.batch_alter_table("hearing") as batch:
        batch.drop_column("require_totp")
    op.execute("DELETE FROM participant WHERE role = 'witness'")
    with op.batch_alter_table("participant") as batch:
        batch.drop_constraint(
            op.f("fk_participant_registered_interpreter_id_registered_interpreter"), type_="foreignkey"
        )
        batch.drop_column("registered_interpreter_id")
        batch.drop_column("language")
        batch.drop_column("contact")
        batch.alter_column("role", existing_type=_role(*NEW_ROLES), type_=_role(*OLD_ROLES))
    op.drop_table("registered_interpreter")
