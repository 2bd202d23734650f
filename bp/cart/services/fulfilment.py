"""Fulfilment of a paid order: confirm its bookings and tickets, take back what a late payment
can still have, flag for a refund what was oversold or taken meanwhile, clear the cart lines it
bought, and write `order.paid`; all in one transaction with the order row locked, once.

Reached only from settlement (check_sumup_status.py), once SumUp's checkout is known to be
this order's and paid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import BigInteger, Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.clear_cart_for_order import clear_cart_for_order
from bp.cart.services.order_events import ORDER_PAID, emit_order_event
from bp.cart.services.order_messages import refund_reason
from bp.cart.services.order_rows import OrderLine, OrderRow, lock_order_with_items
from bp.cart.services.order_state import OrderNotFound, undelivered_items
from bp.cart.services.places_at_commit import PlacesRule, checked_at_commit, set_places_rule
from config.settings import Settings
from lib.db import Query, execute_in_transaction, rolled_back_on_error
from lib.localtime import format_local_datetime
from lib.money import format_money, total
from models import CLOSED_STATUSES, Order
from services.contracts.dtos import EntryConfirmation, TicketConfirmation
from services.contracts.ownership import owner_of
from services.events import withdraw_event
from services.registry import DomainServices
from services.sumup import CheckoutStatus, SumUpCheckout

log = logging.getLogger(__name__)


# The paid transition of a locked order, and the refund flag of what it cannot deliver: built
# once, run in the fulfilment's transaction with no ORM object to flush.
_ORDERS = cast(Table, Order.__table__)
_MARK_PAID = Query(
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id", type_=BigInteger))
    .values(
        status="paid",
        paid_at=bindparam("paid_at"),
        sumup_status=CheckoutStatus.PAID.value,
        sumup_checkout_id=bindparam("checkout_id"),
        sumup_hosted_url=bindparam("hosted_url"),
        sumup_transaction_id=bindparam("transaction_id"),
        sumup_transaction_code=bindparam("transaction_code"),
        closed_at=None,
        updated_at=bindparam("paid_at"),
    )
    .returning(set_places_rule())
)
_FLAG_REFUND = Query(
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id", type_=BigInteger))
    .values(
        needs_refund=True,
        refund_reason=bindparam("reason"),
        updated_at=bindparam("now"),
    )
)


async def fulfil_payment(
    session: AsyncSession,
    *,
    order_id: int,
    checkout: SumUpCheckout,
    settings: Settings,
    domains: DomainServices,
    source: str,
) -> bool:
    """The paid transition, in one transaction with the order locked; a no-op the second time.
    Answers whether this call made the order paid."""
    # What it paid for may no longer fit: then it is confirmed again under the places' locks,
    # up to what is left, and the rest flagged for a refund.
    return await checked_at_commit(
        lambda at_commit: _fulfil(
            session,
            order_id=order_id,
            checkout=checkout,
            settings=settings,
            domains=domains,
            source=source,
            places_at_commit=at_commit,
        ),
        work=f"order {order_id}'s settlement",
    )


async def _fulfil(
    session: AsyncSession,
    *,
    order_id: int,
    checkout: SumUpCheckout,
    settings: Settings,
    domains: DomainServices,
    source: str,
    places_at_commit: bool,
) -> bool:
    """`fulfil_payment` once. With `places_at_commit`, an order that still holds its claims
    has them confirmed with no lock, and the commit checks that they fit (refusing it when
    they do not); otherwise its places are locked and counted first."""
    async with rolled_back_on_error(session):
        # The order row locked and its lines, in one statement.
        locked = await lock_order_with_items(session, order_id)
        if locked is None:
            raise OrderNotFound()
        if locked.status == "paid":
            await session.commit()
            return False
        previous = locked.status
        transaction = checkout.successful_transaction()
        now = datetime.now(UTC)
        order = replace(
            locked,
            status="paid",
            paid_at=now,
            sumup_status=CheckoutStatus.PAID.value,
            sumup_checkout_id=checkout.id,
            sumup_hosted_url=checkout.hosted_checkout_url or locked.sumup_hosted_url,
            sumup_transaction_id=transaction.id if transaction else None,
            sumup_transaction_code=transaction.code if transaction else None,
            closed_at=None,
        )
        claims = any(item.kind in ("booking", "ticket") for item in order.items)
        # An order paid after it closed claims its places again first: those are counted.
        places_rule = (
            PlacesRule.PAYMENT
            if places_at_commit and claims and previous not in CLOSED_STATUSES
            else PlacesRule.LOCKED_FIRST
        )
        await execute_in_transaction(
            session,
            _MARK_PAID,
            {
                "places_rule": places_rule.value,
                "order_id": order_id,
                "paid_at": now,
                "checkout_id": order.sumup_checkout_id,
                "hosted_url": order.sumup_hosted_url,
                "transaction_id": order.sumup_transaction_id,
                "transaction_code": order.sumup_transaction_code,
            },
        )
        items = order.items
        if previous in CLOSED_STATUSES:
            # The payment raced the expiry: take back what is still free; the rest is refunded.
            await _reclaim(session, order=order, items=items, domains=domains)
        await clear_cart_for_order(session, order=order, items=items)
        # Written before the places are locked, as an order that delivers everything: every
        # other checkout and settlement of an event waits while one holds its places, so
        # those are held for their confirmation and the commit alone. Written again below
        # when something could not be delivered.
        await _emit_paid(session, order=order, items=items, settings=settings)
        calendar = domains.calendar
        # Slots, then ticket types: the order checkout locks them in, so neither waits on the
        # other in a circle. An order claims only the bookings and tickets it has lines for.
        bookings, tickets = EntryConfirmation(), TicketConfirmation()
        if places_rule is PlacesRule.PAYMENT:
            bookings, tickets = await calendar.confirm_claims_for_order(session, order_id=order_id)
        elif any(item.kind == "booking" for item in items):
            bookings = await calendar.confirm_entries_for_order(session, order_id=order_id)
            if bookings.overbooked:
                await calendar.cancel_entries_for_order(
                    session, order_id=order_id, entry_ids=bookings.overbooked
                )
        if places_rule is PlacesRule.LOCKED_FIRST and any(item.kind == "ticket" for item in items):
            tickets = await calendar.confirm_tickets_for_order(session, order_id=order_id)
        if tickets.oversold:
            await calendar.cancel_tickets_for_order(
                session, order_id=order_id, ticket_ids=[t.id for t in tickets.oversold]
            )
        reason = await _undelivered_reason(
            session,
            order=order,
            items=items,
            settings=settings,
            domains=domains,
            delivered=(bookings.booked, tickets.paid),
        )
        if reason is not None:
            await execute_in_transaction(
                session,
                _FLAG_REFUND,
                {"order_id": order_id, "reason": reason, "now": datetime.now(UTC)},
            )
            order = replace(order, needs_refund=True, refund_reason=reason)
            await withdraw_event(session, event_type=ORDER_PAID, object_id=str(order_id))
            await _emit_paid(session, order=order, items=items, settings=settings)
        await session.commit()
    log.info(
        "order %s paid (%s, was %s): transaction %s%s",
        order_id,
        source,
        previous,
        order.sumup_transaction_code,
        " — NEEDS REFUND: " + (order.refund_reason or "") if order.needs_refund else "",
    )
    return True


async def _emit_paid(
    session: AsyncSession, *, order: OrderRow, items: Sequence[OrderLine], settings: Settings
) -> None:
    await emit_order_event(
        session,
        settings=settings,
        order=order,
        items=items,
        event_type=ORDER_PAID,
        activity_type="rose:OrderPaid",
    )


async def _reclaim(
    session: AsyncSession, *, order: OrderRow, items: Sequence[OrderLine], domains: DomainServices
) -> None:
    """Claim again the order's bookings and tickets that went back to its owner's cart."""
    calendar = domains.calendar
    identity = owner_of(order)
    entry_ids = [item.ref_id for item in items if item.kind == "booking"]
    pending_entries = {
        entry.id
        for entry in await calendar.pending_entries(session, identity=identity)
        if entry.id in entry_ids
    }
    if pending_entries:
        await calendar.claim_entries_for_order(
            session, order_id=order.id, identity=identity, entry_ids=sorted(pending_entries)
        )
    ticket_ids = [item.ref_id for item in items if item.kind == "ticket"]
    if ticket_ids and order.user_id is not None:
        pending_tickets = {
            ticket.id
            for ticket in await calendar.pending_tickets(session, user_id=order.user_id)
            if ticket.id in ticket_ids
        }
        if pending_tickets:
            await calendar.claim_tickets_for_order(
                session,
                order_id=order.id,
                user_id=order.user_id,
                ticket_ids=sorted(pending_tickets),
            )


async def _undelivered_reason(
    session: AsyncSession,
    *,
    order: OrderRow,
    items: Sequence[OrderLine],
    settings: Settings,
    domains: DomainServices,
    delivered: tuple[frozenset[int], frozenset[int]],
) -> str | None:
    """Why the order needs a refund: the bookings and tickets it paid for but cannot have;
    None when it has them all. `delivered`: its bookings confirmed and its tickets paid for,
    as its confirmations left them."""
    missing = await undelivered_items(
        session, order_id=order.id, items=items, domains=domains, delivered=delivered
    )
    if not missing:
        return None
    amount = total(item.line_total for item in missing)
    starts = {}
    if any(item.kind == "booking" for item in missing):
        starts = {
            entry.id: entry.start_at
            for entry in await domains.calendar.entries_for_order(session, order_id=order.id)
        }
    bookings = []
    for item in missing:
        if item.kind != "booking":
            continue
        start = starts.get(item.ref_id)
        when = format_local_datetime(start, zone_name=settings.time_zone, locale=settings.locale)
        bookings.append(f"“{item.title}” ({when})" if start is not None else f"“{item.title}”")
    return refund_reason(
        bookings=bookings,
        tickets=[item.title for item in missing if item.kind == "ticket"],
        others=[item.title for item in missing if item.kind not in ("booking", "ticket")],
        amount=format_money(amount, order.currency, locale=settings.locale),
    )
