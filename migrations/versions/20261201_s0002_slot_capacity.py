"""Give bookable slots a capacity (NULL: unlimited), and index bookings by slot and state.

Bookings (calendar entries with a slot) count against their slot when ordered or confirmed;
the index serves that count at checkout and at payment.

Revision ID: s0002_slot_capacity
Revises: s0001_shared
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0002_slot_capacity"
down_revision: str | None = "s0001_shared"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("calendar_slots", sa.Column("capacity", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_calendar_slots_capacity_ok"),
        "calendar_slots",
        "capacity IS NULL OR capacity >= 0",
    )
    op.create_index(
        "ix_calendar_entries_slot_state",
        "calendar_entries",
        ["slot_id", "state"],
        unique=False,
        postgresql_where=sa.text("slot_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_calendar_entries_slot_state", table_name="calendar_entries")
    op.drop_constraint(op.f("ck_calendar_slots_capacity_ok"), "calendar_slots", type_="check")
    op.drop_column("calendar_slots", "capacity")
