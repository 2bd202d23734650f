"""The shopper's mail: one row per message an outbox event calls for, and what became of it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from models.base import CartBase, CreatedAt, sql_list

# What a message is about (one template each); `order_links` answers "find my orders" and is
# filed under the newest order it links to.
MESSAGE_KINDS = ("order_paid", "refund_due", "refund_made", "order_links")
# `pending`: to send (when next_attempt_at comes); `sending`: claimed by a sender, which may
# have sent it (see bp/order/services/mail_relay.py); `sent`; `skipped`: no one to send it to;
# `dead`: the mail server refused it too often.
MESSAGE_STATUSES = ("pending", "sending", "sent", "skipped", "dead")
WAITING_STATUSES = ("pending", "sending")


class SentMessage(CartBase):
    """A message about an order, planned from one outbox event; sent at most once per kind."""

    __tablename__ = "sent_messages"
    __table_args__ = (
        # The key that makes a message once per event: a second planning inserts nothing.
        UniqueConstraint("activity_id", "kind", name="uq_sent_messages_activity_id_kind"),
        CheckConstraint(f"kind IN ({sql_list(MESSAGE_KINDS)})", name="kind_known"),
        CheckConstraint(f"status IN ({sql_list(MESSAGE_STATUSES)})", name="status_known"),
        # The sender's queue: only the messages still to send are indexed.
        Index(
            "ix_sent_messages_waiting",
            "next_attempt_at",
            postgresql_where=text(f"status IN ({sql_list(WAITING_STATUSES)})"),
        ),
        # The dead messages, counted at every scrape of /metrics (cart_mail_dead).
        Index("ix_sent_messages_dead", "id", postgresql_where=text("status = 'dead'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The outbox event's activity id (event_outbox.activity_id), stable across deliveries.
    activity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    order_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    recipient: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(255))
    # The Message-ID header, the same on every attempt, so that a copy sent again after a crash
    # is recognisable as the same message.
    message_id: Mapped[str | None] = mapped_column(String(255))
    # Why a message was skipped, or the mail server's last refusal.
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    failures: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
