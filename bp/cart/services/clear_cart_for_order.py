"""Take what a paid order bought out of its owner's cart, and nothing more."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Integer,
    any_,
    bindparam,
    case,
    column,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_rows import OrderLine, OrderRow
from models import CartItem, Order, OrderItem
from services.contracts.ownership import owned_by, owner_of

# What the order bought, by product, as one row each: two arrays bound as parameters, so that
# the statement is compiled once whatever was bought (a VALUES list of the rows themselves
# made SQLAlchemy compile it afresh at every settlement: it cannot cache literal rows).
_BOUGHT = (
    func.unnest(
        bindparam("bought_products", type_=ARRAY(BigInteger)),
        bindparam("bought_quantities", type_=ARRAY(Integer)),
    )
    .table_valued(column("product_id", BigInteger), column("quantity", Integer))
    .render_derived(name="bought")
)
_USED_UP = CartItem.quantity <= _BOUGHT.c.quantity
# A locked line is soft-deleted and linked to the order when the order bought all of it, else
# keeps what it holds beyond what was bought.
_TAKE_BOUGHT = (
    update(CartItem)
    .where(
        CartItem.id == any_(bindparam("locked", type_=ARRAY(BigInteger))),
        CartItem.product_id == _BOUGHT.c.product_id,
    )
    .values(
        deleted_at=case(
            (_USED_UP, bindparam("taken_at", type_=DateTime(timezone=True))),
            else_=CartItem.deleted_at,
        ),
        order_id=case(
            (_USED_UP, bindparam("bought_by", type_=BigInteger)), else_=CartItem.order_id
        ),
        quantity=case((_USED_UP, CartItem.quantity), else_=CartItem.quantity - _BOUGHT.c.quantity),
    )
    .execution_options(synchronize_session=False)
)


async def clear_cart_for_order(
    session: AsyncSession,
    *,
    order: Order | OrderRow,
    items: Sequence[OrderItem] | Sequence[OrderLine],
) -> int:
    """Soft-delete (or decrement) the owner's live lines the order bought; the caller commits.

    A line holding no more than the ordered quantity is soft-deleted and linked to the order;
    a line that grew after checkout keeps the difference, so items added since are never lost.
    Returns how many lines changed.
    """
    bought = Counter[int]()
    for item in items:
        if item.kind == "product":
            bought[item.ref_id] += item.quantity
    if not bought:
        return 0
    # The lines are locked in id order (as ever, so that two settlements cannot deadlock),
    # then changed in one statement whatever their number.
    locked = list(
        await session.scalars(
            select(CartItem.id)
            .where(
                owned_by(CartItem, owner_of(order)),
                CartItem.product_id.in_(sorted(bought)),
                CartItem.deleted_at.is_(None),
            )
            .order_by(CartItem.id)
            .with_for_update()
        )
    )
    if not locked:
        return 0
    products, quantities = zip(*sorted(bought.items()), strict=True)
    result: Any = await session.execute(
        _TAKE_BOUGHT,
        {
            "bought_products": list(products),
            "bought_quantities": list(quantities),
            "locked": locked,
            "taken_at": datetime.now(UTC),
            "bought_by": order.id,
        },
    )
    return int(result.rowcount or 0)
