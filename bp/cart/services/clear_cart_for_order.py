"""Take what a paid order bought out of its owner's cart, and nothing more."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, case, column, select, update, values
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_rows import OrderLine, OrderRow
from models import CartItem, Order, OrderItem
from services.contracts.ownership import owned_by, owner_of


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
    bought_rows = values(
        column("product_id", BigInteger), column("quantity", Integer), name="bought"
    ).data(sorted(bought.items()))
    used_up = CartItem.quantity <= bought_rows.c.quantity
    result: Any = await session.execute(
        update(CartItem)
        .where(CartItem.id.in_(locked), CartItem.product_id == bought_rows.c.product_id)
        .values(
            deleted_at=case((used_up, datetime.now(UTC)), else_=CartItem.deleted_at),
            order_id=case((used_up, order.id), else_=CartItem.order_id),
            quantity=case(
                (used_up, CartItem.quantity), else_=CartItem.quantity - bought_rows.c.quantity
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
