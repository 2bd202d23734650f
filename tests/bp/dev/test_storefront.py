"""GET /dev/shop: products, bookable slots and event tickets going into the cart."""

from __future__ import annotations

import re
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from models import CalendarEntry, Ticket
from tests.bp.cart.helpers import anonymous_cart, badge_counts, form_with_token, htmx, text
from tests.support import factories as f
from tests.support.http import sign_in


async def shop_data(db: AsyncSession) -> dict[str, Any]:
    bakery = await f.page(db, "bakery", "The Bakery")
    hall = await f.page(db, "hall", "Community Hall")
    loaf = await f.product(db, bakery, "Sourdough loaf", "4.50")
    slot = await f.slot(db, await f.calendar(db, bakery), cost="12.00")
    event = await f.event(db, await f.calendar(db, hall), "Folk night")
    standard = await f.ticket_type(db, event, "Standard", cost="12.00", capacity=5)
    friends = await f.ticket_type(db, event, "Friends", cost=None, capacity=None)
    return {"loaf": loaf, "slot": slot, "event": event, "standard": standard, "friends": friends}


async def test_the_shop_lists_products_slots_and_ticket_types(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await shop_data(db)
    # Sold: reserved, confirmed and checked in; pending (in a cart) and cancelled are not.
    for state in ("reserved", "confirmed", "checked_in", "pending", "pending", "cancelled"):
        await f.ticket(db, data["standard"], user_id=9, state=state)

    html = await text(await client.get("/dev/shop"))

    assert f'data-testid="add-{data["loaf"].slug}"' in html
    assert f'hx-post="/add/{data["loaf"].id}/?next=/dev/shop"' in html
    assert f'data-testid="book-slot-{data["slot"].id}"' in html
    assert re.search(rf'data-testid="available-{data["standard"].id}">\s*2 left', html)
    assert re.search(rf'data-testid="available-{data["friends"].id}">\s*Tickets available', html)
    assert "£10.00" in html  # the event's ticket price for a type without a cost
    assert f'data-testid="sign-in-to-buy-{data["standard"].id}"' in html
    assert "buy-ticket-type-" not in html
    assert badge_counts(html) == [0]


async def test_signed_in_shoppers_get_buy_buttons(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await shop_data(db)
    await sign_in(app, client, 1)

    html = await text(await client.get("/dev/shop"))

    assert f'data-testid="buy-ticket-type-{data["standard"].id}"' in html


async def test_book_puts_a_pending_booking_in_the_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await shop_data(db)
    await anonymous_cart(app, client)

    response = await client.post(
        f"/dev/shop/slots/{data['slot'].id}/book", headers=htmx(app, client)
    )
    again = await client.post(f"/dev/shop/slots/{data['slot'].id}/book", headers=htmx(app, client))
    shop = await text(await client.get("/dev/shop"))

    html = await text(response)
    assert response.status_code == 200
    assert "Booked Taster session: it is in your cart." in html
    assert badge_counts(html) == [1]
    entry = (
        await db.execute(select(CalendarEntry).where(CalendarEntry.slot_id.is_not(None)))
    ).scalar_one()
    assert (entry.state, entry.session_id, entry.slot_id) == (
        "pending",
        "anon-cart-1",
        data["slot"].id,
    )
    assert again.status_code == 409
    assert "Taster session is already in your cart." in await text(again)
    assert "In your cart" in shop


async def test_booking_an_unknown_slot_is_not_found(app: Quart, client: Any) -> None:
    response = await client.post("/dev/shop/slots/424242/book", form=form_with_token(app, client))
    assert response.status_code == 404


async def test_buying_tickets_needs_sign_in(app: Quart, client: Any, db: AsyncSession) -> None:
    data = await shop_data(db)
    await anonymous_cart(app, client)
    path = f"/dev/shop/ticket-types/{data['standard'].id}/buy"

    fragment = await client.post(path, headers=htmx(app, client), form={"quantity": "2"})
    page = await client.post(path, form=form_with_token(app, client, quantity="2"))

    assert fragment.status_code == 401
    assert fragment.headers["HX-Retarget"] == "#alerts"
    html = await text(fragment)
    assert "sign in" in html.lower()
    # Signing in brings the shopper back to the event, not to the top of the shop.
    sign_in_link = f"/dev/sign-in?next=/dev/shop%23event-{data['event'].id}"
    assert f'href="{sign_in_link}"' in html
    # Seed 002 (the events app's "buy tickets"): a form POST renders no page, it redirects to
    # the sign-in page, which comes back to the event.
    assert page.status_code == 303
    assert page.headers["Location"] == sign_in_link
    sign_in_page = await text(await client.get(page.headers["Location"]))
    assert "sign in" in sign_in_page.lower()
    assert (await db.execute(select(Ticket))).first() is None


async def test_buy_puts_pending_tickets_in_the_users_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    data = await shop_data(db)
    await sign_in(app, client, 1)

    response = await client.post(
        f"/dev/shop/ticket-types/{data['standard'].id}/buy",
        headers=htmx(app, client),
        form={"quantity": "3"},
    )
    hall = await text(await client.get("/hall/"))

    html = await text(response)
    assert "Added 3 Standard tickets for Folk night to your cart." in html
    assert "If the event sells out before payment, you will be refunded." in html
    assert badge_counts(html) == [3]
    tickets = (await db.execute(select(Ticket))).scalars().all()
    assert [(t.state, t.user_id) for t in tickets] == [("pending", 1)] * 3
    assert len({t.code for t in tickets}) == 3
    assert "If the event sells out before payment, you will be refunded." in hall


@pytest.mark.parametrize(
    ("quantity", "status"), [("0", 400), ("11", 400), ("two", 400), ("", 200), ("10", 200)]
)
async def test_ticket_quantity_is_one_to_ten(
    app: Quart, client: Any, db: AsyncSession, quantity: str, status: int
) -> None:
    data = await shop_data(db)
    await sign_in(app, client, 1)

    response = await client.post(
        f"/dev/shop/ticket-types/{data['friends'].id}/buy",
        headers=htmx(app, client),
        form={"quantity": quantity},
    )

    assert response.status_code == status


async def test_a_sold_out_type_cannot_be_bought(app: Quart, client: Any, db: AsyncSession) -> None:
    data = await shop_data(db)
    for _ in range(5):
        await f.ticket(db, data["standard"], user_id=9, state="confirmed")
    await sign_in(app, client, 1)

    response = await client.post(
        f"/dev/shop/ticket-types/{data['standard'].id}/buy", headers=htmx(app, client)
    )
    shop = await text(await client.get("/dev/shop"))

    assert response.status_code == 409
    assert "Standard tickets for Folk night are sold out." in await text(response)
    assert re.search(rf'data-testid="available-{data["standard"].id}">\s*Sold out', shop)


async def test_the_storefront_exists_only_in_development(
    app_config: dict[str, Any], clean_state: None
) -> None:
    production_like = create_app({**app_config, "app_env": "test"})
    async with production_like.test_app():
        response = await production_like.test_client().get("/dev/shop")
    assert response.status_code == 404


async def test_the_sign_in_page_carries_the_cart_badge(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    await f.cart_item(db, product, session_id="anon-cart-1", quantity=2)
    await anonymous_cart(app, client)

    html = await text(await client.get("/dev/sign-in?next=/dev/shop"))

    assert badge_counts(html) == [2]
