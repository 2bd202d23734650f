"""Create the cart's own tables: cart items, orders, order items, page configs, event outbox.

Revision ID: c0001_cart
Revises: None
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c0001_cart"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("cart",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cart_items",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (session_id IS NULL)", name=op.f("ck_cart_items_one_owner")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cart_items_quantity_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
    )
    op.create_index(
        "uq_cart_items_session_product_live",
        "cart_items",
        ["session_id", "product_id"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL AND session_id IS NOT NULL"),
    )
    op.create_index(
        "uq_cart_items_user_product_live",
        "cart_items",
        ["user_id", "product_id"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL AND user_id IS NOT NULL"),
    )
    op.create_table(
        "event_outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("activity_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("activity_type", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_outbox")),
        sa.UniqueConstraint("activity_id", name=op.f("uq_event_outbox_activity_id")),
    )
    op.create_index(
        "ix_event_outbox_undelivered",
        "event_outbox",
        ["id"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_index(
        "uq_event_outbox_type_object", "event_outbox", ["event_type", "object_id"], unique=True
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("page_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("description", sa.String(length=255), server_default="", nullable=False),
        sa.Column("merchant_code", sa.String(length=64), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sumup_reference", sa.String(length=64), nullable=True),
        sa.Column("sumup_checkout_id", sa.String(length=64), nullable=True),
        sa.Column("sumup_hosted_url", sa.Text(), nullable=True),
        sa.Column("sumup_status", sa.String(length=16), nullable=True),
        sa.Column("sumup_transaction_code", sa.String(length=64), nullable=True),
        sa.Column("sumup_transaction_id", sa.String(length=64), nullable=True),
        sa.Column("checkout_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("needs_refund", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("refund_reason", sa.Text(), nullable=True),
        sa.Column("refunded_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'failed', 'expired', 'cancelled')",
            name=op.f("ck_orders_status_known"),
        ),
        sa.CheckConstraint(
            "(user_id IS NOT NULL) OR (session_id IS NOT NULL)", name=op.f("ck_orders_has_owner")
        ),
        sa.CheckConstraint("total_amount >= 0", name=op.f("ck_orders_total_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("sumup_reference", name=op.f("uq_orders_sumup_reference")),
    )
    op.create_index(
        "ix_orders_refund_due",
        "orders",
        ["id"],
        unique=False,
        postgresql_where=sa.text("needs_refund AND refunded_at IS NULL"),
    )
    op.create_index(
        "ix_orders_open_created",
        "orders",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.create_index(
        "ix_orders_session_created",
        "orders",
        ["session_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        op.f("ix_orders_sumup_checkout_id"), "orders", ["sumup_checkout_id"], unique=False
    )
    op.create_index(
        "ix_orders_user_created",
        "orders",
        ["user_id", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_orders_user_status_created",
        "orders",
        ["user_id", "status", sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_table(
        "page_configs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("page_id", sa.BigInteger(), nullable=False),
        sa.Column("sumup_merchant_code", sa.String(length=64), nullable=True),
        sa.Column("sumup_api_key_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("checkout_prefix", sa.String(length=20), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_configs")),
        sa.UniqueConstraint("page_id", name=op.f("uq_page_configs_page_id")),
    )
    op.create_table(
        "order_items",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.BigInteger(), nullable=False),
        sa.Column("page_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("line_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('product', 'booking', 'ticket')", name=op.f("ck_order_items_kind_known")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_items_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_order_items_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_items_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    op.create_index("ix_order_items_order", "order_items", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_order_items_order", table_name="order_items")
    op.drop_table("order_items")
    op.drop_table("page_configs")
    op.drop_index("ix_orders_user_status_created", table_name="orders")
    op.drop_index("ix_orders_user_created", table_name="orders")
    op.drop_index(op.f("ix_orders_sumup_checkout_id"), table_name="orders")
    op.drop_index("ix_orders_session_created", table_name="orders")
    op.drop_index(
        "ix_orders_refund_due",
        table_name="orders",
        postgresql_where=sa.text("needs_refund AND refunded_at IS NULL"),
    )
    op.drop_index(
        "ix_orders_open_created",
        table_name="orders",
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.drop_table("orders")
    op.drop_index("uq_event_outbox_type_object", table_name="event_outbox")
    op.drop_index(
        "ix_event_outbox_undelivered",
        table_name="event_outbox",
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.drop_table("event_outbox")
    op.drop_index(
        "uq_cart_items_user_product_live",
        table_name="cart_items",
        postgresql_where=sa.text("deleted_at IS NULL AND user_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_cart_items_session_product_live",
        table_name="cart_items",
        postgresql_where=sa.text("deleted_at IS NULL AND session_id IS NOT NULL"),
    )
    op.drop_table("cart_items")
