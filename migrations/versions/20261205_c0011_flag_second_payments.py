"""Flag a second payment of an already-paid order for a refund.

When another checkout of a paid order is found paid too, the shopper paid twice. The order
keeps what was found (when, which checkout and transaction, how much) until an operator
refunds it in SumUp and records that (second_payment_refunded_at); the shopper's order page
and a metrics gauge show it meanwhile. A partial index keeps the gauge's count cheap.

Revision ID: c0011_second_payments
Revises: c0010_order_links
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0011_second_payments"
down_revision: str | None = "c0010_order_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = "second_payment_at IS NOT NULL AND second_payment_refunded_at IS NULL"


def upgrade() -> None:
    op.add_column("orders", sa.Column("second_payment_at", sa.DateTime(timezone=True)))
    op.add_column("orders", sa.Column("second_payment_checkout_id", sa.String(64)))
    op.add_column("orders", sa.Column("second_payment_transaction_id", sa.String(64)))
    op.add_column("orders", sa.Column("second_payment_amount", sa.Numeric(12, 2)))
    op.add_column("orders", sa.Column("second_payment_refunded_at", sa.DateTime(timezone=True)))
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_second_payment_due",
            "orders",
            ["id"],
            postgresql_where=sa.text(DUE),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_second_payment_due", table_name="orders", postgresql_concurrently=True
        )
    op.drop_column("orders", "second_payment_refunded_at")
    op.drop_column("orders", "second_payment_amount")
    op.drop_column("orders", "second_payment_transaction_id")
    op.drop_column("orders", "second_payment_checkout_id")
    op.drop_column("orders", "second_payment_at")
