"""Cancelling a waiting order: its SumUp checkout made unpayable first, then its claims released.

The order's bookings and tickets go back to its owner's cart (its product lines never left it).
A checkout that SumUp reports as paid meanwhile settles the order as paid instead: a payment
that went through is never cancelled under the shopper. Repeating a cancel, or racing another
worker's cancel, the reconciler or a payment, changes the order once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_state import close_order, get_order_or_raise, owned_order_status
from bp.cart.services.payment_attempts import deactivate_current_attempt
from config.settings import Settings
from lib.db import rolled_back_on_error
from models import OPEN_STATUSES
from services.contracts.dtos import CartIdentity
from services.registry import DomainServices
from services.sumup import PaymentGateway

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cancellation:
    """What a cancel found: the order's status afterwards, and whether this cancel closed it."""

    order_id: int
    status: str
    cancelled_now: bool = False
    # Bookings and tickets put back in the cart by this cancel.
    released: int = 0

    @property
    def message(self) -> str:
        """What the shopper is told."""
        number = f"Order #{self.order_id}"
        if self.status == "paid":
            return f"{number} was paid a moment ago, so it was not cancelled. Thank you!"
        if self.status == "cancelled":
            if self.cancelled_now:
                return (
                    f"{number} is cancelled and nothing was charged. "
                    "Its items are back in your cart."
                )
            return f"{number} was already cancelled; nothing was charged."
        if self.status == "expired":
            return f"{number} had already expired; nothing was charged."
        return f"{number} could not be cancelled."


async def cancel_waiting_order(
    session: AsyncSession,
    *,
    order_id: int,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
    source: str = "shopper",
) -> Cancellation:
    """Cancel an order waiting for payment (anyone's: the caller decides who may); commits.

    Raises OrderNotFound for an unknown order and PaymentProviderUnavailable (503) when SumUp
    cannot be asked, since a checkout that could still be paid must not be closed under it.
    """
    order = await get_order_or_raise(session, order_id)
    status = order.status
    await session.commit()
    if status not in OPEN_STATUSES:
        return Cancellation(order_id, status)
    done = await deactivate_current_attempt(
        session,
        order_id=order_id,
        settings=settings,
        gateway=gateway,
        domains=domains,
        source=f"cancel ({source})",
    )
    if done.paid:
        return Cancellation(order_id, "paid")
    released = 0
    cancelled_now = False
    async with rolled_back_on_error(session):
        order = await get_order_or_raise(session, order_id, lock=True)
        # Paid, closed, or given a new attempt while SumUp was being asked: that stands.
        if order.status in OPEN_STATUSES and order.sumup_reference == done.reference:
            released = await close_order(session, order=order, status="cancelled", domains=domains)
            cancelled_now = True
        status = order.status
        await session.commit()
    if cancelled_now:
        log.info("order %s cancelled (%s); %d claims released", order_id, source, released)
    return Cancellation(order_id, status, cancelled_now=cancelled_now, released=released)


async def cancel_shoppers_order(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> Cancellation:
    """The shopper cancels their own waiting order; 404 for anyone else's."""
    await owned_order_status(session, order_id=order_id, identity=identity)
    return await cancel_waiting_order(
        session, order_id=order_id, settings=settings, gateway=gateway, domains=domains
    )
