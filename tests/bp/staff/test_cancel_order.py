"""The staff cancel a waiting order through the console, against the SumUp stand-in: the
checkout is deactivated first, the claims go back to the shopper's cart, and a second cancel
(a double click, another member of staff) or an order not waiting is refused and audited."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarEntry, Ticket
from tests.bp.staff.test_actions import audit, post, staff_client
from tests.support import factories as f
from tests.support.checkout import (
    checked_out_signed_in,
    only_order,
    payments_config,
    state_of,
    text,
)
from tests.support.http import sign_in
from tests.support.standin import StandinControl

STAFF = 40


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def test_staff_cancel_a_waiting_order_once(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await checked_out_signed_in(app, client, db)
    assert shop.ticket is not None
    order = await only_order(db)
    staff = await staff_client(app, db)
    path = f"/staff/orders/{order.id}/cancel/"

    page = await text(await staff.get(f"/staff/orders/{order.id}/"))
    assert f'href="{path}"' in page
    confirm = await text(await staff.get(path))
    assert f"Cancel order #{order.id}" in confirm and 'id="confirm-cancel"' in confirm

    response = await post(app, staff, path)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/orders/{order.id}/?done=cancel_order"
    cancelled = await only_order(db)
    assert cancelled.status == "cancelled" and cancelled.closed_at is not None
    hosted = await sumup_standin_control.checkout(str(order.sumup_checkout_id))
    assert hosted["status"] == "EXPIRED"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "pending"
    assert await state_of(db, Ticket, shop.ticket.id) == "pending"
    assert await audit(db) == [("cancel_order", "done", order.id)]
    done = await text(await staff.get(f"/staff/orders/{order.id}/?done=cancel_order"))
    assert "The order is cancelled" in done and "Staff: cancel order by Cleo Dunn" in done
    assert "bookings and tickets put back in the cart: 2" in done and f'href="{path}"' not in done
    cart = await text(await client.get("/bakery/"))
    assert "Bread class" in cart and "Harvest supper" in cart

    again = await post(app, staff, path)

    assert again.status_code == 409
    assert f"Order #{order.id} is cancelled, so it was not cancelled" in await text(again)
    assert await audit(db) == [
        ("cancel_order", "done", order.id),
        ("cancel_order", "refused", order.id),
    ]


async def test_staff_cancels_at_the_same_moment_cancel_once(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await checked_out_signed_in(app, client, db)
    order = await only_order(db)
    staff = await staff_client(app, db)
    other = app.test_client()
    await sign_in(app, other, STAFF)
    path = f"/staff/orders/{order.id}/cancel/"

    answers = await asyncio.gather(post(app, staff, path), post(app, other, path))

    assert sorted(answer.status_code for answer in answers) == [303, 409]
    assert (await only_order(db)).status == "cancelled"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "pending"
    assert sorted(outcome for _, outcome, _ in await audit(db)) == ["done", "refused"]


async def test_an_order_paid_at_sumup_is_not_cancelled_by_the_staff(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await checked_out_signed_in(app, client, db)
    order = await only_order(db)
    staff = await staff_client(app, db)
    await sumup_standin_control.faults(drop_webhook=True)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    response = await post(app, staff, f"/staff/orders/{order.id}/cancel/")

    assert response.status_code == 409
    assert f"Order #{order.id} is paid, so it was not cancelled" in await text(response)
    assert (await only_order(db)).status == "paid"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"
    assert await audit(db) == [("cancel_order", "refused", order.id)]
    page = await text(await staff.get(f"/staff/orders/{order.id}/"))
    assert "/cancel/" not in page


async def test_an_order_not_waiting_is_refused_and_offers_no_cancel(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await f.order(db, user_id=7, status="expired")
    await db.commit()
    staff = await staff_client(app, db)

    page = await text(await staff.get(f"/staff/orders/{order.id}/"))
    confirm = await text(await staff.get(f"/staff/orders/{order.id}/cancel/"))
    response = await post(app, staff, f"/staff/orders/{order.id}/cancel/")

    assert 'id="cancel-link"' not in page
    assert "only an order waiting for payment can be cancelled" in confirm
    assert 'id="confirm-cancel"' not in confirm
    assert response.status_code == 409
    assert "is expired, so it was not cancelled" in await text(response)
    assert (await only_order(db)).status == "expired"
    assert await audit(db) == [("cancel_order", "refused", order.id)]
