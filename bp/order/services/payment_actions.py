"""What the order page's buttons do: pay an open order again, and ask SumUp about it now."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.order_state import owned_order_status
from bp.cart.services.payment_attempts import not_payable, start_payment
from bp.cart.services.payment_errors import PaymentProviderUnavailable
from bp.order.services.payment_messages import SUMUP_UNREACHABLE, UNMATCHED, payment_wording
from config.settings import Settings
from models import OPEN_STATUSES
from services.contracts.dtos import CartIdentity
from services.registry import DomainServices
from services.sumup import PaymentGateway


async def pay_order(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> str:
    """Pay again: the shopper's own pending or failed order; 409 for any other."""
    status = await owned_order_status(session, order_id=order_id, identity=identity)
    if status not in OPEN_STATUSES:
        raise not_payable(status)
    return await start_payment(
        session, order_id=order_id, settings=settings, gateway=gateway, domains=domains
    )


async def recheck_order(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> str:
    """Check the shopper's order with SumUp now; answers what the check found, as the order
    page says it after a check without HTMX."""
    status = await owned_order_status(session, order_id=order_id, identity=identity)
    if status not in OPEN_STATUSES:
        return payment_wording(status).checked
    try:
        settlement = await check_sumup_status(
            session,
            order_id=order_id,
            settings=settings,
            gateway=gateway,
            domains=domains,
            source="recheck",
        )
    except PaymentProviderUnavailable:
        return SUMUP_UNREACHABLE
    if settlement.mismatch:
        return UNMATCHED.checked
    return payment_wording(settlement.status).checked
