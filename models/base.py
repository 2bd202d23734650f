"""Declarative bases: one MetaData for the cart's own tables, one for the coop's shared tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from sqlalchemy import DateTime, MetaData, Numeric, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money is always two places; the column type and the Python type agree.
Money = Annotated[Decimal, mapped_column(Numeric(12, 2))]
CreatedAt = Annotated[
    datetime, mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
]


def sql_list(values: Iterable[str]) -> str:
    """Constant states as the SQL of an IN list, `'a', 'b'`, for constraints and partial indexes."""
    return ", ".join(f"'{value}'" for value in values)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class CartBase(DeclarativeBase):
    """Tables the cart domain owns (migration branch ``cart``)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SharedBase(DeclarativeBase):
    """Tables other coop domains own; the cart only reads and updates them (branch ``shared``)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UpdatedAtMixin:
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=utcnow, nullable=False
    )
