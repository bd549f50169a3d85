"""The judge's floor per hearing: speaker order, mutes, the lobby.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hearing_floor",
        sa.Column("hearing_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hearing_id"], ["hearing.id"], name=op.f("fk_hearing_floor_hearing_id_hearing")),
        sa.PrimaryKeyConstraint("hearing_id", name=op.f("pk_hearing_floor")),
    )


def downgrade() -> None:
    op.drop_table("hearing_floor")
