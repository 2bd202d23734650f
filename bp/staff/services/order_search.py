"""Every shopper's orders for the staff: searched, filtered and paged, newest first."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, false, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bp.orders.services.search import order_number_of, title_matches
from bp.staff.services.order_query import StaffOrderQuery
from config.settings import Settings
from lib.like import LIKE_ESCAPE, escape_like
from models import OPEN_STATUSES, Order, OrderItem
from services.contracts.dtos import ShopperContact
from services.registry import DomainServices

# The most shoppers an address search may name: enough for any real search, and the
# IN list stays small.
MAX_EMAIL_MATCHES = 200
TITLES_SHOWN = 3
# Shorter terms have no trigram to look up.
TRIGRAM = 3
# SumUp's transaction codes: letters and digits, no spaces ("TEENSK4W2K"). One with both a
# letter and a digit is no item title the coop sells; one of letters alone ("QPZKBNRTWA")
# may be either, so it is looked up as both.
TRANSACTION_CODE = re.compile(r"[A-Za-z0-9]{6,32}")
HAS_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True, slots=True)
class StaffOrderRow:
    id: int
    created_at: datetime
    status: str
    currency: str
    total_amount: Decimal
    user_id: int | None
    page_title: str | None
    shopper: ShopperContact | None
    needs_refund: bool
    mismatch: bool
    transaction_code: str | None
    titles: tuple[str, ...]
    more_titles: int


@dataclass(frozen=True, slots=True)
class StaffOrderPage:
    rows: list[StaffOrderRow]
    query: StaffOrderQuery
    page_size: int
    has_next: bool
    # The search named no page, shopper or order that exists: said so rather than "no orders".
    unknown_page: bool = False


def hold_of(settings: Settings) -> timedelta:
    """How long an order may hold its claims, from its creation (its payment window and the
    reconciler's grace)."""
    return timedelta(minutes=settings.payment_window_minutes + settings.checkout_grace_minutes)


def flag_condition(flag: str, *, settings: Settings, now: datetime) -> ColumnElement[bool]:
    """The orders of a staff queue."""
    if flag == "needs_refund":
        return and_(Order.needs_refund, Order.refunded_at.is_(None))
    if flag == "mismatch":
        return and_(
            Order.payment_mismatch_at.is_not(None), Order.payment_mismatch_resolved_at.is_(None)
        )
    if flag == "waiting":
        return Order.status.in_(OPEN_STATUSES)
    if flag == "overdue":
        return and_(Order.status.in_(OPEN_STATUSES), Order.created_at < now - hold_of(settings))
    raise ValueError(flag)


def search_condition(term: str, user_ids: list[int]) -> ColumnElement[bool]:
    """An order number, a shopper's address (as the user ids it matched), a SumUp transaction
    code, or part of an item's title.

    Each kind is told by its shape, so that each is one indexed lookup: OR-ing a number or a
    code with the title search would make PostgreSQL try the title on every order there is.
    """
    number = order_number_of(term)
    if number is not None:
        return Order.id == number
    if "@" in term:
        return Order.user_id.in_(user_ids) if user_ids else false()
    code = TRANSACTION_CODE.fullmatch(term) is not None
    if code and HAS_DIGIT.search(term):
        return Order.sumup_transaction_code == term.upper()
    if len(term) < TRIGRAM:
        return title_matches(term)
    # The orders with such a line, from the trigram index (ix_order_items_title_trgm): the
    # shopper's list checks each of one shopper's orders instead, which here would be all.
    titled = select(OrderItem.order_id).where(
        OrderItem.title.ilike(f"%{escape_like(term)}%", escape=LIKE_ESCAPE)
    )
    if not code:
        return Order.id.in_(titled)
    # A UNION of two index lookups: an OR of the two conditions would be tried on every order.
    return Order.id.in_(
        union(select(Order.id).where(Order.sumup_transaction_code == term.upper()), titled)
    )


async def search_orders(
    session: AsyncSession,
    *,
    account_session: AsyncSession,
    query: StaffOrderQuery,
    settings: Settings,
    domains: DomainServices,
    page_size: int,
    now: datetime | None = None,
) -> StaffOrderPage:
    """One page of every shopper's orders for the query, with whom and which page each is."""
    user_ids: list[int] = []
    if "@" in query.search:
        found = await domains.account.users_by_email(
            account_session, query.search, limit=MAX_EMAIL_MATCHES
        )
        user_ids = list(found)
    page_id = None
    if query.page_slug:
        page = await domains.blog.page_by_slug(session, query.page_slug)
        if page is None:
            return StaffOrderPage([], query, page_size, has_next=False, unknown_page=True)
        page_id = page.id
    statement = staff_order_statement(
        query=query,
        user_ids=user_ids,
        page_id=page_id,
        settings=settings,
        page_size=page_size,
        now=now or datetime.now(UTC),
    )
    orders = list(await session.scalars(statement))
    has_next = len(orders) > page_size
    orders = orders[:page_size]
    lines = await _titles_by_order(session, [order.id for order in orders])
    shoppers = await domains.account.contacts(
        account_session, [order.user_id for order in orders if order.user_id is not None]
    )
    pages = await domains.blog.pages_by_ids(
        session, sorted({order.page_id for order in orders if order.page_id is not None})
    )
    rows = []
    for order in orders:
        titles = lines.get(order.id, [])
        rows.append(
            StaffOrderRow(
                id=order.id,
                created_at=order.created_at,
                status=order.status,
                currency=order.currency,
                total_amount=order.total_amount,
                user_id=order.user_id,
                page_title=pages[order.page_id].title if order.page_id in pages else None,
                shopper=shoppers.get(order.user_id) if order.user_id is not None else None,
                needs_refund=order.needs_refund and order.refunded_at is None,
                mismatch=order.payment_mismatch_at is not None
                and order.payment_mismatch_resolved_at is None,
                transaction_code=order.sumup_transaction_code,
                titles=tuple(titles[:TITLES_SHOWN]),
                more_titles=max(len(titles) - TITLES_SHOWN, 0),
            )
        )
    return StaffOrderPage(rows, query, page_size, has_next=has_next)


def staff_order_statement(
    *,
    query: StaffOrderQuery,
    user_ids: list[int],
    page_id: int | None,
    settings: Settings,
    page_size: int,
    now: datetime,
) -> Select[Order]:
    """The page's orders plus one (to know a next page exists), newest first.

    As the shopper's list does: walk an index newest first (ix_orders_created, or by status
    or page) and stop when the page is full; no COUNT(*).
    """
    statement = select(Order)
    if query.search:
        statement = statement.where(search_condition(query.search, user_ids))
    if query.status:
        statement = statement.where(Order.status == query.status)
    if page_id is not None:
        statement = statement.where(Order.page_id == page_id)
    start, end = query.created_between(settings.time_zone)
    if start is not None:
        statement = statement.where(Order.created_at >= start)
    if end is not None:
        statement = statement.where(Order.created_at < end)
    if query.flag:
        statement = statement.where(flag_condition(query.flag, settings=settings, now=now))
    return (
        statement.order_by(Order.created_at.desc(), Order.id.desc())
        .limit(page_size + 1)
        .offset((query.page - 1) * page_size)
    )


async def _titles_by_order(session: AsyncSession, order_ids: list[int]) -> dict[int, list[str]]:
    if not order_ids:
        return {}
    titles: dict[int, list[str]] = defaultdict(list)
    rows = await session.execute(
        select(OrderItem.order_id, OrderItem.title)
        .where(OrderItem.order_id.in_(order_ids))
        .order_by(OrderItem.order_id, OrderItem.id)
    )
    for order_id, title in rows:
        titles[order_id].append(title)
    return titles
