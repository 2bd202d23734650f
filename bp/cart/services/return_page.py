"""What the shopper sees on coming back from SumUp: paid, failed, or still being confirmed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.orders import get_owned_order_or_raise
from bp.cart.services.payment_errors import PaymentProviderUnavailable
from config.settings import Settings
from models import OPEN_STATUSES, Order
from services.contracts.dtos import CartIdentity
from services.registry import DomainServices
from services.sumup import PaymentGateway

# The pending page asks again every 3 s; after this many tries it stops and says so.
MAX_POLLS = 60


@dataclass(frozen=True)
class ReturnView:
    """The order (with its items) and how the return page presents it."""

    order: Order
    # "paid", "failed" (may pay again), "pending" (SumUp has not confirmed yet), "mismatch"
    # (SumUp took a payment that does not match the order: the coop looks into it) or "closed".
    state: str
    # SumUp could not be asked just now: still "pending", never "failed".
    unreachable: bool = False


async def return_view(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> ReturnView:
    """Settle the shopper's order by SumUp if it is still open, and say where it stands."""
    order = await get_owned_order_or_raise(session, order_id=order_id, identity=identity)
    await session.commit()
    unreachable = False
    if order.status in OPEN_STATUSES and order.payment_mismatch_at is None:
        try:
            await check_sumup_status(
                session,
                order_id=order_id,
                settings=settings,
                gateway=gateway,
                domains=domains,
                source="return",
            )
        except PaymentProviderUnavailable:
            unreachable = True
        order = await get_owned_order_or_raise(session, order_id=order_id, identity=identity)
        await session.commit()
    return ReturnView(order=order, state=_state(order), unreachable=unreachable)


def _state(order: Order) -> str:
    if order.status == "paid":
        return "paid"
    if order.payment_mismatch_at is not None:
        return "mismatch"
    return order.status if order.status in ("failed", "pending") else "closed"
