"""What the shopper sees on coming back from SumUp: paid, failed, or still being confirmed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.order_messages import confirmed_message, held_phrase, released_message
from bp.cart.services.order_rows import OrderRow, read_owned_order
from bp.cart.services.order_state import OrderNotFound, payment_window_ends_at
from bp.cart.services.payment_errors import PaymentProviderUnavailable
from config.settings import Settings
from models import OPEN_STATUSES
from services.contracts.dtos import CartIdentity
from services.registry import DomainServices
from services.sumup import PaymentGateway

# The pending page asks again every 3 s; after this many tries it stops and says so.
MAX_POLLS = 60


@dataclass(frozen=True)
class ReturnView:
    """The order (with its items) and how the return page presents it."""

    order: OrderRow
    # "paid", "failed" (may pay again), "pending" (SumUp has not confirmed yet), "mismatch"
    # (SumUp took a payment that does not match the order: the coop looks into it) or "closed".
    state: str
    # SumUp could not be asked just now: still "pending", never "failed".
    unreachable: bool = False
    # What a paid order delivered ("Your 2 tickets are confirmed."); None when nothing to say.
    confirmation: str | None = None
    # Until when a failed order is kept to pay again: its payment window's end.
    kept_until: datetime | None = None

    @property
    def held(self) -> str | None:
        """What a failed order keeps for its shopper ("its booking"), by its lines."""
        return held_phrase(**_claim_counts(self.order))

    @property
    def released(self) -> str | None:
        """What a closed order gave back to the cart ("Its 2 tickets are back in your cart.")."""
        return released_message(**_claim_counts(self.order))


def _claim_counts(order: OrderRow) -> dict[str, int]:
    kinds = [item.kind for item in order.items]
    return {"bookings": kinds.count("booking"), "tickets": kinds.count("ticket")}


async def return_view(
    session: AsyncSession,
    *,
    order_id: int,
    identity: CartIdentity | None,
    settings: Settings,
    gateway: PaymentGateway,
    domains: DomainServices,
) -> ReturnView:
    """Settle the shopper's order by SumUp if it is still open, and say where it stands."""
    # Read alone in autocommit (no transaction is open here): one statement, no BEGIN.
    order = await _owned_order_or_raise(session, order_id=order_id, identity=identity)
    unreachable = False
    if order.status in OPEN_STATUSES and order.payment_mismatch_at is None:
        try:
            await check_sumup_status(
                session,
                order_id=order_id,
                settings=settings,
                gateway=gateway,
                domains=domains,
                source="return",
            )
        except PaymentProviderUnavailable:
            unreachable = True
        order = await _owned_order_or_raise(session, order_id=order_id, identity=identity)
    state = _state(order)
    confirmation = None
    if state == "paid":
        confirmation = await _confirmation(session, order=order, domains=domains)
    kept_until = payment_window_ends_at(order, settings) if state == "failed" else None
    return ReturnView(
        order=order,
        state=state,
        unreachable=unreachable,
        confirmation=confirmation,
        kept_until=kept_until,
    )


async def _owned_order_or_raise(
    session: AsyncSession, *, order_id: int, identity: CartIdentity | None
) -> OrderRow:
    order = await read_owned_order(session, order_id=order_id, identity=identity)
    if order is None:
        raise OrderNotFound()
    return order


async def _confirmation(
    session: AsyncSession, *, order: OrderRow, domains: DomainServices
) -> str | None:
    """What the paid order's bookings and tickets came to, by their states now."""
    kinds = {item.kind for item in order.items}
    if not kinds & {"booking", "ticket"}:
        return None
    # Counted in one read, alone in autocommit (no transaction is open here).
    bookings, tickets = await domains.calendar.delivered_for_order(session, order_id=order.id)
    return confirmed_message(
        bookings=bookings if "booking" in kinds else 0,
        tickets=tickets if "ticket" in kinds else 0,
    )


def _state(order: OrderRow) -> str:
    if order.status == "paid":
        return "paid"
    if order.payment_mismatch_at is not None:
        return "mismatch"
    return order.status if order.status in ("failed", "pending") else "closed"
