"""Give the stand-in users table the account domain's staff flag, which the cart reads.

The account app decides who is the coop's staff; a standalone deployment has only this
stand-in table, so it gets the column the cart's staff console reads (read-only).

Revision ID: s0004_staff_flag
Revises: s0003_users
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0004_staff_flag"
down_revision: str | None = "s0003_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("is_staff", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("users", "is_staff")
