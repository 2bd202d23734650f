"""A checkout's claims and a settlement's confirmations are checked when they commit.

Every other checkout and settlement of an event waits while one holds its slots' and ticket
types' locks, so neither takes them before its commit: the `orders_places_fit` constraint
trigger locks and counts them there (bp/cart/services/places_at_commit.py). When a place was
taken meanwhile, the commit is refused and the work is done again under the locks: the
checkout is answered as sold out, the settlement refunds what it could not deliver.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.checkout import create_order_from_cart
from bp.cart.services.page_cart import get_page_or_raise
from bp.runtime import runtime
from config.settings import load_settings
from lib.errors import ServiceError
from models import CalendarEntry, CalendarSlot, Order, Ticket, TicketType
from services.contracts.dtos import CartIdentity
from services.runtime import open_runtime
from tests.support import factories as f
from tests.support.checkout import (
    all_orders,
    events_of,
    only_order,
    payments_config,
    post_checkout,
    post_webhook,
    state_of,
)
from tests.support.checkout import text as body_text
from tests.support.http import sign_in
from tests.support.lock_waits import statement_waiting_for_a_lock
from tests.support.racing import START_TIMEOUT_SECONDS, racing_processes
from tests.support.standin import StandinControl
from tests.support.statements import with_transactions

USER_ID = 7
PROCESSES = 6
PLACES_LOCK = "FOR NO KEY UPDATE"


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


@dataclass
class Event:
    """A page whose cart holds a loaf, a class in a slot (unless not wanted) and a ticket."""

    slug: str
    ticket_type: TicketType
    ticket: Ticket
    slot: CalendarSlot | None
    booking: CalendarEntry | None


async def event_in_cart(
    db: AsyncSession, *, tickets: int = 10, places: int = 10, bookings: bool = True
) -> Event:
    page = await f.page(db, "bakery", "The Bakery")
    calendar = await f.calendar(db, page, "Baking classes")
    await f.cart_item(db, await f.product(db, page, "Sourdough loaf", "4.50"), user_id=USER_ID)
    event = await f.event(db, calendar, "Harvest supper")
    ticket_type = await f.ticket_type(db, event, "Standard", cost="12.00", capacity=tickets)
    ticket = await f.ticket(db, ticket_type, user_id=USER_ID)
    slot = booking = None
    if bookings:
        slot = await f.slot(db, calendar, capacity=places, days_ahead=2, name="Bread class")
        booking = await f.slot_booking(db, slot, user_id=USER_ID)
    return Event("bakery", ticket_type, ticket, slot, booking)


@asynccontextmanager
async def places_held(app: Quart) -> AsyncIterator[AsyncSession]:
    """Every slot and ticket type locked by another transaction, as a checkout or settlement
    in progress holds them; it ends (releasing them) when it commits or the block ends."""
    async with runtime(app).databases.sessionmaker() as other:
        for model in (CalendarSlot, TicketType):
            await other.execute(select(model.id).order_by(model.id).with_for_update(key_share=True))
        yield other
        await other.rollback()


async def paid_order(app: Quart, client: Any, db: AsyncSession, standin: StandinControl) -> Order:
    await sign_in(app, client, USER_ID)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    await standin.pay(str(order.sumup_checkout_id))
    return order


async def test_a_checkout_waits_for_its_places_only_at_its_commit(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await event_in_cart(db)
    await sign_in(app, client, USER_ID)

    async with places_held(app) as other:
        with with_transactions(app) as sent:
            checkout = asyncio.create_task(post_checkout(app, client, "bakery"))
            waiting = await statement_waiting_for_a_lock(db)
            await other.rollback()
            response = await checkout

    assert waiting == "COMMIT"
    assert response.status_code == 303, await body_text(response)
    assert not [statement for statement in sent if PLACES_LOCK in statement]
    order = await only_order(db)
    assert order.status == "pending"
    claimed = await db.scalar(select(func.count()).where(Ticket.order_id == order.id))
    assert claimed == 1


@pytest.mark.parametrize("bookings", [False, True], ids=["tickets", "tickets-and-bookings"])
async def test_a_settlement_waits_for_its_places_only_at_its_commit(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl, bookings: bool
) -> None:
    shop = await event_in_cart(db, bookings=bookings)
    order = await paid_order(app, client, db, sumup_standin_control)
    ticket_id = shop.ticket.id
    booking_id = shop.booking.id if shop.booking is not None else None

    async with places_held(app) as other:
        with with_transactions(app) as sent:
            settlement = asyncio.create_task(post_webhook(app, order))
            waiting = await statement_waiting_for_a_lock(db)
            await other.rollback()
            response = await settlement

    assert waiting == "COMMIT"
    assert response.status_code == 204
    assert not [statement for statement in sent if PLACES_LOCK in statement]
    settled = await only_order(db)
    assert settled.status == "paid" and not settled.needs_refund
    assert await state_of(db, Ticket, ticket_id) == "confirmed"
    if booking_id is not None:
        assert await state_of(db, CalendarEntry, booking_id) == "confirmed"


async def test_the_last_ticket_taken_while_a_checkout_commits_is_answered_sold_out(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await event_in_cart(db, tickets=1, bookings=False)
    ticket_id = shop.ticket.id
    await sign_in(app, client, USER_ID)

    async with places_held(app) as door:
        checkout = asyncio.create_task(post_checkout(app, client, "bakery"))
        assert await statement_waiting_for_a_lock(db) == "COMMIT"
        # The last ticket goes at the door meanwhile.
        await f.ticket(door, shop.ticket_type, user_id=99, state="confirmed")
    response = await checkout

    assert response.status_code == 409
    assert "sold out" in await body_text(response)
    assert await all_orders(db) == []
    assert await state_of(db, Ticket, ticket_id) == "pending"


async def test_the_last_place_taken_while_a_checkout_commits_is_answered_fully_booked(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await event_in_cart(db, places=1)
    assert shop.slot is not None and shop.booking is not None
    booking_id = shop.booking.id
    await sign_in(app, client, USER_ID)

    async with places_held(app) as door:
        checkout = asyncio.create_task(post_checkout(app, client, "bakery"))
        assert await statement_waiting_for_a_lock(db) == "COMMIT"
        await f.slot_booking(door, shop.slot, user_id=99, state="confirmed")
    response = await checkout

    assert response.status_code == 409
    assert "fully booked" in (await body_text(response)).lower()
    assert await all_orders(db) == []
    assert await state_of(db, CalendarEntry, booking_id) == "pending"


async def test_the_last_ticket_taken_while_a_settlement_commits_is_refunded_not_oversold(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await event_in_cart(db, tickets=1)
    order = await paid_order(app, client, db, sumup_standin_control)
    ticket_id = shop.ticket.id
    assert shop.booking is not None
    booking_id = shop.booking.id
    type_id = shop.ticket_type.id
    # The shopper's reservation holds the only ticket; the door sells one over it, as staff
    # can, while the payment settles.
    async with places_held(app) as door:
        settlement = asyncio.create_task(post_webhook(app, order))
        assert await statement_waiting_for_a_lock(db) == "COMMIT"
        await f.ticket(door, shop.ticket_type, user_id=99, state="confirmed")
    response = await settlement

    assert response.status_code == 204
    settled = await only_order(db)
    assert settled.status == "paid" and settled.needs_refund
    assert settled.refund_reason and "Harvest supper (Standard)" in settled.refund_reason
    assert await state_of(db, Ticket, ticket_id) == "cancelled"
    assert await state_of(db, CalendarEntry, booking_id) == "confirmed"
    paid_tickets = await db.scalar(
        select(func.count()).where(
            Ticket.ticket_type_id == type_id, Ticket.state.in_(("confirmed", "checked_in"))
        )
    )
    assert paid_tickets == 1
    [paid] = await events_of(db, "order.paid", order.id)
    assert paid.payload["object"]["needsRefund"] is True


def checkout_in_process(
    config: dict[str, Any], user_id: int, ready: Any, start: Any, results: Any
) -> None:
    """A worker process: its own engine, then one shopper's checkout at the signal."""
    asyncio.run(_checkout_in_process(config, user_id, ready, start, results))


async def _checkout_in_process(
    config: dict[str, Any], user_id: int, ready: Any, start: Any, results: Any
) -> None:
    async with open_runtime(load_settings(config)) as services:
        try:
            async with services.databases.sessionmaker() as session:
                # The page read first warms the connection, so that after the start line
                # the checkouts really run at the same moment.
                page = await get_page_or_raise(session, slug="bakery", domains=services.domains)
                await session.commit()
                await asyncio.to_thread(ready.wait, START_TIMEOUT_SECONDS)
                await asyncio.to_thread(start.wait, START_TIMEOUT_SECONDS)
                made = await create_order_from_cart(
                    session,
                    identity=CartIdentity(user_id=user_id),
                    page=page,
                    settings=services.settings,
                    gateway=services.gateway,
                    domains=services.domains,
                )
            results.put(("order", made.order_id))
        except ServiceError as refused:
            results.put(("refused", refused.code.value))
        except Exception as error:  # reported to the test, which fails on it
            results.put(("error", repr(error)))


@pytest.mark.slow
async def test_processes_checking_out_at_once_take_only_the_tickets_there_are(
    app_config: dict[str, Any], db: AsyncSession
) -> None:
    # Six shoppers, each in a worker process of their own, check out the last three tickets
    # at the same moment: every claim is made with no lock, and the commits decide.
    page = await f.page(db, "bakery", "The Bakery")
    calendar = await f.calendar(db, page, "Baking classes")
    event = await f.event(db, calendar, "Harvest supper")
    ticket_type = await f.ticket_type(db, event, "Standard", cost="12.00", capacity=3)
    shoppers = [100 + n for n in range(PROCESSES)]
    for user_id in shoppers:
        await f.ticket(db, ticket_type, user_id=user_id)
    type_id = ticket_type.id

    async with racing_processes(
        checkout_in_process, [(app_config, user_id) for user_id in shoppers]
    ) as race:
        await race.ready()
        await race.go()
        outcomes = await race.results()

    assert race.exit_codes() == [0] * PROCESSES
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["order"] * 3 + ["refused"] * 3, outcomes
    assert {code for kind, code in outcomes if kind == "refused"} == {"TICKETS_SOLD_OUT"}
    orders = await all_orders(db)
    assert sorted(order.id for order in orders) == sorted(
        order_id for kind, order_id in outcomes if kind == "order"
    )
    states = (
        await db.execute(
            select(Ticket.state, func.count())
            .where(Ticket.ticket_type_id == type_id)
            .group_by(Ticket.state)
        )
    ).all()
    assert dict(states) == {"reserved": 3, "pending": 3}
