"""Events domain: ticket types of an event entry, and tickets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CreatedAt, SharedBase

TICKET_STATES = ("pending", "reserved", "confirmed", "checked_in", "cancelled")
# Seed 004: a ticket in a cart is not sold; only these count against capacity.
SOLD_TICKET_STATES = ("reserved", "confirmed", "checked_in")
# Paid for and the shopper's: what settlement counts against capacity, what an order delivered.
PAID_TICKET_STATES = ("confirmed", "checked_in")


class TicketType(SharedBase):
    __tablename__ = "ticket_types"
    __table_args__ = (CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_ok"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("calendar_entries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # None means unlimited.
    capacity: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[CreatedAt]


class Ticket(SharedBase):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'reserved', 'confirmed', 'checked_in', 'cancelled')",
            name="state_known",
        ),
        Index("ix_tickets_user_pending", "user_id", postgresql_where=text("state = 'pending'")),
        Index("ix_tickets_order", "order_id"),
        Index("ix_tickets_type_state", "ticket_type_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("calendar_entries.id", ondelete="CASCADE"), nullable=False
    )
    ticket_type_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ticket_types.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    session_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    created_at: Mapped[CreatedAt]
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
