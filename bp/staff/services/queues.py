"""What waits for the staff: counts for the console's navigation, and the stuck rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.staff.services.order_search import flag_condition
from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from lib.ids import is_id
from models import Order, OutboxEvent, SentMessage


@dataclass(frozen=True, slots=True)
class QueueCounts:
    needs_refund: int
    mismatch: int
    overdue: int
    dead_letters: int
    dead_mail: int

    @property
    def total(self) -> int:
        return self.needs_refund + self.mismatch + self.overdue + self.dead_letters + self.dead_mail


async def queue_counts(
    session: AsyncSession, *, settings: Settings, now: datetime | None = None
) -> QueueCounts:
    """How many orders and rows each queue holds, in one round trip (each count uses a
    partial index: these sets stay small however many orders there are)."""
    moment = now or datetime.now(UTC)

    def orders(flag: str) -> ScalarSelect[int]:
        return (
            select(func.count())
            .select_from(Order)
            .where(flag_condition(flag, settings=settings, now=moment))
            .scalar_subquery()
        )

    row = (
        await session.execute(
            select(
                orders("needs_refund"),
                orders("mismatch"),
                orders("overdue"),
                select(func.count())
                .select_from(OutboxEvent)
                .where(OutboxEvent.dead_lettered_at.is_not(None))
                .scalar_subquery(),
                select(func.count())
                .select_from(SentMessage)
                .where(SentMessage.status == "dead")
                .scalar_subquery(),
            )
        )
    ).one()
    await session.commit()
    return QueueCounts(*row)


async def dead_letter_or_raise(session: AsyncSession, *, event_id: int) -> OutboxEvent:
    """A dead-lettered outbox event; NotFound for any other id."""
    event = await session.get(OutboxEvent, event_id) if is_id(event_id) else None
    await session.commit()
    if event is None or event.dead_lettered_at is None:
        raise NotFound(ErrorCode.NOT_DEAD_LETTERED, event_id=event_id)
    return event


async def dead_message_or_raise(session: AsyncSession, *, message_id: int) -> SentMessage:
    """A dead message; NotFound for any other id."""
    message = await session.get(SentMessage, message_id) if is_id(message_id) else None
    await session.commit()
    if message is None or message.status != "dead":
        raise NotFound(ErrorCode.NOT_DEAD_MAIL, message_id=message_id)
    return message
