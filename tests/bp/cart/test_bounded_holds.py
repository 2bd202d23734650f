"""An order holds its tickets and places for a bounded time from its creation and a bounded
number of payment attempts, however often it is paid again or checked out again; then they
are released, and the page says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarEntry, Order
from tests.support.checkout import (
    all_orders,
    fresh,
    only_order,
    payments_config,
    post_checkout,
    post_form,
    shop_with_cart,
    text,
)
from tests.support.http import sign_in
from tests.support.standin import StandinControl

HOLD_MINUTES = 120
MAX_ATTEMPTS = 5


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def open_order(app: Quart, client: Any, db: AsyncSession) -> tuple[Order, int]:
    """User 7's bakery order, waiting for payment; and its booking's id."""
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    return await only_order(db), shop.booking.id


async def age(db: AsyncSession, order_id: int, *, made: float, attempt_started: float) -> None:
    """Move the order's creation and its current attempt's start back (minutes)."""
    now = datetime.now(UTC)
    await db.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(
            created_at=now - timedelta(minutes=made),
            checkout_started_at=now - timedelta(minutes=attempt_started),
        )
    )
    await db.commit()


async def test_paying_again_past_the_longest_hold_releases_the_claims(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order, booking_id = await open_order(app, client, db)
    first_checkout = str(order.sumup_checkout_id)
    # Paid again every 25 minutes or so since it was made, the hold is over.
    await age(db, order.id, made=HOLD_MINUTES + 5, attempt_started=40)

    response = await post_form(app, client, f"/orders/{order.id}/pay/")

    assert response.status_code == 409
    page = await text(response)
    assert "held" in page and "back in your cart" in page
    closed = await only_order(db)
    assert closed.status == "expired" and closed.attempt == 1
    booking = await fresh(db, CalendarEntry, booking_id)
    assert (booking.state, booking.order_id) == ("pending", None)
    assert (await sumup_standin_control.checkout(first_checkout))["status"] == "EXPIRED"
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_paying_again_after_the_last_attempt_releases_the_claims(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order, booking_id = await open_order(app, client, db)
    await db.execute(update(Order).where(Order.id == order.id).values(attempt=MAX_ATTEMPTS))
    await db.commit()
    await age(db, order.id, made=50, attempt_started=40)

    response = await post_form(app, client, f"/orders/{order.id}/pay/")

    assert response.status_code == 409
    assert "back in your cart" in await text(response)
    assert (await only_order(db)).status == "expired"
    assert (await fresh(db, CalendarEntry, booking_id)).state == "pending"
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_an_attempt_within_the_bounds_is_still_made(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order, booking_id = await open_order(app, client, db)
    await age(db, order.id, made=100, attempt_started=40)

    response = await post_form(app, client, f"/orders/{order.id}/pay/")

    assert response.status_code == 303
    again = await only_order(db)
    assert (again.status, again.attempt) == ("pending", 2)
    # Its hosted page ends with the hold (two hours from the order's creation), sooner than
    # its session's thirty minutes.
    checkout = await sumup_standin_control.checkout(str(again.sumup_checkout_id))
    valid_until = datetime.fromisoformat(checkout["valid_until"].replace("Z", "+00:00"))
    hold_end = again.created_at + timedelta(minutes=HOLD_MINUTES)
    assert abs((valid_until - hold_end).total_seconds()) < 5
    assert (await fresh(db, CalendarEntry, booking_id)).order_id == again.id


async def test_checking_out_again_past_the_longest_hold_releases_the_claims(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order, booking_id = await open_order(app, client, db)
    # Under five minutes left on its page: checking out again would replace it.
    await age(db, order.id, made=HOLD_MINUTES + 5, attempt_started=27)

    refused = await post_checkout(app, client, "bakery")

    assert refused.status_code == 409
    assert "back in your cart" in await text(refused)
    assert (await only_order(db)).status == "cancelled"
    assert (await fresh(db, CalendarEntry, booking_id)).state == "pending"
    # Released, they are anyone's: checking out again is a new order, checked like any other.
    again = await post_checkout(app, client, "bakery")
    assert again.status_code == 303
    old, new = await all_orders(db)
    assert (old.status, new.status) == ("cancelled", "pending")
    assert (await fresh(db, CalendarEntry, booking_id)).order_id == new.id


async def test_a_replacing_order_keeps_the_hold_of_the_order_it_replaces(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order, _ = await open_order(app, client, db)
    await age(db, order.id, made=100, attempt_started=27)
    replaced_created = (await only_order(db)).created_at

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303
    old, new = await all_orders(db)
    assert old.status == "cancelled" and new.status == "pending"
    assert new.hold_started_at == replaced_created
    checkout = await sumup_standin_control.checkout(str(new.sumup_checkout_id))
    valid_until = datetime.fromisoformat(checkout["valid_until"].replace("Z", "+00:00"))
    assert (
        abs((valid_until - (replaced_created + timedelta(minutes=HOLD_MINUTES))).total_seconds())
        < 5
    )


async def test_the_order_page_says_how_long_its_claims_are_held(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order, _ = await open_order(app, client, db)

    page = await text(await client.get(f"/orders/{order.id}/"))

    assert 'id="order-hold"' in page
    assert "released" in page and f"{MAX_ATTEMPTS} payment attempts" in page
