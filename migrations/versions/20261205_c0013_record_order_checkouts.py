"""Record every SumUp checkout an order has had, and when it was first stored.

SumUp's webhook names a checkout; the cart asks SumUp about a named checkout only when it is
one of the order's own and young enough to change (see bp/cart/services/webhook.py). An
order keeps only its current checkout id, so the earlier ones are kept here, by a trigger on
`orders.sumup_checkout_id`: every path that stores an id (the create, a lookup by
reference, settlement) records it, without each having to remember to.

Revision ID: c0013_order_checkouts
Revises: c0012_order_holds
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0013_order_checkouts"
down_revision: str | None = "c0012_order_holds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_FUNCTION = """
CREATE FUNCTION record_order_checkout() RETURNS trigger AS $$
BEGIN
    INSERT INTO order_checkouts (order_id, checkout_id)
    VALUES (NEW.id, NEW.sumup_checkout_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
RECORD_TRIGGER = """
CREATE TRIGGER orders_record_checkout
AFTER INSERT OR UPDATE OF sumup_checkout_id ON orders
FOR EACH ROW WHEN (NEW.sumup_checkout_id IS NOT NULL)
EXECUTE FUNCTION record_order_checkout()
"""


def upgrade() -> None:
    op.create_table(
        "order_checkouts",
        sa.Column(
            "order_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "orders.id", ondelete="CASCADE", name="fk_order_checkouts_order_id_orders"
            ),
            nullable=False,
        ),
        sa.Column("checkout_id", sa.String(64), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("order_id", "checkout_id", name="pk_order_checkouts"),
    )
    # The checkouts orders hold now; an earlier one is not known, and a webhook naming it
    # makes the cart check the order's own checkout instead.
    op.execute(
        "INSERT INTO order_checkouts (order_id, checkout_id, recorded_at) "
        "SELECT id, sumup_checkout_id, COALESCE(checkout_started_at, created_at) FROM orders "
        "WHERE sumup_checkout_id IS NOT NULL"
    )
    op.execute(RECORD_FUNCTION)
    op.execute(RECORD_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER orders_record_checkout ON orders")
    op.execute("DROP FUNCTION record_order_checkout()")
    op.drop_table("order_checkouts")
