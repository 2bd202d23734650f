"""The issue's acceptance: on the demo data, fill a cart from two pages, sign in, keep it all."""

from __future__ import annotations

import re
from typing import Any

from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from devtools.seed import seed_demo_data
from models import CalendarSlot, Product, TicketType
from tests.bp.cart.helpers import badge_counts, htmx, text
from tests.support.http import csrf_token


def amount(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]+)<', html)
    assert match, testid
    return match.group(1).strip()


async def test_anonymous_then_signed_in_shopper_keeps_everything(
    app: Quart, client: Any, db: AsyncSession, database_url: str
) -> None:
    assert await seed_demo_data(database_url)
    products = {p.slug: p for p in (await db.execute(select(Product))).scalars()}
    slot = (await db.execute(select(CalendarSlot).order_by(CalendarSlot.id))).scalars().first()
    standard = (
        await db.execute(select(TicketType).where(TicketType.name == "Standard"))
    ).scalar_one()
    assert slot is not None

    shop = await text(await client.get("/dev/shop"))
    assert 'data-testid="add-sourdough-loaf"' in shop
    headers = htmx(app, client)

    await client.post(
        f"/add/{products['sourdough-loaf'].id}/", headers=headers, form={"quantity": "2"}
    )
    await client.post(f"/add/{products['compost-bag'].id}/", headers=headers)
    booked = await client.post(f"/dev/shop/slots/{slot.id}/book", headers=headers)
    refused = await client.post(f"/dev/shop/ticket-types/{standard.id}/buy", headers=headers)
    assert badge_counts(await text(booked)) == [4]
    assert refused.status_code == 401

    signed_in = await client.post(
        "/dev/sign-in?next=/", form={"user_id": "1", "csrf_token": csrf_token(app, client)}
    )
    assert signed_in.status_code == 303
    overview = await text(await client.get("/"))
    assert "We kept the 4 items from before you signed in." in overview
    assert badge_counts(overview) == [4]

    bought = await client.post(
        f"/dev/shop/ticket-types/{standard.id}/buy",
        headers=htmx(app, client),
        form={"quantity": "2"},
    )
    assert badge_counts(await text(bought)) == [6]

    overview = await text(await client.get("/"))
    bakery = await text(await client.get("/bakery/"))
    garden = await text(await client.get("/garden/"))
    hall = await text(await client.get("/hall/"))
    assert amount(bakery, "page-subtotal") == "£9.00"
    assert amount(garden, "page-subtotal") == "£19.99"
    assert amount(garden, "bookings-total") == "£12.00"
    assert amount(hall, "tickets-total") == "£24.00"
    assert "If the event sells out before payment, you will be refunded." in hall
    assert amount(overview, "grand-total") == "£52.99"
    assert badge_counts(overview) == badge_counts(hall) == [6]

    # Signing out and in again changes nothing: the cart is the user's now.
    await client.post("/dev/sign-out", form={"csrf_token": csrf_token(app, client)})
    assert badge_counts(await text(await client.get("/"))) == [0]
    await client.post("/dev/sign-in", form={"user_id": "1", "csrf_token": csrf_token(app, client)})
    assert badge_counts(await text(await client.get("/"))) == [6]
