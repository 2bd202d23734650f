"""Index the dead messages, which every scrape of /metrics counts (cart_mail_dead).

A partial index: dead messages are few and sent ones many, so the count reads a handful of
index entries instead of the whole table.

Revision ID: c0008_dead_mail_index
Revises: c0007_sent_messages
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0008_dead_mail_index"
down_revision: str | None = "c0007_sent_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sent_messages_dead",
        "sent_messages",
        ["id"],
        postgresql_where=sa.text("status = 'dead'"),
    )


def downgrade() -> None:
    op.drop_index("ix_sent_messages_dead", table_name="sent_messages")
