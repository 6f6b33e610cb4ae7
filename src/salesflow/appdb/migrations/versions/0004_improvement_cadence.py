"""Improvements carry a check-in cadence (weekly, fortnightly or monthly; weekly for existing ones)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("improvements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cadence", sa.String(length=20), server_default="weekly", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_improvements_cadence"), "cadence IN ('weekly', 'fortnightly', 'monthly')"
        )


def downgrade() -> None:
    with op.batch_alter_table("improvements", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_improvements_cadence"), type_="check")
        batch_op.drop_column("cadence")
