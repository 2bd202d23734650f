"""An order and its lines read as plain rows, by statements compiled once (lib/db.Query).

The return page, the settlement and the fulfilment of a payment read an order many times a
second under load. Read through the ORM, each read built the statement's cache key, loaded an
`Order` into the session's identity map and its lines by a second statement (selectinload);
here the order and its lines come back in one statement as frozen dataclasses, and a read
that is a whole transaction runs alone in autocommit on the driver (lib/db.execute_alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Select, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from lib.db import Query, Rows, execute_alone, execute_in_transaction
from models import OPEN_STATUSES, Order, OrderItem, OrderStatus
from services.contracts.dtos import CartIdentity
from services.contracts.ownership import owned_by_bound, owner_params, owns


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A line of an order, at the price it was sold for."""

    id: int
    kind: str
    ref_id: int
    page_id: int | None
    title: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True)
class OrderRow:
    """The order's columns that paying for it, settling it and showing it read, with its lines
    in id order (empty when read without them)."""

    id: int
    user_id: int | None
    session_id: str | None
    page_id: int | None
    status: OrderStatus
    currency: str
    total_amount: Decimal
    description: str
    email: str | None
    access_secret: str
    merchant_code: str | None
    attempt: int
    sumup_reference: str | None
    sumup_checkout_id: str | None
    sumup_hosted_url: str | None
    sumup_status: str | None
    sumup_transaction_code: str | None
    sumup_transaction_id: str | None
    checkout_started_at: datetime | None
    hold_started_at: datetime | None
    paid_at: datetime | None
    payment_mismatch_at: datetime | None
    closed_at: datetime | None
    needs_refund: bool
    refund_reason: str | None
    refunded_amount: Decimal | None
    refunded_at: datetime | None
    created_at: datetime
    items: tuple[OrderLine, ...] = ()


# The columns read, in the dataclasses' order: the order's, then (joined) its line's.
_ORDER_NAMES = tuple(field.name for field in fields(OrderRow) if field.name != "items")
_LINE_NAMES = tuple(field.name for field in fields(OrderLine))
_ORDER_COLUMNS = [Order.__table__.c[name] for name in _ORDER_NAMES]
_LINE_COLUMNS = [OrderItem.__table__.c[name].label(f"item_{name}") for name in _LINE_NAMES]
_ORDER_WIDTH = len(_ORDER_NAMES)

_ORDER_ID = bindparam("order_id", type_=BigInteger)
_WITH_ITEMS = (
    select(*_ORDER_COLUMNS, *_LINE_COLUMNS)
    .select_from(Order.__table__.outerjoin(OrderItem.__table__))
    .where(Order.__table__.c.id == _ORDER_ID)
    .order_by(OrderItem.__table__.c.id)
)
ORDER_WITH_ITEMS = Query(_WITH_ITEMS)
# Locks the order's row only (never its lines): the row every payment path locks first.
ORDER_WITH_ITEMS_LOCKED = Query(_WITH_ITEMS.with_for_update(of=Order.__table__))
# The order without its lines (a statement to extend: the webhook's adds a column).
ORDER_SELECT = select(*_ORDER_COLUMNS).where(Order.__table__.c.id == _ORDER_ID)
ORDER_ALONE = Query(ORDER_SELECT)


def _open_orders(*, signed_in: bool) -> Select[*tuple[Any, ...]]:
    """The owner's open orders (owner and statuses bound at execution) with their lines, a row
    per line, in order id and line id order."""
    return (
        select(*_ORDER_COLUMNS, *_LINE_COLUMNS)
        .select_from(Order.__table__.outerjoin(OrderItem.__table__))
        .where(
            owned_by_bound(Order, signed_in=signed_in),
            Order.__table__.c.status == any_(bindparam("statuses", type_=ARRAY(String))),
        )
        .order_by(Order.__table__.c.id, OrderItem.__table__.c.id)
    )


# The shopper's open orders with their lines, for a signed-in owner (True) or an anonymous one
# (False): as the cart's pages show them (read alone), and with their rows locked in id order
# (the checkout's first statement under the shopper's lock).
OPEN_ORDERS = {kind: Query(_open_orders(signed_in=kind)) for kind in (True, False)}
OPEN_ORDERS_LOCKED = {
    kind: Query(_open_orders(signed_in=kind).with_for_update(of=Order.__table__))
    for kind in (True, False)
}


def orders_from_rows(rows: Rows | Sequence[Sequence[Any]]) -> list[OrderRow]:
    """The orders of `rows` (ordered by order id, a row per line), in that order."""
    grouped: dict[int, list[Sequence[Any]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    orders = [order_from_rows(group) for group in grouped.values()]
    return [order for order in orders if order is not None]


def order_from_rows(rows: Rows | Sequence[Sequence[Any]]) -> OrderRow | None:
    """The order of `rows` (one per line, or one with NULL line columns), or None without."""
    found = list(rows)
    if not found:
        return None
    head = found[0]
    values = dict(zip(_ORDER_NAMES, head[:_ORDER_WIDTH], strict=True))
    lines = tuple(
        OrderLine(*row[_ORDER_WIDTH:])
        for row in found
        if len(row) > _ORDER_WIDTH and row[_ORDER_WIDTH] is not None
    )
    return OrderRow(**values, items=lines)


async def read_order(session: AsyncSession, order_id: int) -> OrderRow | None:
    """The order without its lines: in the session's transaction when it has one, else alone."""
    return order_from_rows(await execute_alone(session, ORDER_ALONE, {"order_id": order_id}))


async def read_order_with_items(session: AsyncSession, order_id: int) -> OrderRow | None:
    """The order with its lines, in one statement (alone when no transaction is open)."""
    return order_from_rows(await execute_alone(session, ORDER_WITH_ITEMS, {"order_id": order_id}))


async def lock_order_with_items(session: AsyncSession, order_id: int) -> OrderRow | None:
    """The order with its lines, its row locked FOR UPDATE in the session's transaction."""
    found = await execute_in_transaction(session, ORDER_WITH_ITEMS_LOCKED, {"order_id": order_id})
    return order_from_rows(found)


async def read_open_orders(session: AsyncSession, identity: CartIdentity) -> list[OrderRow]:
    """The identity's open orders with their lines, in id order, in one statement (alone when
    no transaction is open)."""
    params = {**owner_params(identity), "statuses": list(OPEN_STATUSES)}
    return orders_from_rows(await execute_alone(session, OPEN_ORDERS[identity.is_user], params))


async def lock_open_orders(session: AsyncSession, identity: CartIdentity) -> list[OrderRow]:
    """The identity's open orders with their lines, rows locked FOR UPDATE in id order."""
    params = {**owner_params(identity), "statuses": list(OPEN_STATUSES)}
    query = OPEN_ORDERS_LOCKED[identity.user_id is not None]
    return orders_from_rows(await execute_in_transaction(session, query, params))


async def read_owned_order(
    session: AsyncSession, *, order_id: int, identity: CartIdentity | None
) -> OrderRow | None:
    """The shopper's order with its lines; None for another's, as for one that does not exist."""
    order = await read_order_with_items(session, order_id)
    return order if order is not None and owns(identity, order) else None
