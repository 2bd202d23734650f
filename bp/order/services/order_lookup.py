""" "Find my orders": a guest gives an address and is mailed the links to its orders.

The answer is the same whether the address has orders or not (nothing tells a stranger who
shops here); only an address with orders gets a mail. The request is a message in
`sent_messages` (kind `order_links`, filed under the address's newest order), sent by the
mail relay like any other: at least once, and once per request. A request's id is the address
and the quarter of an hour it was made in, so a double click or a retried form is one request
(one mail); the routes' limits (per client, per address) bound the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.guest_email import checked_email
from models import Order, SentMessage

ORDER_LINKS_MAIL = "order_links"
# The orders one mail lists, newest first; an address with more is told to write to the coop.
MAX_LINKED_ORDERS = 20
REQUEST_WINDOW_SECONDS = 15 * 60
REQUEST_NAMESPACE = uuid.UUID("6f1c2b9e-3d2a-4f57-9a51-0c7d6c1e4b21")


@dataclass(frozen=True)
class LinkedOrder:
    """An order as the "find my orders" mail lists it."""

    id: int
    status: str
    created_at: datetime
    total_amount: Decimal
    currency: str
    access_secret: str


def request_id_for(address: str, now: datetime) -> uuid.UUID:
    """The id of a request for `address` made at `now`: the same within one window."""
    window = int(now.timestamp()) // REQUEST_WINDOW_SECONDS
    return uuid.uuid5(REQUEST_NAMESPACE, f"{address.lower()}:{window}")


async def request_order_links(
    session: AsyncSession, *, email: str | None, now: datetime | None = None
) -> None:
    """Plan the mail of `email`'s order links when it has orders; commits. FieldError when
    the address is not one (said alike for every address)."""
    address = checked_email(email or "")
    newest = await session.scalar(
        select(Order.id)
        .where(func.lower(Order.email) == address.lower())
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(1)
    )
    if newest is not None:
        await session.execute(
            insert(SentMessage)
            .values(
                activity_id=request_id_for(address, now or datetime.now(UTC)),
                kind=ORDER_LINKS_MAIL,
                order_id=newest,
                recipient=address,
            )
            .on_conflict_do_nothing(constraint="uq_sent_messages_activity_id_kind")
        )
    await session.commit()


async def orders_of_address(session: AsyncSession, *, address: str) -> list[LinkedOrder]:
    """The address's orders, newest first (at most MAX_LINKED_ORDERS)."""
    rows = await session.execute(
        select(
            Order.id,
            Order.status,
            Order.created_at,
            Order.total_amount,
            Order.currency,
            Order.access_secret,
        )
        .where(func.lower(Order.email) == address.lower())
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(MAX_LINKED_ORDERS)
    )
    return [LinkedOrder(*row) for row in rows.all()]
