"""The custody side: consultation booths, the assigned hearing room, check-in,
test calls, and whether a dropped link pauses the court's hearings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_SITE = (
    "(kind = 'courtroom' AND courtroom_id IS NOT NULL AND facility_id IS NULL)"
    " OR (kind = 'custody' AND facility_id IS NOT NULL AND courtroom_id IS NULL)"
)
NEW_SITE = (
    "(kind IN ('courtroom', 'booth') AND courtroom_id IS NOT NULL AND facility_id IS NULL)"
    " OR (kind = 'custody' AND facility_id IS NOT NULL AND courtroom_id IS NULL)"
)


def _kind(*values: str) -> sa.Enum:
    return sa.Enum(*values, name="endpoint_kind", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    # batch: SQLite alters a table by copying it; PostgreSQL alters in place.
    with op.batch_alter_table("endpoint") as batch:
        batch.drop_constraint(op.f("ck_endpoint_site"), type_="check")
        batch.alter_column(
            "kind", existing_type=_kind("courtroom", "custody"), type_=_kind("courtroom", "custody", "booth")
        )
        batch.create_check_constraint("site", NEW_SITE)
    with op.batch_alter_table("court") as batch:
        batch.add_column(sa.Column("pause_on_drop", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("hearing") as batch:
        batch.add_column(sa.Column("custody_endpoint_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_hearing_custody_endpoint_id_endpoint"), "endpoint", ["custody_endpoint_id"], ["id"]
        )
    op.create_table(
        "custody_check_in",
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("name_confirmed", sa.Boolean(), nullable=False),
        sa.Column("reference_confirmed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('in_room', 'ready')", name=op.f("ck_custody_check_in_status")),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"], name=op.f("fk_custody_check_in_hearing_id_hearing")),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["staff_user.id"], name=op.f("fk_custody_check_in_officer_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("hearing_id", name=op.f("pk_custody_check_in")),
    )
    op.create_table(
        "test_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.CheckConstraint("grade IN ('good', 'poor', 'bad')", name=op.f("ck_test_call_grade")),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoint.id"], name=op.f("fk_test_call_endpoint_id_endpoint")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_call")),
    )
    op.create_index("ix_test_call_endpoint_at", "test_call", ["endpoint_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_test_call_endpoint_at", table_name="test_call")
    op.drop_table("test_call")
    op.drop_table("custody_check_in")
    with op.batch_alter_table("hearing") as batch:
        batch.drop_constraint(op.f("fk_hearing_custody_endpoint_id_endpoint"), type_="foreignkey")
        batch.drop_column("custody_endpoint_id")
    with op.batch_alter_table("court") as batch:
        batch.drop_column("pause_on_drop")
    op.execute("DELETE FROM endpoint WHERE kind = 'booth'")
    with op.batch_alter_table("endpoint") as batch:
        batch.drop_constraint(op.f("ck_endpoint_site"), type_="check")
        batch.alter_column(
            "kind", existing_type=_kind("courtroom", "custody", "booth"), type_=_kind("courtroom", "custody")
        )
        batch.create_check_constraint("site", OLD_SITE)
