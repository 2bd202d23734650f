"""An order's link: `/orders/<id>/<secret>/` opens the order's page from any device, without
the browser's session, as Pretix's order links do.

The secret is the order's `access_secret` (made by the database, models/order.py). The link
only shows the order: its payment buttons need the owner's browser. A wrong secret is a 404
like an order that does not exist, compared in constant time so that its answer time tells
nothing of how much of it was right; the route is rate-limited, and its path is logged as
`/orders/<id>/<secret>/` (lib/secret_paths.py).
"""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bp.order.services.get_order import OrderView, view_of_order
from config.settings import Settings
from lib.error_codes import ErrorCode
from lib.errors import NotFound
from lib.ids import is_id
from models import Order
from services.registry import DomainServices


def order_link(settings: Settings, order_id: int, secret: str) -> str:
    """The order's link as a shopper opens it from a mail."""
    return f"{settings.public_base_url.rstrip('/')}/orders/{order_id}/{secret}/"


async def get_order_by_link_or_raise(
    session: AsyncSession, *, order_id: int, secret: str, domains: DomainServices
) -> OrderView:
    """The view of the order the link names; NotFound for a wrong secret or no such order.
    Ends the read's transaction."""
    order = None
    if is_id(order_id):
        order = await session.scalar(
            select(Order).where(Order.id == order_id).options(selectinload(Order.items))
        )
    # Compared even when there is no order, so that both answers take as long.
    expected = order.access_secret if order is not None else "0" * len(secret)
    if not hmac.compare_digest(expected.encode(), secret.encode()) or order is None:
        await session.commit()
        raise NotFound(ErrorCode.ORDER_NOT_FOUND)
    view = await view_of_order(session, order=order, domains=domains)
    await session.commit()
    return view
