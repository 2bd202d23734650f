"""Payments that do not match their order: marked once on the order, resolved by an operator.

A checkout SumUp reports PAID with another amount, currency, merchant or reference than its
order's never pays the order (check_sumup_status refuses it). The order keeps a mark saying
when and why, which the shopper's pages and the metrics show, and which is logged at
CRITICAL once, when it is first set. The order itself expires on schedule like any unpaid
one. An operator settles the money in SumUp, then records that here.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_state import load_order
from lib.db import rolled_back_on_error
from lib.error_codes import ErrorCode
from lib.errors import NotFound, ServiceError
from models import Order

MAX_REASON_LENGTH = 500

log = logging.getLogger(__name__)


async def mark_payment_mismatch(
    session: AsyncSession, *, order_id: int, reason: str, source: str
) -> bool:
    """Mark the order (once; commits); True when this call set the mark."""
    async with rolled_back_on_error(session):
        marked = await session.scalar(
            update(Order)
            .where(Order.id == order_id, Order.payment_mismatch_at.is_(None))
            .values(
                payment_mismatch_at=datetime.now(UTC),
                payment_mismatch_reason=reason[:MAX_REASON_LENGTH],
                updated_at=Order.updated_at,
            )
            .returning(Order.id)
        )
        await session.commit()
    if marked is not None:
        log.critical(
            "order %s NOT settled (%s): %s. Settle the payment in SumUp, then run "
            "`manage.py resolve-mismatch %s`",
            order_id,
            source,
            reason,
            order_id,
        )
        return True
    log.warning("order %s: its payment still does not match (marked before): %s", order_id, reason)
    return False


async def resolve_payment_mismatch(session: AsyncSession, *, order_id: int) -> datetime:
    """Record that an operator settled the order's unmatched payment; answers when it was
    marked. NotFound for an unknown order, 409 for one without an unresolved mark."""
    async with rolled_back_on_error(session):
        order = await load_order(session, order_id, lock=True)
        if order is None:
            raise NotFound(ErrorCode.UNKNOWN_ORDER, order_id=order_id)
        if order.payment_mismatch_at is None:
            raise ServiceError(409, ErrorCode.NO_MISMATCH, order_id=order_id)
        if order.payment_mismatch_resolved_at is not None:
            raise ServiceError(
                409,
                ErrorCode.MISMATCH_RESOLVED,
                order_id=order_id,
                day=f"{order.payment_mismatch_resolved_at:%d %B %Y}",
            )
        order.payment_mismatch_resolved_at = datetime.now(UTC)
        marked_at = order.payment_mismatch_at
        await session.commit()
    log.warning("order %s: unmatched payment resolved by an operator", order_id)
    return marked_at
