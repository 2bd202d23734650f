"""Orders and their lines, with prices snapshotted at checkout."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import CartBase, CreatedAt, Money, UpdatedAtMixin, sql_list

# Ended unpaid; their bookings and tickets went back to the cart.
ClosedStatus = Literal["expired", "cancelled"]
OrderStatus = Literal["pending", "paid", "failed", "expired", "cancelled"]
ORDER_STATUSES: tuple[OrderStatus, ...] = get_args(OrderStatus)
# An order in these states may still be paid (FAILED is not final at SumUp).
OPEN_STATUSES: tuple[OrderStatus, ...] = ("pending", "failed")
CLOSED_STATUSES: tuple[ClosedStatus, ...] = get_args(ClosedStatus)
# The longest order description and line title the columns hold.
MAX_TEXT_LENGTH = 255
ITEM_KINDS = ("product", "booking", "ticket")
# 64 hex digits from two random UUIDs (244 random bits), made by PostgreSQL for each order.
RANDOM_HEX_SQL = (
    "replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')"
)
ACCESS_SECRET_LENGTH = 64


class Order(UpdatedAtMixin, CartBase):
    """A checkout of (part of) a cart, and the state of its payment."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_list(ORDER_STATUSES)})", name="status_known"),
        CheckConstraint("total_amount >= 0", name="total_not_negative"),
        CheckConstraint("(user_id IS NOT NULL) OR (session_id IS NOT NULL)", name="has_owner"),
        # The order lists: the owner's orders newest first, optionally by status.
        Index("ix_orders_user_created", "user_id", text("created_at DESC"), text("id DESC")),
        Index("ix_orders_session_created", "session_id", text("created_at DESC"), text("id DESC")),
        Index(
            "ix_orders_user_status_created",
            "user_id",
            "status",
            text("created_at DESC"),
            text("id DESC"),
        ),
        # The staff's list of every shopper's orders, newest first: all, by status, by page.
        Index("ix_orders_created", text("created_at DESC"), text("id DESC")),
        Index("ix_orders_status_created", "status", text("created_at DESC"), text("id DESC")),
        Index("ix_orders_page_created", "page_id", text("created_at DESC"), text("id DESC")),
        Index("ix_orders_sumup_transaction_code", "sumup_transaction_code"),
        # The oldest unsettled order (the metrics gauge).
        Index(
            "ix_orders_open_created",
            "created_at",
            postgresql_where=text(f"status IN ({sql_list(OPEN_STATUSES)})"),
        ),
        # The reconciler's batch: the unsettled orders whose next check is due.
        Index(
            "ix_orders_open_next_check",
            "next_check_at",
            postgresql_where=text(f"status IN ({sql_list(OPEN_STATUSES)})"),
        ),
        # Payments SumUp reported that did not match their order, not yet resolved (metrics).
        Index(
            "ix_orders_payment_mismatch_open",
            "id",
            postgresql_where=text(
                "payment_mismatch_at IS NOT NULL AND payment_mismatch_resolved_at IS NULL"
            ),
        ),
        # Refunds claimed and not confirmed by SumUp yet (the reconciler and the metrics).
        Index(
            "ix_orders_refund_unconfirmed",
            "refund_requested_at",
            postgresql_where=text("refund_requested_at IS NOT NULL AND refunded_at IS NULL"),
        ),
        # Second payments not recorded as refunded yet (the metrics gauge).
        Index(
            "ix_orders_second_payment_due",
            "id",
            postgresql_where=text(
                "second_payment_at IS NOT NULL AND second_payment_refunded_at IS NULL"
            ),
        ),
        # Paid orders an operator still has to refund (the metrics gauge and the refund command).
        Index(
            "ix_orders_refund_due",
            "id",
            postgresql_where=text("needs_refund AND refunded_at IS NULL"),
        ),
        # "Find my orders": an address's orders, newest first.
        Index(
            "ix_orders_email_created",
            text("lower(email)"),
            text("created_at DESC"),
            postgresql_where=text("email IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    session_id: Mapped[str | None] = mapped_column(String(64))
    # The page this order checks out, or None for a cart-wide checkout.
    page_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[OrderStatus] = mapped_column(
        String(16), nullable=False, server_default="pending"
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    total_amount: Mapped[Money] = mapped_column(nullable=False)
    description: Mapped[str] = mapped_column(
        String(MAX_TEXT_LENGTH), nullable=False, server_default=""
    )
    # The address a guest gave at checkout; None for a signed-in shopper (the account domain
    # has theirs). Shown to no one but the order's owner.
    email: Mapped[str | None] = mapped_column(String(320))
    # Opens the order's page from any device (/orders/<id>/<secret>/): made by the database
    # from its strong random source, compared in constant time, never logged.
    access_secret: Mapped[str] = mapped_column(
        String(64), nullable=False, server_default=text(RANDOM_HEX_SQL)
    )

    merchant_code: Mapped[str | None] = mapped_column(String(64))
    # The payment attempt in force: SumUp references are unique per attempt.
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    sumup_reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    sumup_checkout_id: Mapped[str | None] = mapped_column(String(64), index=True)
    sumup_hosted_url: Mapped[str | None] = mapped_column(Text)
    sumup_status: Mapped[str | None] = mapped_column(String(16))
    sumup_transaction_code: Mapped[str | None] = mapped_column(String(64))
    sumup_transaction_id: Mapped[str | None] = mapped_column(String(64))
    checkout_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Since when its claims are held, when that is before the order was made: it replaced an
    # open order and took its claims over (None: since created_at). Bounds the hold.
    hold_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The reconciler's schedule: when it looks at this open order next (moved back after each
    # look, the more the older the attempt; due at once when an attempt starts), and when it
    # last did, which orders the due ones so that none waits behind the others for good.
    next_check_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A checkout SumUp reported PAID that does not match this order (amount, currency,
    # merchant or reference): it never pays the order; an operator settles it by hand, then
    # records that with `manage.py resolve-mismatch`.
    payment_mismatch_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payment_mismatch_reason: Mapped[str | None] = mapped_column(Text)
    payment_mismatch_resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    needs_refund: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    refund_reason: Mapped[str | None] = mapped_column(Text)
    # The refund: its amount and when it was claimed, before SumUp is asked; when SumUp made
    # it (refunded_at). Claimed and not made yet is "pending confirmation" (refunds.py).
    refunded_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    refund_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Another checkout of this order found paid after the order was paid: money taken twice,
    # owed back in full (second_payment.py). Refunded in SumUp by an operator, who records it.
    second_payment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    second_payment_checkout_id: Mapped[str | None] = mapped_column(String(64))
    second_payment_transaction_id: Mapped[str | None] = mapped_column(String(64))
    second_payment_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    second_payment_refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.id", lazy="raise"
    )


class OrderItem(CartBase):
    """A line of an order: a product, a booking or a ticket, at the price it was sold for."""

    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_list(ITEM_KINDS)})", name="kind_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
        # The order's lines; the title is included so the order list's title search is
        # an index-only check per order (migration c0002_item_titles).
        Index("ix_order_items_order_title", "order_id", postgresql_include=["title"]),
        # The staff's search by part of a title among every shopper's orders (pg_trgm).
        Index(
            "ix_order_items_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # Product id, calendar entry id or ticket id in its own domain (no foreign key across domains).
    ref_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    page_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(MAX_TEXT_LENGTH), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[Money] = mapped_column(nullable=False)
    line_total: Mapped[Money] = mapped_column(nullable=False)
    created_at: Mapped[CreatedAt]

    order: Mapped[Order] = relationship(back_populates="items", lazy="raise")
