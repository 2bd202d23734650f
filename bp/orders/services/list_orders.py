"""One page of a shopper's orders, newest first, searched and filtered."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.orders.filters.qs import OrderListQuery
from bp.orders.services.search import search_condition
from models import Order, OrderItem, OrderStatus
from services.contracts.dtos import CartIdentity
from services.contracts.ownership import owned_by

# How many item titles a row of the list names before "and N more".
TITLES_SHOWN = 3


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """An order as one row of the list shows it."""

    id: int
    created_at: datetime
    status: OrderStatus
    currency: str
    total_amount: Decimal
    needs_refund: bool
    item_count: int
    titles: tuple[str, ...]
    more_titles: int
    # A payment SumUp reported that did not match the order waits for the coop.
    payment_under_review: bool = False

    @property
    def can_pay_again(self) -> bool:
        """A failed payment may be tried again from the list, as from the order's page."""
        return self.status == "failed" and not self.payment_under_review


@dataclass(frozen=True, slots=True)
class OrderListPage:
    """One page of the list, and whether pages lie before and after it."""

    orders: list[OrderSummary]
    query: OrderListQuery
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1

    @property
    def first_position(self) -> int:
        """The position of the page's first order in the whole list (1-based)."""
        return (self.query.page - 1) * self.page_size + 1

    @property
    def last_position(self) -> int:
        return self.first_position + len(self.orders) - 1


def order_list_statement(
    *, identity: CartIdentity, query: OrderListQuery, page_size: int
) -> Select[int, datetime, str, str, Decimal, bool, bool]:
    """The page's orders plus one more (to know a next page exists), newest first.

    The inner query finds the page's ids with an index-only scan of one owner's entries in
    ix_orders_user_created (or ..._user_status_created, ..._session_created), newest first,
    stopping once the page is full; a search is a per-order EXISTS on the owner's lines only.
    The outer query then reads just those rows. No COUNT(*), nothing scans other owners.
    """
    page_ids = select(Order.id).where(owned_by(Order, identity))
    if query.status:
        page_ids = page_ids.where(Order.status == query.status)
    if query.search:
        page_ids = page_ids.where(search_condition(query.search))
    page = (
        page_ids.order_by(Order.created_at.desc(), Order.id.desc())
        .limit(page_size + 1)
        .offset((query.page - 1) * page_size)
        .subquery("page_ids")
    )
    return (
        select(
            Order.id,
            Order.created_at,
            Order.status,
            Order.currency,
            Order.total_amount,
            Order.needs_refund,
            and_(
                Order.payment_mismatch_at.is_not(None),
                Order.payment_mismatch_resolved_at.is_(None),
            ).label("payment_under_review"),
        )
        .join(page, page.c.id == Order.id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    )


async def list_orders(
    session: AsyncSession, *, identity: CartIdentity, query: OrderListQuery, page_size: int
) -> OrderListPage:
    """The identity's orders for the query: one indexed query for the page, one for its lines."""
    rows = (
        await session.execute(
            order_list_statement(identity=identity, query=query, page_size=page_size)
        )
    ).all()
    has_next = len(rows) > page_size
    rows = rows[:page_size]
    lines = await _lines_by_order(session, [row.id for row in rows])
    orders = []
    for row in rows:
        titles, count = lines.get(row.id, ([], 0))
        orders.append(
            OrderSummary(
                id=row.id,
                created_at=row.created_at,
                status=row.status,
                currency=row.currency,
                total_amount=row.total_amount,
                needs_refund=row.needs_refund,
                item_count=count,
                titles=tuple(titles[:TITLES_SHOWN]),
                more_titles=max(len(titles) - TITLES_SHOWN, 0),
                payment_under_review=bool(row.payment_under_review),
            )
        )
    return OrderListPage(orders=orders, query=query, page_size=page_size, has_next=has_next)


async def _lines_by_order(
    session: AsyncSession, order_ids: list[int]
) -> dict[int, tuple[list[str], int]]:
    """Each order's line titles (in order) and its number of items (by quantity)."""
    if not order_ids:
        return {}
    result = await session.execute(
        select(OrderItem.order_id, OrderItem.title, OrderItem.quantity)
        .where(OrderItem.order_id.in_(order_ids))
        .order_by(OrderItem.order_id, OrderItem.id)
    )
    # Tickets are an order line each: one title for all of them, with how many; a product's
    # line is one line whatever its quantity, and named as it is.
    by_title: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    counts: dict[int, int] = defaultdict(int)
    for order_id, title, quantity in result:
        rows, units = by_title[order_id].get(title, (0, 0))
        by_title[order_id][title] = (rows + 1, units + quantity)
        counts[order_id] += quantity
    return {
        order_id: ([_counted(title, *seen) for title, seen in titles.items()], counts[order_id])
        for order_id, titles in by_title.items()
    }


def _counted(title: str, rows: int, quantity: int) -> str:
    return f"{title} \u00d7 {quantity}" if rows > 1 else title
