"""Back off and dead-letter outbox rows the federation store keeps refusing.

The relay retried a failing row on every pass, forever. Each row now counts the deliveries
the store refused, waits longer after each (next_attempt_at), and is dead-lettered after a
bounded number; the last attempt's time is kept for the operator. A partial index serves the
metrics' count of dead letters.

Revision ID: c0006_outbox_backoff
Revises: c0005_refund_confirmation
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0006_outbox_backoff"
down_revision: str | None = "c0005_refund_confirmation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event_outbox", sa.Column("last_attempt_at", sa.DateTime(timezone=True)))
    op.add_column(
        "event_outbox",
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
    )
    # now() is evaluated once for the whole table: every waiting row is due at once.
    op.add_column(
        "event_outbox",
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.add_column("event_outbox", sa.Column("dead_lettered_at", sa.DateTime(timezone=True)))
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_event_outbox_dead_lettered",
            "event_outbox",
            ["id"],
            postgresql_where=sa.text("dead_lettered_at IS NOT NULL"),
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_event_outbox_dead_lettered",
            table_name="event_outbox",
            postgresql_concurrently=True,
        )
    op.drop_column("event_outbox", "dead_lettered_at")
    op.drop_column("event_outbox", "next_attempt_at")
    op.drop_column("event_outbox", "failures")
    op.drop_column("event_outbox", "last_attempt_at")
