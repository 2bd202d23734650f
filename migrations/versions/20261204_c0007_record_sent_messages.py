"""Record the shopper's mail: one row per message an outbox event calls for.

`sent_messages` holds, for each order event that calls for a message (paid, refund due,
refund made), the message's state: claimed before it is sent, marked after, so that a message
goes out once per event even with several senders. UNIQUE(activity_id, kind) is that once.

The events already in the outbox when this runs are recorded as skipped: the orders they
report were settled before the cart sent mail, and a confirmation days late would only
confuse. The downgrade drops the table (the record of what was sent goes with it).

Revision ID: c0007_sent_messages
Revises: c0006_outbox_backoff
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0007_sent_messages"
down_revision: str | None = "c0006_outbox_backoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sent_messages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("activity_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('order_paid', 'refund_due', 'refund_made')",
            name=op.f("ck_sent_messages_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'skipped', 'dead')",
            name=op.f("ck_sent_messages_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_messages")),
        sa.UniqueConstraint("activity_id", "kind", name="uq_sent_messages_activity_id_kind"),
    )
    op.create_index(
        "ix_sent_messages_waiting",
        "sent_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.execute(
        """
        INSERT INTO sent_messages (activity_id, kind, order_id, status, note)
        SELECT activity_id,
               CASE event_type WHEN 'order.paid' THEN 'order_paid' ELSE 'refund_made' END,
               object_id::bigint, 'skipped', 'settled before the cart sent mail'
        FROM event_outbox
        WHERE event_type IN ('order.paid', 'order.refunded')
        """
    )


def downgrade() -> None:
    op.drop_index("ix_sent_messages_waiting", table_name="sent_messages")
    op.drop_table("sent_messages")
