"""One page of a shopper's orders, newest first, searched and filtered.

The list is read on every visit to the orders page. Built per request and run through the
session, its two statements (the page, then its lines) cost more than the rest of the page's
work: building each statement and its cache key, and a transaction (BEGIN, then ROLLBACK at the
request's end) around a page that writes nothing. The page and its lines are one statement,
compiled once per shape of query (lib/db.Query), run alone in autocommit on the driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, String, and_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from bp.orders.filters.qs import OrderListQuery
from bp.orders.services.search import (
    SearchKind,
    search_condition_bound,
    search_kind,
    search_params,
)
from lib.db import Query, execute_alone
from models import Order, OrderItem, OrderStatus
from services.contracts.cart_summary import CartSummary
from services.contracts.dtos import CartIdentity
from services.contracts.ownership import owned_by_bound, owner_params
from services.sql.cart_impl import SUMMARY_LABELS, SqlCartService, summary_statement

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
    # The badge's counts, when the list's statement read them (list_orders' `badge`).
    summary: CartSummary | None = None

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


# The list statement's own parameters; the owner's are ownership's, the search's search.py's.
STATUS = "status"
PAGE_LIMIT = "page_limit"
PAGE_OFFSET = "page_offset"


@cache
def order_list_query(
    *, signed_in: bool, by_status: bool, search: SearchKind, with_badge: bool = False
) -> Query:
    """The page's orders plus one more (to know a next page exists), newest first, each with
    its lines' titles and quantities: one statement, built and compiled once per shape.

    The inner query finds the page's ids with an index-only scan of one owner's entries in
    ix_orders_user_created (or ..._user_status_created, ..._session_created), newest first,
    stopping once the page is full; a search is a per-order EXISTS on the owner's lines only.
    The outer query then reads just those rows, and each one's lines by its order id. No
    COUNT(*), nothing scans other owners.

    `with_badge` puts the badge's counts (services/sql/cart_impl.summary_statement, one row)
    first, joined to the page's orders: the full page's one round trip. Without orders, its
    one row has NULL order columns.
    """
    page_ids = select(Order.id).where(owned_by_bound(Order, signed_in=signed_in))
    if by_status:
        page_ids = page_ids.where(Order.status == bindparam(STATUS, type_=String))
    searched = search_condition_bound(search)
    if searched is not None:
        page_ids = page_ids.where(searched)
    page = (
        page_ids.order_by(Order.created_at.desc(), Order.id.desc())
        .limit(bindparam(PAGE_LIMIT, type_=Integer))
        .offset(bindparam(PAGE_OFFSET, type_=Integer))
        .subquery("page_ids")
    )
    # One row per order (an aggregate without GROUP BY always gives one; NULLs without lines).
    lines = (
        select(
            func.array_agg(aggregate_order_by(OrderItem.title, OrderItem.id)).label("titles"),
            func.array_agg(aggregate_order_by(OrderItem.quantity, OrderItem.id)).label(
                "quantities"
            ),
        )
        .where(OrderItem.order_id == Order.id)
        .lateral("lines")
    )
    orders = (
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
            lines.c.titles,
            lines.c.quantities,
        )
        .join(page, page.c.id == Order.id)
        .outerjoin(lines, true())
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    if not with_badge:
        return Query(orders)
    badge = summary_statement(signed_in=signed_in).subquery("badge")
    listed = orders.subquery("listed")
    return Query(
        select(*badge.c, *listed.c)
        .select_from(badge)
        .outerjoin(listed, true())
        .order_by(listed.c.created_at.desc(), listed.c.id.desc())
    )


def order_list_params(
    *, identity: CartIdentity, query: OrderListQuery, page_size: int
) -> dict[str, object]:
    """The parameters of the identity's `order_list_query` for the query."""
    params = {
        **owner_params(identity),
        **search_params(query.search),
        PAGE_LIMIT: page_size + 1,
        PAGE_OFFSET: (query.page - 1) * page_size,
    }
    if query.status:
        params[STATUS] = query.status
    return params


def order_list_statement(
    *, identity: CartIdentity, query: OrderListQuery, page_size: int
) -> Select[Any]:
    """The statement `list_orders` runs, with its values (to explain it)."""
    statement: Select[Any] = _query_for(identity, query, with_badge=False).statement  # type: ignore[assignment]
    return statement.params(order_list_params(identity=identity, query=query, page_size=page_size))


async def list_orders(
    session: AsyncSession,
    *,
    identity: CartIdentity,
    query: OrderListQuery,
    page_size: int,
    badge: SqlCartService | None = None,
) -> OrderListPage:
    """The identity's orders for the query, with their lines: one indexed statement, alone in
    autocommit when the session has no transaction (lib/db.execute_alone). Given the cart
    service whose summary is one statement (`badge`), the badge's counts come with them."""
    params = order_list_params(identity=identity, query=query, page_size=page_size)
    statement = _query_for(identity, query, with_badge=badge is not None)
    rows: list[Sequence[Any]] = (await execute_alone(session, statement, params)).all()
    summary = None
    if badge is not None:
        width = len(SUMMARY_LABELS)
        summary = badge.summary_from_columns(rows[0][:width])
        # Without orders, the badge's one row has none (NULL order columns).
        rows = [row[width:] for row in rows if row[width] is not None]
    has_next = len(rows) > page_size
    orders = [_summary(row) for row in rows[:page_size]]
    return OrderListPage(
        orders=orders, query=query, page_size=page_size, has_next=has_next, summary=summary
    )


def _query_for(identity: CartIdentity, query: OrderListQuery, *, with_badge: bool) -> Query:
    """The `order_list_query` of the identity's kind and the query's shape."""
    return order_list_query(
        signed_in=identity.is_user,
        by_status=bool(query.status),
        search=search_kind(query.search),
        with_badge=with_badge,
    )


def _summary(row: Sequence[Any]) -> OrderSummary:
    """A row of `order_list_query` as the list shows it."""
    order_id, created_at, status, currency, total_amount, needs_refund, under_review = row[:7]
    titles, count = _lines(row[7] or (), row[8] or ())
    return OrderSummary(
        id=order_id,
        created_at=created_at,
        status=status,
        currency=currency,
        total_amount=total_amount,
        needs_refund=needs_refund,
        item_count=count,
        titles=tuple(titles[:TITLES_SHOWN]),
        more_titles=max(len(titles) - TITLES_SHOWN, 0),
        payment_under_review=bool(under_review),
    )


def _lines(titles: Sequence[str], quantities: Sequence[int]) -> tuple[list[str], int]:
    """An order's line titles (in order) and its number of items (by quantity)."""
    # Tickets are an order line each: one title for all of them, with how many; a product's
    # line is one line whatever its quantity, and named as it is.
    by_title: dict[str, tuple[int, int]] = {}
    for title, quantity in zip(titles, quantities, strict=True):
        rows, units = by_title.get(title, (0, 0))
        by_title[title] = (rows + 1, units + quantity)
    return [_counted(title, *seen) for title, seen in by_title.items()], sum(quantities)


def _counted(title: str, rows: int, quantity: int) -> str:
    return f"{title} \u00d7 {quantity}" if rows > 1 else title
