"""Mark orders whose payment SumUp reported did not match them, until an operator resolves it.

A checkout reported PAID with another amount, currency, merchant or reference never pays its
order; the order expires like any unpaid one, and keeps this mark (when, why, and when it
was resolved) for the shopper's pages, the metrics and the operator. A partial index keeps
the metrics' count of unresolved marks cheap.

Revision ID: c0004_payment_mismatch
Revises: c0003_reconciler_schedule
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0004_payment_mismatch"
down_revision: str | None = "c0003_reconciler_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("payment_mismatch_at", sa.DateTime(timezone=True)))
    op.add_column("orders", sa.Column("payment_mismatch_reason", sa.Text()))
    op.add_column("orders", sa.Column("payment_mismatch_resolved_at", sa.DateTime(timezone=True)))
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_payment_mismatch_open",
            "orders",
            ["id"],
            postgresql_where=sa.text(
                "payment_mismatch_at IS NOT NULL AND payment_mismatch_resolved_at IS NULL"
            ),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_payment_mismatch_open", table_name="orders", postgresql_concurrently=True
        )
    op.drop_column("orders", "payment_mismatch_resolved_at")
    op.drop_column("orders", "payment_mismatch_reason")
    op.drop_column("orders", "payment_mismatch_at")
