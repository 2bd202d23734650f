"""Market domain: a product for sale on a page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CreatedAt, Money, SharedBase


class Product(SharedBase):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("price >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The blog page it is sold on (another domain: a plain integer, no foreign key).
    page_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    slug: Mapped[str] = mapped_column(String(128), nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    price: Mapped[Money] = mapped_column(nullable=False)
    image_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
