"""Account domain: the coop's user accounts, as the account app keeps them.

The cart only reads a shopper's name and e-mail address, and whether a user is the coop's
staff, through the account engine (DATABASE_URL_ACCOUNT), never writes here.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CreatedAt, SharedBase

# RFC 5321's longest address.
EMAIL_LENGTH = 320


class User(SharedBase):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True, nullable=False)
    # The name the shopper goes by on the coop's sites; may be unset.
    name: Mapped[str | None] = mapped_column(String(255))
    # Whether the account app counts this user among the coop's staff (the staff console).
    is_staff: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[CreatedAt]
