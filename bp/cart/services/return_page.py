"""What the shopper sees on coming back from SumUp: paid, failed, or still being confirmed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from config.settings import Settings
from models import Order
from services.contracts.dtos import CartIdentity
from services.payments.errors import PaymentProviderUnavailable
from services.payments.orders import OPEN_STATUSES, get_owned_order_or_raise
from services.sumup import PaymentGateway

# The pending page asks again every 3 s; after this many tries it stops and says so.
MAX_POLLS = 60


@dataclass(frozen=True)
class ReturnView:
    """The order (with its items) and how the return page presents it."""

    order: Order
    # "paid", "failed" (may pay again), "pending" (SumUp has not confirmed yet) or "closed".
    state: str
    # SumUp could not be asked just now: still "pending", never "failed".
    unreachable: bool = False


async def return_view(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    gateway: PaymentGateway,
    settings: Settings,
) -> ReturnView:
    """Settle the shopper's order by SumUp if it is still open, and say where it stands."""
    order = await get_owned_order_or_raise(session, order_id=order_id, identity=identity)
    await session.commit()
    unreachable = False
    if order.status in OPEN_STATUSES:
        try:
            await check_sumup_status(
                session, order_id=order_id, gateway=gateway, settings=settings, source="return"
            )
        except PaymentProviderUnavailable:
            unreachable = True
        order = await get_owned_order_or_raise(session, order_id=order_id, identity=identity)
        await session.commit()
    state = order.status if order.status in ("paid", "failed", "pending") else "closed"
    return ReturnView(order=order, state=state, unreachable=unreachable)
