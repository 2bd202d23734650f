"""The SumUp checkouts an order has had (written by a trigger on orders.sumup_checkout_id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CartBase


class OrderCheckout(CartBase):
    """One checkout id an order was given, and when it was first stored: read only here."""

    __tablename__ = "order_checkouts"

    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    checkout_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
