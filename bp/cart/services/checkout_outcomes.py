"""The outcome pages a checkout POST sends the shopper to (POST, then redirect, then GET).

A checkout whose total changed, or whose payment page could not be opened, ends in a 303 to a
GET page of its order: `/checkout/<order_id>/review/` and `/checkout/<order_id>/not-started/`.
The page reads the order (its owner's only, 404 for anyone else) and the messages the POST left
for it, kept in the cart's Redis under the order's id for the payment window's length, so a
reload shows the same thing and nothing about the outcome travels in the URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.order_state import get_owned_order_or_raise
from models import OPEN_STATUSES, Order
from services.contracts.dtos import CartIdentity

KEY_PREFIX = "checkout-outcome:"
# What a POST can leave for its outcome page: the notices of a changed total, or why the
# payment page could not be opened.
OutcomeKind = Literal["review", "not-started"]


def outcome_key(order_id: int, kind: OutcomeKind) -> str:
    return f"{KEY_PREFIX}{kind}:{order_id}"


def outcome_path(order_id: int, kind: OutcomeKind) -> str:
    """The GET page showing this outcome of the order."""
    return f"/checkout/{order_id}/{kind}/"


async def remember_outcome(
    redis: Redis, *, order_id: int, kind: OutcomeKind, messages: list[str], ttl_seconds: int
) -> None:
    """Keep the outcome's messages for its page (replacing an older outcome of that kind)."""
    await redis.set(outcome_key(order_id, kind), json.dumps(messages), ex=ttl_seconds)


async def recall_outcome(redis: Redis, *, order_id: int, kind: OutcomeKind) -> list[str]:
    """The outcome's messages, left in place so that a reload shows them again."""
    raw = await redis.get(outcome_key(order_id, kind))
    if not raw:
        return []
    messages = json.loads(raw)
    return [str(message) for message in messages] if isinstance(messages, list) else []


@dataclass(frozen=True)
class OutcomeView:
    """An order's outcome page: the order (with its items) and the messages left for it."""

    order: Order
    messages: list[str]

    @property
    def is_open(self) -> bool:
        """The order can still be paid."""
        return self.order.status in OPEN_STATUSES

    @property
    def hosted_url(self) -> str | None:
        """SumUp's page for the order's current attempt, while the order is open."""
        return self.order.sumup_hosted_url if self.is_open else None


async def outcome_view(
    session: AsyncSession,
    *,
    redis: Redis,
    order_id: int,
    kind: OutcomeKind,
    identity: CartIdentity | None,
) -> OutcomeView:
    """The shopper's order and its outcome's messages; OrderNotFound for anyone else's."""
    order = await get_owned_order_or_raise(session, order_id=order_id, identity=identity)
    await session.commit()
    return OutcomeView(
        order=order, messages=await recall_outcome(redis, order_id=order_id, kind=kind)
    )
