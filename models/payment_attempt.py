"""Each payment attempt of an order, as SumUp knew it (the order keeps only the one in force)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CartBase


class PaymentAttempt(CartBase):
    """Written by the trigger `orders_record_payment_attempt` (migration c0009), in the
    transaction of each change to the order's attempt, reference, checkout, status or code."""

    __tablename__ = "payment_attempts"
    __table_args__ = (UniqueConstraint("order_id", "attempt"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    sumup_reference: Mapped[str] = mapped_column(String(64), nullable=False)
    sumup_checkout_id: Mapped[str | None] = mapped_column(String(64))
    sumup_status: Mapped[str | None] = mapped_column(String(16))
    sumup_transaction_code: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
