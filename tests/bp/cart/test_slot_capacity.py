"""A bookable session has a capacity: bookings count when ordered or confirmed, a full session is
refused at checkout (naming it, in the coop's local time), and at payment, under a lock on the
slot, a booking that lost the race is cancelled and its paid order marked for a refund."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.runtime import runtime
from models import CalendarEntry, CalendarSlot, Order
from tests.support import factories as f
from tests.support.checkout import (
    all_orders,
    anonymous_shopper,
    pay_on_hosted_page,
    payment_deps,
    payments_config,
    post_checkout,
    state_of,
    text,
)
from tests.support.http import sign_in

# 19:00 in London on a Saturday in British Summer Time (18:00 UTC).
SUMMER_EVENING = datetime(2027, 7, 3, 18, 0, tzinfo=UTC)
SUMMER_EVENING_TEXT = "Sat, 3 Jul 2027, 19:00 BST"


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def one_place_session(db: AsyncSession, *, capacity: int = 1) -> CalendarSlot:
    bakery = await f.page(db, "bakery", "The Bakery")
    calendar = await f.calendar(db, bakery, "Baking classes")
    return await f.slot(
        db, calendar, capacity=capacity, name="Bread class", start_at=SUMMER_EVENING
    )


async def shopper(app: Quart, user_id: int) -> Any:
    client = app.test_client()
    await sign_in(app, client, user_id)
    return client


async def booked_count(db: AsyncSession, slot_id: int, state: str) -> int:
    return int(
        await db.scalar(
            select(func.count())
            .select_from(CalendarEntry)
            .where(CalendarEntry.slot_id == slot_id, CalendarEntry.state == state)
            .execution_options(populate_existing=True)
        )
        or 0
    )


async def test_a_full_session_is_refused_at_checkout_naming_it_in_local_time(
    app: Quart, db: AsyncSession
) -> None:
    slot = await one_place_session(db)
    await f.slot_booking(db, slot, user_id=99, state="confirmed")
    mine = await f.slot_booking(db, slot, user_id=7)
    client = await shopper(app, 7)

    response = await post_checkout(app, client, "bakery")

    html = await text(response)
    assert response.status_code == 409
    assert f"“Bread class” on {SUMMER_EVENING_TEXT} is fully booked" in html
    assert await all_orders(db) == []
    assert await state_of(db, CalendarEntry, mine.id) == "pending"


async def test_an_ordered_booking_holds_its_place_and_a_cancelled_one_does_not(
    app: Quart, db: AsyncSession
) -> None:
    slot = await one_place_session(db, capacity=2)
    await f.slot_booking(db, slot, user_id=98, state="ordered", order_id=1)
    await f.slot_booking(db, slot, user_id=97, state="cancelled")
    await f.slot_booking(db, slot, user_id=96)
    await f.slot_booking(db, slot, user_id=7)
    await f.slot_booking(db, slot, user_id=7)
    domains = runtime(app).domains

    left = await domains.calendar.slot_availability(db, slot_ids=[slot.id])
    client = await shopper(app, 7)
    response = await post_checkout(app, client, "bakery")

    assert left == {slot.id: 1}
    assert response.status_code == 409
    assert (
        f"Only 1 place is left at “Bread class” on {SUMMER_EVENING_TEXT}, and your cart has 2"
        in await text(response)
    )


async def test_a_session_without_a_capacity_is_never_full(app: Quart, db: AsyncSession) -> None:
    slot = await one_place_session(db)
    await db.execute(update(CalendarSlot).values(capacity=None))
    await db.commit()
    for user_id in (90, 91, 92):
        await f.slot_booking(db, slot, user_id=user_id, state="confirmed")
    sid = "anon-unlimited"
    client = app.test_client()
    await anonymous_shopper(app, client, sid)
    await f.slot_booking(db, slot, session_id=sid)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303


@pytest.mark.slow
async def test_two_shoppers_racing_for_the_last_place_get_it_once(
    app: Quart, db: AsyncSession
) -> None:
    slot = await one_place_session(db)
    first = await f.slot_booking(db, slot, user_id=7)
    second = await f.slot_booking(db, slot, user_id=8)
    clients = [await shopper(app, 7), await shopper(app, 8)]

    # Both press "Check out" at once: two requests, each on its own database connection.
    responses = await asyncio.gather(*(post_checkout(app, c, "bakery") for c in clients))

    codes = sorted(r.status_code for r in responses)
    assert codes == [303, 409], codes
    winner = next(i for i, r in enumerate(responses) if r.status_code == 303)
    loser = 1 - winner
    assert "is fully booked" in await text(responses[loser])
    [order] = await all_orders(db)
    assert order.user_id == (7, 8)[winner]
    states = {await state_of(db, CalendarEntry, e.id) for e in (first, second)}
    assert states == {"ordered", "pending"}

    await pay_on_hosted_page(responses[winner].headers["Location"])
    back = await clients[winner].get(f"/checkout/return/{order.id}/")
    assert "Your booking is confirmed." in await text(back)
    assert await booked_count(db, slot.id, "confirmed") == 1


@pytest.mark.slow
async def test_two_payments_racing_for_the_last_place_confirm_one_and_refund_the_other(
    app: Quart, db: AsyncSession
) -> None:
    slot = await one_place_session(db, capacity=2)
    bookings = [await f.slot_booking(db, slot, user_id=u) for u in (7, 8)]
    clients = [await shopper(app, 7), await shopper(app, 8)]
    for client in clients:
        response = await post_checkout(app, client, "bakery")
        assert response.status_code == 303, await text(response)
        await pay_on_hosted_page(response.headers["Location"])
    # The events app takes a place away (a tutor fell ill) while both payments are in flight.
    await db.execute(update(CalendarSlot).where(CalendarSlot.id == slot.id).values(capacity=1))
    await db.commit()
    orders = await all_orders(db)
    deps = payment_deps(app)
    sessionmaker = runtime(app).databases.sessionmaker

    async def settle(order_id: int) -> str:
        async with sessionmaker() as session:
            settlement = await check_sumup_status(session, order_id=order_id, source="race", **deps)
            return settlement.status

    # Both webhooks land at once, each settled on its own connection.
    statuses = await asyncio.gather(*(settle(order.id) for order in orders))

    assert statuses == ["paid", "paid"]
    states = [await state_of(db, CalendarEntry, b.id) for b in bookings]
    assert sorted(states) == ["cancelled", "confirmed"]
    refunded = [await db.get(Order, order.id, populate_existing=True) for order in orders]
    flagged = [order for order in refunded if order is not None and order.needs_refund]
    assert len(flagged) == 1
    assert flagged[0].refund_reason == (
        f"Fully booked when your payment arrived: “Bread class” ({SUMMER_EVENING_TEXT}). "
        "We will refund £12.00 to your card."
    )
    loser = next(i for i, order in enumerate(orders) if order.id == flagged[0].id)
    page = await text(await clients[loser].get(f"/checkout/return/{orders[loser].id}/"))
    assert "Fully booked when your payment arrived" in page
    assert "is confirmed" not in page
    winner = 1 - loser
    winner_page = await text(await clients[winner].get(f"/checkout/return/{orders[winner].id}/"))
    assert "Your booking is confirmed." in winner_page
