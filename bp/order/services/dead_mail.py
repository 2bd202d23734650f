"""The shopper's messages the mail server refused for good (`dead`), for the operator: listed,
and put back in the sender's queue once the cause is fixed (`manage.py dead-mail`,
`retry-dead-mail`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import SentMessage

log = logging.getLogger(__name__)


async def dead_mail(session: AsyncSession) -> list[SentMessage]:
    """The dead messages, oldest first."""
    rows = list(
        await session.scalars(
            select(SentMessage).where(SentMessage.status == "dead").order_by(SentMessage.id)
        )
    )
    await session.commit()
    return rows


async def retry_dead_mail(session: AsyncSession, *, ids: Sequence[int] = ()) -> int:
    """Put dead messages (those of `ids`, or all) back in the queue, due now, their refusals
    cleared; answers how many. Commits."""
    statement = (
        update(SentMessage)
        .where(SentMessage.status == "dead")
        .values(status="pending", failures=0, claimed_at=None, next_attempt_at=func.now())
        .returning(SentMessage.id)
    )
    if ids:
        statement = statement.where(SentMessage.id.in_(list(ids)))
    retried = list(await session.scalars(statement))
    await session.commit()
    if retried:
        log.warning("dead messages %s put back in the mail queue", retried)
    return len(retried)
