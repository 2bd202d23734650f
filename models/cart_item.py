"""A product line in a shopper's cart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CartBase, CreatedAt, UpdatedAtMixin


class CartItem(UpdatedAtMixin, CartBase):
    """One live row per (owner, product); soft-deleted once the order that bought it is paid."""

    __tablename__ = "cart_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("(user_id IS NULL) <> (session_id IS NULL)", name="one_owner"),
        # The partial unique indexes are what makes concurrent adds merge into one line.
        Index(
            "uq_cart_items_user_product_live",
            "user_id",
            "product_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND user_id IS NOT NULL"),
        ),
        Index(
            "uq_cart_items_session_product_live",
            "session_id",
            "product_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND session_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    session_id: Mapped[str | None] = mapped_column(String(64))
    product_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[CreatedAt]
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The paid order that consumed this line, for the record.
    order_id: Mapped[int | None] = mapped_column(BigInteger)
