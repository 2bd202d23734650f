"""Take what a paid order bought out of its owner's cart, and nothing more."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CartItem, Order, OrderItem
from services.contracts.ownership import owned_by, owner_of


async def clear_cart_for_order(
    session: AsyncSession, *, order: Order, items: Sequence[OrderItem]
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
    lines = await session.scalars(
        select(CartItem)
        .where(
            owned_by(CartItem, owner_of(order)),
            CartItem.product_id.in_(sorted(bought)),
            CartItem.deleted_at.is_(None),
        )
        .order_by(CartItem.id)
        .with_for_update()
    )
    now = datetime.now(UTC)
    changed = 0
    for line in lines:
        quantity = bought[line.product_id]
        if line.quantity <= quantity:
            line.deleted_at = now
            line.order_id = order.id
        else:
            line.quantity -= quantity
        changed += 1
    return changed
