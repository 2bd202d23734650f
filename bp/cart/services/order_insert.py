"""A new order and its lines written in two statements built once, with no ORM objects.

The order's SumUp reference and description carry its id, so the id is taken from the
sequence first; the order and all its lines are then inserted by one statement (the lines from
arrays, however many), which answers what PostgreSQL filled in. Through the ORM this was an
INSERT, an UPDATE for the reference and description, and an INSERT of the lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Numeric,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_rows import OrderLine, OrderRow
from bp.cart.services.places_at_commit import PlacesRule, set_places_rule
from lib.db import Query, execute_in_transaction
from models import Order, OrderItem

_ORDERS = cast(Table, Order.__table__)
_ITEMS = cast(Table, OrderItem.__table__)

NEXT_ORDER_ID = Query(select(func.nextval(func.pg_get_serial_sequence("orders", "id"))))

# The order's own values, by name; the lines' as arrays of equal length.
_ORDER_VALUES = (
    ("id", BigInteger),
    ("user_id", BigInteger),
    ("session_id", String),
    ("email", String),
    ("page_id", BigInteger),
    ("status", String),
    ("currency", String),
    ("total_amount", Numeric(12, 2)),
    ("description", String),
    ("merchant_code", String),
    ("attempt", Integer),
    ("sumup_reference", String),
    ("checkout_started_at", DateTime(timezone=True)),
    ("hold_started_at", DateTime(timezone=True)),
)
_LINE_ARRAYS = (
    ("kind", String),
    ("ref_id", BigInteger),
    ("page_id", BigInteger),
    ("title", String),
    ("quantity", Integer),
    ("unit_price", Numeric(12, 2)),
    ("line_total", Numeric(12, 2)),
)

_new_order = (
    insert(_ORDERS)
    .values({name: bindparam(name, type_=kind) for name, kind in _ORDER_VALUES})
    .returning(_ORDERS.c.id, _ORDERS.c.access_secret, _ORDERS.c.created_at)
    .cte("new_order")
)
_new_lines = (
    insert(_ITEMS)
    .from_select(
        ["order_id", *(name for name, _ in _LINE_ARRAYS)],
        select(
            _new_order.c.id,
            *(
                func.unnest(bindparam(f"line_{name}", type_=ARRAY(kind)))
                for name, kind in _LINE_ARRAYS
            ),
        ),
    )
    .returning(_ITEMS.c.id)
    .cte("new_lines")
)
INSERT_ORDER_WITH_LINES = Query(
    select(
        _new_order.c.access_secret,
        _new_order.c.created_at,
        select(func.array_agg(_new_lines.c.id)).scalar_subquery(),
        set_places_rule(),
    )
)


@dataclass(frozen=True, slots=True)
class NewLine:
    """A line of an order to be made, at the price the database has now."""

    kind: str
    ref_id: int
    page_id: int | None
    title: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


async def next_order_id(session: AsyncSession) -> int:
    """An id for a new order, from the orders' sequence (in the caller's transaction)."""
    return int((await execute_in_transaction(session, NEXT_ORDER_ID)).one()[0])


async def insert_order(
    session: AsyncSession,
    *,
    order_id: int,
    user_id: int | None,
    session_id: str | None,
    email: str | None,
    page_id: int | None,
    currency: str,
    total_amount: Decimal,
    description: str,
    merchant_code: str,
    sumup_reference: str,
    checkout_started_at: datetime,
    hold_started_at: datetime | None,
    lines: Sequence[NewLine],
    places_rule: PlacesRule = PlacesRule.LOCKED_FIRST,
) -> OrderRow:
    """Insert the pending order (its first attempt) with its lines; the caller commits, which
    checks the order's places by `places_rule` (places_at_commit.py)."""
    params: dict[str, object] = {
        "places_rule": places_rule.value,
        "id": order_id,
        "user_id": user_id,
        "session_id": session_id,
        "email": email,
        "page_id": page_id,
        "status": "pending",
        "currency": currency,
        "total_amount": total_amount,
        "description": description,
        "merchant_code": merchant_code,
        "attempt": 1,
        "sumup_reference": sumup_reference,
        "checkout_started_at": checkout_started_at,
        "hold_started_at": hold_started_at,
    }
    for name, _ in _LINE_ARRAYS:
        params[f"line_{name}"] = [getattr(line, name) for line in lines]
    access_secret, created_at, line_ids, _ = (
        await execute_in_transaction(session, INSERT_ORDER_WITH_LINES, params)
    ).one()
    # Ids follow the sequence in the order the lines were inserted.
    ids = sorted(line_ids or [])
    return OrderRow(
        id=order_id,
        user_id=user_id,
        session_id=session_id,
        page_id=page_id,
        status="pending",
        currency=currency,
        total_amount=total_amount,
        description=description,
        email=email,
        access_secret=access_secret,
        merchant_code=merchant_code,
        attempt=1,
        sumup_reference=sumup_reference,
        sumup_checkout_id=None,
        sumup_hosted_url=None,
        sumup_status=None,
        sumup_transaction_code=None,
        sumup_transaction_id=None,
        checkout_started_at=checkout_started_at,
        hold_started_at=hold_started_at,
        paid_at=None,
        payment_mismatch_at=None,
        closed_at=None,
        needs_refund=False,
        refund_reason=None,
        refunded_amount=None,
        refunded_at=None,
        created_at=created_at,
        items=tuple(
            OrderLine(
                id=line_id,
                kind=line.kind,
                ref_id=line.ref_id,
                page_id=line.page_id,
                title=line.title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line.line_total,
            )
            for line_id, line in zip(ids, lines, strict=True)
        ),
    )
