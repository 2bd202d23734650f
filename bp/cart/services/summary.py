"""The cart badge's counts and totals, for a browser that may not have a cart yet."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity
from services.registry import DomainServices


async def get_cart_summary(
    session: AsyncSession,
    *,
    identity: CartIdentity | None,
    currency: str,
    domains: DomainServices,
) -> CartSummary:
    """The cart's summary in one statement; an empty one, with no query, without a cart."""
    if identity is None:
        return CartSummary(currency=currency)
    return await domains.cart.cart_summary(session, identity=identity)
