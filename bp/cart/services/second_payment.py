"""A second payment of an order already paid: flagged for a refund, once, for the operator.

Our own flows deactivate an attempt's checkout before the next one starts, but a
deactivation SumUp never received (or a checkout paid in a tab left open while it was made)
can leave two checkouts of one order paid. The order keeps the first payment; the second is
money taken twice, owed back in full. It is recorded on the order (logged CRITICAL once,
counted by the settlements metric and a gauge, shown on the order page) until an operator
refunds it in SumUp and records that here.
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
from services.sumup import SumUpCheckout

log = logging.getLogger(__name__)


async def flag_second_payment(
    session: AsyncSession, *, order_id: int, checkout: SumUpCheckout, source: str
) -> bool:
    """Flag the paid order's second payment `checkout` (once; commits); True when this call
    flagged it."""
    transaction = checkout.successful_transaction()
    async with rolled_back_on_error(session):
        flagged = await session.scalar(
            update(Order)
            .where(
                Order.id == order_id,
                Order.status == "paid",
                Order.second_payment_at.is_(None),
                Order.sumup_checkout_id != checkout.id,
            )
            .values(
                second_payment_at=datetime.now(UTC),
                second_payment_checkout_id=checkout.id,
                second_payment_transaction_id=transaction.id if transaction else None,
                second_payment_amount=checkout.amount,
                updated_at=Order.updated_at,
            )
            .returning(Order.id)
        )
        await session.commit()
    if flagged is None:
        log.warning(
            "order %s: its checkout %s is paid as well (%s); flagged before",
            order_id,
            checkout.id,
            source,
        )
        return False
    log.critical(
        "order %s was paid twice: its checkout %s (%s, transaction %s) was paid after the "
        "order. Refund %s %s of that transaction in SumUp, then run "
        "`manage.py resolve-second-payment %s`",
        order_id,
        checkout.id,
        checkout.checkout_reference,
        transaction.id if transaction else "unknown",
        checkout.amount,
        checkout.currency,
        order_id,
    )
    return True


async def resolve_second_payment(session: AsyncSession, *, order_id: int) -> datetime:
    """Record that an operator refunded the order's second payment; answers when it was
    flagged. NotFound for an unknown order, 409 for one without a second payment due."""
    async with rolled_back_on_error(session):
        order = await load_order(session, order_id, lock=True)
        if order is None:
            raise NotFound(ErrorCode.UNKNOWN_ORDER, order_id=order_id)
        if order.second_payment_at is None:
            raise ServiceError(409, ErrorCode.NO_SECOND_PAYMENT, order_id=order_id)
        if order.second_payment_refunded_at is not None:
            raise ServiceError(
                409,
                ErrorCode.SECOND_PAYMENT_REFUNDED,
                order_id=order_id,
                day=f"{order.second_payment_refunded_at:%d %B %Y}",
            )
        order.second_payment_refunded_at = datetime.now(UTC)
        flagged_at = order.second_payment_at
        await session.commit()
    log.warning("order %s: its second payment is recorded as refunded", order_id)
    return flagged_at
