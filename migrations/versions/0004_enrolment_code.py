"""A one-time enrolment code per staff account awaiting a new authenticator.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite alters a table by copying it; PostgreSQL alters in place.
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("enrolment_code_hash", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("enrolment_code_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("enrolment_code_expires_at")
        batch.drop_column("enrolment_code_hash")
