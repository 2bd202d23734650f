"""Record when a refund was claimed apart from when SumUp made it.

refunded_at used to be set when the refund was claimed, before SumUp was asked, and taken
back on any failure, so a refund whose answer was lost could be made again. The claim now
has its own time, refund_requested_at; refunded_at is set once SumUp made the refund. A
claim without refunded_at is pending confirmation, found by the reconciler through a partial
index. Refunds recorded so far were claimed when they were made.

Revision ID: c0005_refund_confirmation
Revises: c0004_payment_mismatch
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0005_refund_confirmation"
down_revision: str | None = "c0004_payment_mismatch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCONFIRMED = "refund_requested_at IS NOT NULL AND refunded_at IS NULL"


def upgrade() -> None:
    op.add_column("orders", sa.Column("refund_requested_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE orders SET refund_requested_at = refunded_at WHERE refunded_at IS NOT NULL")
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_refund_unconfirmed",
            "orders",
            ["refund_requested_at"],
            postgresql_where=sa.text(UNCONFIRMED),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_refund_unconfirmed", table_name="orders", postgresql_concurrently=True
        )
    # A claim SumUp has not confirmed was, in the old scheme, not a refund at all.
    op.execute(
        "UPDATE orders SET refunded_amount = NULL WHERE refund_requested_at IS NOT NULL "
        "AND refunded_at IS NULL"
    )
    op.drop_column("orders", "refund_requested_at")
