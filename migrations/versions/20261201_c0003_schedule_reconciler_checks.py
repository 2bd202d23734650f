"""Schedule the reconciler's checks per order: a next-check time and the last check.

The reconciler took the open orders oldest first up to its batch size, so orders that stay
open (abandoned within their session) hid every newer one behind them. Each open order now
carries when it is due for its next check, served by a partial index, and when it was last
looked at, which orders the due ones. Existing orders are due at once.

Revision ID: c0003_reconciler_schedule
Revises: c0002_item_titles
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0003_reconciler_schedule"
down_revision: str | None = "c0002_item_titles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('pending', 'failed')"


def upgrade() -> None:
    # now() is evaluated once for the whole table: adding the column rewrites nothing.
    op.add_column(
        "orders",
        sa.Column(
            "next_check_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.add_column("orders", sa.Column("last_checked_at", sa.DateTime(timezone=True)))
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_open_next_check",
            "orders",
            ["next_check_at"],
            postgresql_where=sa.text(OPEN),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_open_next_check", table_name="orders", postgresql_concurrently=True
        )
    op.drop_column("orders", "last_checked_at")
    op.drop_column("orders", "next_check_at")
