"""Cancelling a waiting order: SumUp's checkout deactivated first, then the claims back in the
cart; a payment that went through meanwhile wins; once only, however many ask at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.cancel_order import cancel_waiting_order
from bp.runtime import runtime
from models import CalendarEntry, Ticket
from tests.support.checkout import (
    all_orders,
    only_order,
    payment_deps,
    payments_config,
    post_form,
    state_of,
    text,
)
from tests.support.checkout import (
    checked_out_signed_in as checked_out,
)
from tests.support.http import sign_in
from tests.support.standin import StandinControl

CANCELLERS = 6


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def test_a_cancelled_order_closes_its_payment_page_and_gives_the_items_back(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await checked_out(app, client, db)
    order = await only_order(db)
    assert shop.ticket is not None
    assert await state_of(db, Ticket, shop.ticket.id) == "reserved"

    response = await post_form(app, client, f"/orders/{order.id}/cancel/")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/orders/{order.id}/"
    order = await only_order(db)
    assert order.status == "cancelled" and order.closed_at is not None
    hosted = await sumup_standin_control.checkout(str(order.sumup_checkout_id))
    assert hosted["status"] == "EXPIRED"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "pending"
    assert await state_of(db, Ticket, shop.ticket.id) == "pending"
    page = await text(await client.get(f"/orders/{order.id}/"))
    assert f"Order #{order.id} is cancelled and nothing was charged" in page
    cart = await text(await client.get("/bakery/"))
    assert "Bread class" in cart and "Harvest supper" in cart


async def test_an_order_paid_before_the_cancel_reached_sumup_is_paid_and_says_so(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await checked_out(app, client, db)
    order = await only_order(db)
    await sumup_standin_control.faults(drop_webhook=True)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    response = await post_form(app, client, f"/orders/{order.id}/cancel/")

    assert response.status_code == 303
    assert (await only_order(db)).status == "paid"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"
    page = await text(await client.get(f"/orders/{order.id}/"))
    assert f"Order #{order.id} was paid a moment ago, so it was not cancelled" in page


async def test_cancelling_twice_cancels_once(app: Quart, client: Any, db: AsyncSession) -> None:
    await checked_out(app, client, db)
    order_id = (await only_order(db)).id

    first = await cancel_waiting_order(db, order_id=order_id, **payment_deps(app))
    again = await cancel_waiting_order(db, order_id=order_id, **payment_deps(app))

    assert (first.status, first.cancelled_now, first.released) == ("cancelled", True, 2)
    assert (again.status, again.cancelled_now, again.released) == ("cancelled", False, 0)
    assert "already cancelled" in again.message


async def test_cancels_racing_on_several_connections_cancel_once(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await checked_out(app, client, db)
    order_id = (await only_order(db)).id
    sessionmaker = runtime(app).databases.sessionmaker

    async def cancel() -> Any:
        async with sessionmaker() as session:
            return await cancel_waiting_order(session, order_id=order_id, **payment_deps(app))

    results = await asyncio.gather(*(cancel() for _ in range(CANCELLERS)))

    assert [r.status for r in results] == ["cancelled"] * CANCELLERS
    assert sum(r.cancelled_now for r in results) == 1
    assert sum(r.released for r in results) == 2
    assert [o.status for o in await all_orders(db)] == ["cancelled"]
    assert await state_of(db, CalendarEntry, shop.booking.id) == "pending"


async def test_a_closed_order_is_left_as_it_is(app: Quart, client: Any, db: AsyncSession) -> None:
    await checked_out(app, client, db)
    order_id = (await only_order(db)).id
    await cancel_waiting_order(db, order_id=order_id, **payment_deps(app))

    response = await post_form(app, client, f"/orders/{order_id}/cancel/")

    assert response.status_code == 303
    page = await text(await client.get(f"/orders/{order_id}/"))
    assert f"Order #{order_id} was already cancelled" in page


async def test_only_the_owner_may_cancel(app: Quart, client: Any, db: AsyncSession) -> None:
    await checked_out(app, client, db, user_id=7)
    order_id = (await only_order(db)).id
    await sign_in(app, client, 8)

    response = await post_form(app, client, f"/orders/{order_id}/cancel/")

    assert response.status_code == 404
    assert (await only_order(db)).status == "pending"
