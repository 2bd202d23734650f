"""A page's own payment settings."""

from __future__ import annotations

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CartBase, CreatedAt, UpdatedAtMixin


class PageConfig(UpdatedAtMixin, CartBase):
    """The SumUp merchant a page is paid to; the site-wide settings are the fallback."""

    __tablename__ = "page_configs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    page_id: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    sumup_merchant_code: Mapped[str | None] = mapped_column(String(64))
    # Fernet token of the API key; never decrypted except to call SumUp, never rendered.
    sumup_api_key_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    checkout_prefix: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[CreatedAt]
