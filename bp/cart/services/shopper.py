"""Who a shopper is, from the account domain: the name and e-mail address for the cart's pages
and for what the cart sends them (the order confirmation).

Read through the account engine's session (DATABASE_URL_ACCOUNT), never the cart's own: the
account domain may live in another database.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import Order
from services.contracts.dtos import ShopperContact
from services.registry import DomainServices


async def shopper_contact(
    account_session: AsyncSession, *, user_id: int, domains: DomainServices
) -> ShopperContact | None:
    """The signed-in shopper's name and address; ends the read's transaction."""
    try:
        contact = await domains.account.shopper_contact(account_session, user_id)
    finally:
        await account_session.rollback()
    return contact


async def order_contact(
    account_session: AsyncSession, *, order: Order, domains: DomainServices
) -> ShopperContact | None:
    """Where to write about an order: its shopper's name and address; None for an anonymous
    order (no account) or an account the domain does not know."""
    if order.user_id is None:
        return None
    return await shopper_contact(account_session, user_id=order.user_id, domains=domains)


def display_name(contact: ShopperContact | None) -> str | None:
    """What a page calls the shopper: the name, else the address."""
    if contact is None:
        return None
    return contact.name or contact.email
