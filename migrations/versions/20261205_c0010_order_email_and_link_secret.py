"""Give every order a secret for its link, keep a guest's email on the order, and mail the
links to an address's orders.

`orders.access_secret` opens the order's page from any device (`/orders/<id>/<secret>/`): 64
hex digits from two of PostgreSQL's random UUIDs (its strong random source, 244 random bits),
made by the database for every order, those already there included. `orders.email` is the
address a guest gave at checkout (NULL for a signed-in shopper, whose address is the account
domain's). `sent_messages` learns the kind `order_links`: the mail "find my orders" sends.

The downgrade drops both columns (the links stop working) and the `order_links` rows.

Revision ID: c0010_order_links
Revises: c0009_audit_attempts
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0010_order_links"
down_revision: str | None = "c0009_audit_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RANDOM_HEX_SQL = (
    "replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')"
)
KINDS_BEFORE = "kind IN ('order_paid', 'refund_due', 'refund_made')"
KINDS_AFTER = "kind IN ('order_paid', 'refund_due', 'refund_made', 'order_links')"


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column(
            "access_secret",
            sa.String(length=64),
            server_default=sa.text(RANDOM_HEX_SQL),
            nullable=False,
        ),
    )
    op.add_column("orders", sa.Column("email", sa.String(length=320), nullable=True))
    # "Find my orders": an address's orders, newest first.
    op.create_index(
        "ix_orders_email_created",
        "orders",
        [sa.text("lower(email)"), sa.text("created_at DESC")],
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.drop_constraint("ck_sent_messages_kind_known", "sent_messages", type_="check")
    op.create_check_constraint(op.f("ck_sent_messages_kind_known"), "sent_messages", KINDS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM sent_messages WHERE kind = 'order_links'")
    op.drop_constraint("ck_sent_messages_kind_known", "sent_messages", type_="check")
    op.create_check_constraint(op.f("ck_sent_messages_kind_known"), "sent_messages", KINDS_BEFORE)
    op.drop_index("ix_orders_email_created", table_name="orders")
    op.drop_column("orders", "email")
    op.drop_column("orders", "access_secret")
