"""Events domain: calendars, their bookable slots, and entries (bookings and events)."""

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

from models.base import CreatedAt, Money, SharedBase

ENTRY_STATES = ("pending", "ordered", "confirmed", "cancelled")
# A booking takes its slot's place once an order claims it, and keeps it once paid.
BOOKED_ENTRY_STATES = ("ordered", "confirmed")


class Calendar(SharedBase):
    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # What the calendar belongs to; for the cart, a blog page.
    container_type: Mapped[str] = mapped_column(String(32), nullable=False, server_default="page")
    container_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[CreatedAt]


class CalendarSlot(SharedBase):
    """A time a shopper can book; booking it creates a pending entry in their cart."""

    __tablename__ = "calendar_slots"
    __table_args__ = (CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_ok"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("calendars.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    cost: Mapped[Money] = mapped_column(nullable=False)
    # Places to book; None means unlimited.
    capacity: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[CreatedAt]


class CalendarEntry(SharedBase):
    """A booking (state pending/ordered/confirmed) or an event with tickets (state confirmed)."""

    __tablename__ = "calendar_entries"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'ordered', 'confirmed', 'cancelled')", name="state_known"
        ),
        Index(
            "ix_calendar_entries_user_pending",
            "user_id",
            postgresql_where=text("state = 'pending'"),
        ),
        Index(
            "ix_calendar_entries_session_pending",
            "session_id",
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_calendar_entries_order", "order_id"),
        Index(
            "ix_calendar_entries_slot_state",
            "slot_id",
            "state",
            postgresql_where=text("slot_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("calendars.id", ondelete="CASCADE"), nullable=False, index=True
    )
    slot_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    end_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    session_id: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    # For events that sell tickets: the default price when a ticket type has none.
    ticket_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_at: Mapped[CreatedAt]
