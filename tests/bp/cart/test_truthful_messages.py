"""The return page and the order page say only what is true of that order: the right nouns for
its bookings and tickets, nothing about bookings for products alone, the refund when something
sold out."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import factories as f
from tests.support.checkout import (
    only_order,
    pay_on_hosted_page,
    payments_config,
    post_checkout,
    text,
)
from tests.support.http import sign_in


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def paid_order_pages(
    app: Quart,
    client: Any,
    db: AsyncSession,
    *,
    products: int = 0,
    bookings: int = 0,
    tickets: int = 0,
    ticket_capacity: int | None = 50,
    sold_meanwhile: int = 0,
) -> tuple[str, str]:
    """User 7 buys this much of the bakery and pays; answers the return page and the order page."""
    bakery = await f.page(db, "bakery", "The Bakery")
    for number in range(products):
        await f.cart_item(db, await f.product(db, bakery, f"Loaf {number}"), user_id=7)
    calendar = await f.calendar(db, bakery)
    for number in range(bookings):
        await f.booking(db, calendar, user_id=7, name=f"Class {number}")
    if tickets:
        event = await f.event(db, calendar, "Harvest supper")
        kind = await f.ticket_type(db, event, "Standard", capacity=ticket_capacity)
        for _ in range(tickets):
            await f.ticket(db, kind, user_id=7)
    await sign_in(app, client, 7)
    response = await post_checkout(app, client, "bakery")
    assert response.status_code == 303, await text(response)
    if sold_meanwhile:
        # Sold at the door while the shopper was paying.
        for _ in range(sold_meanwhile):
            await f.ticket(db, kind, user_id=99, state="confirmed")
    await pay_on_hosted_page(response.headers["Location"])
    order = await only_order(db)
    back = await text(await client.get(f"/checkout/return/{order.id}/"))
    page = await text(await client.get(f"/orders/{order.id}/"))
    assert "Thank you, your payment was received" in back
    return back, page


async def test_a_products_only_order_says_nothing_of_bookings_or_tickets(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    back, page = await paid_order_pages(app, client, db, products=2)
    for html in (back, page):
        assert "confirmed" not in html.lower()
        assert "booking" not in html.lower()
        assert "ticket" not in html.lower().replace("sumup transaction", "")


async def test_one_booking_is_named_alone(app: Quart, client: Any, db: AsyncSession) -> None:
    back, page = await paid_order_pages(app, client, db, products=1, bookings=1)
    assert "Your booking is confirmed." in back and "Your booking is confirmed." in page
    assert "ticket" not in back.lower()


async def test_two_tickets_are_counted(app: Quart, client: Any, db: AsyncSession) -> None:
    back, page = await paid_order_pages(app, client, db, tickets=2)
    assert "Your 2 tickets are confirmed." in back and "Your 2 tickets are confirmed." in page
    assert "booking" not in back.lower()


async def test_bookings_and_tickets_together(app: Quart, client: Any, db: AsyncSession) -> None:
    back, _ = await paid_order_pages(app, client, db, bookings=2, tickets=1)
    assert "Your 2 bookings and a ticket are confirmed." in back


async def test_a_sold_out_ticket_is_refunded_and_not_called_confirmed(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    back, page = await paid_order_pages(
        app, client, db, tickets=2, ticket_capacity=2, sold_meanwhile=1
    )
    assert "Your ticket is confirmed." in back
    assert "Sold out when your payment arrived: Harvest supper (Standard)." in back
    assert "We will refund £12.00 to your card." in back
    assert "Some tickets sold out before your payment completed; we will refund £12.00." in page
