"""Record since when an order's claims are held, when it took them over from an order it
replaced.

An order holds its tickets and places for ORDER_HOLD_MAX_MINUTES from its creation, however
often it is paid again. An order that replaces an open one (the cart changed, or its page had
under five minutes left) takes the claims over and, with them, the time they have been held
already: hold_started_at. NULL means since the order was made, as for every order so far.

Revision ID: c0012_order_holds
Revises: c0011_second_payments
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0012_order_holds"
down_revision: str | None = "c0011_second_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("hold_started_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("orders", "hold_started_at")
