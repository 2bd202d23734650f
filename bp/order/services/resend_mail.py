"""Sending an order's confirmation again, when the shopper says it never arrived: the message
goes back in the sender's queue (the same message, with its Message-ID, so a mail client
that has it already shows it once)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lib.error_codes import ErrorCode
from lib.errors import ServiceError
from models import SentMessage

CONFIRMATION = "order_paid"
# Sent, or refused for good: either may go again. A pending or sending one is on its way;
# a skipped one had no address to go to.
RESENDABLE = ("sent", "dead")

log = logging.getLogger(__name__)


async def resend_confirmation(session: AsyncSession, *, order_id: int) -> int:
    """Put the order's confirmation back in the mail queue, due now; answers its id. 409 when
    the order has none to send again (not sent yet, on its way, or no address). Commits."""
    message_id: int | None = await session.scalar(
        update(SentMessage)
        .where(
            SentMessage.order_id == order_id,
            SentMessage.kind == CONFIRMATION,
            SentMessage.status.in_(RESENDABLE),
        )
        .values(status="pending", failures=0, claimed_at=None, next_attempt_at=func.now())
        .returning(SentMessage.id)
    )
    if message_id is None:
        status = await session.scalar(
            select(SentMessage.status).where(
                SentMessage.order_id == order_id, SentMessage.kind == CONFIRMATION
            )
        )
        await session.rollback()
        raise ServiceError(409, ErrorCode.NOTHING_TO_RESEND, order_id=order_id, status=status)
    await session.commit()
    log.warning("order %s: confirmation %s put back in the mail queue", order_id, message_id)
    return message_id

