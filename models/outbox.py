"""Domain events written in the same transaction as the change they report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CartBase, CreatedAt


class OutboxEvent(CartBase):
    """An ActivityStreams activity waiting to be relayed to the federation store."""

    __tablename__ = "event_outbox"
    __table_args__ = (
        Index("ix_event_outbox_undelivered", "id", postgresql_where=text("delivered_at IS NULL")),
        # One event of a kind per object: a settlement that runs twice cannot write it twice.
        Index("uq_event_outbox_type_object", "event_type", "object_id", unique=True),
        # The rows given up on, for the metrics and the operator's commands.
        Index(
            "ix_event_outbox_dead_lettered",
            "id",
            postgresql_where=text("dead_lettered_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    activity_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_id: Mapped[str] = mapped_column(String(128), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[CreatedAt]
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Deliveries the federation store refused (not those it was unreachable for): each one
    # puts the next attempt further off, and RELAY_MAX_ATTEMPTS of them dead-letter the row.
    failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    dead_lettered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
