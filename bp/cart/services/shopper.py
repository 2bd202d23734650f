"""Who a shopper is, from the account domain: the name and e-mail address for the cart's pages
and for what the cart sends them (the order confirmation).

Read through the account engine's session (DATABASE_URL_ACCOUNT), never the cart's own: the
account domain may live in another database.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from lib.db import Databases, runs_alone
from models import Order
from services.contracts.dtos import ShopperContact
from services.registry import DomainServices
from services.sql.account_impl import SqlAccountService


async def shopper_contact(
    account_session: AsyncSession, *, user_id: int, domains: DomainServices
) -> ShopperContact | None:
    """The signed-in shopper's name and address; ends the read's transaction."""
    try:
        contact = await domains.account.shopper_contact(account_session, user_id)
    finally:
        await account_session.rollback()
    return contact


async def page_shopper_contact(
    databases: Databases, *, user_id: int, domains: DomainServices
) -> ShopperContact | None:
    """The shopper's name and address for a page's header: one statement alone on the account
    engine when the account domain is its tables and the engine's statements may run alone;
    else in a read-only transaction of its own (behind PgBouncer, say)."""
    account, engine = domains.account, databases.account_engine
    if isinstance(account, SqlAccountService) and runs_alone(engine):
        return await account.shopper_contact_alone(engine, user_id)
    async with databases.account_sessionmaker() as session:
        return await shopper_contact(session, user_id=user_id, domains=domains)


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
