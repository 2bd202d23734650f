"""Cover order item titles in the order-lines index, for the order list's search.

The order list searches one shopper's orders by product title with a per-order EXISTS on
order_items; with the title in the index that check is an index-only scan (no heap visit per
order). The new index serves every lookup the old one did, which is then dropped. Both steps
run CONCURRENTLY so that checkouts keep writing order items during the deploy.

Revision ID: c0002_item_titles
Revises: c0001_cart
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c0002_item_titles"
down_revision: str | None = "c0001_cart"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_order_items_order_title",
            "order_items",
            ["order_id"],
            unique=False,
            postgresql_include=["title"],
            postgresql_concurrently=True,
        )
        op.drop_index(
            "ix_order_items_order",
            table_name="order_items",
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_order_items_order",
            "order_items",
            ["order_id"],
            unique=False,
            postgresql_concurrently=True,
        )
        op.drop_index(
            "ix_order_items_order_title",
            table_name="order_items",
            postgresql_concurrently=True,
        )
