"""GET / (overview, grouped by page) and GET /<page_slug>/ (one page's cart)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Page, Product, utcnow
from tests.bp.cart.helpers import anonymous_cart, badge_counts, text
from tests.support import factories as f
from tests.support.http import sign_in


def by_testid(html: str, name: str) -> str:
    """The text of the element carrying data-testid=name."""
    match = re.search(rf'data-testid="{re.escape(name)}"[^>]*>([^<]*)<', html)
    assert match, name
    return match.group(1).strip()


def group(html: str, slug: str) -> str:
    """The overview card of one page."""
    start = html.index(f'data-testid="group-{slug}"')
    end = html.find("</li>\n    \n", start)
    return html[start:end]


async def two_page_cart(db: AsyncSession, user_id: int) -> dict[str, Any]:
    """Bakery: 2 loaves at 4.50. Garden: compost at 7.99, a booking at 12.00. Hall: two tickets."""
    bakery = await f.page(db, "bakery", "The Bakery")
    garden = await f.page(db, "garden", "Garden Club")
    hall = await f.page(db, "hall", "Community Hall")
    loaf = await f.product(db, bakery, "Sourdough loaf", "4.50")
    compost = await f.product(db, garden, "Compost", "7.99")
    await f.cart_item(db, loaf, user_id=user_id, quantity=2)
    await f.cart_item(db, compost, user_id=user_id)
    entry = await f.booking(db, await f.calendar(db, garden), user_id=user_id, cost="12.00")
    event = await f.event(db, await f.calendar(db, hall), "Folk night")
    standard = await f.ticket_type(db, event, "Standard", cost="12.00")
    concession = await f.ticket_type(db, event, "Concession", cost="8.00")
    tickets = [
        await f.ticket(db, standard, user_id=user_id),
        await f.ticket(db, concession, user_id=user_id),
    ]
    return {"loaf": loaf, "compost": compost, "entry": entry, "tickets": tickets, "bakery": bakery}


async def test_overview_groups_by_page_with_counts_and_subtotals(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await two_page_cart(db, user_id=1)
    await sign_in(app, client, 1)

    html = await text(await client.get("/"))

    bakery, garden, hall = group(html, "bakery"), group(html, "garden"), group(html, "hall")
    assert html.index("Community Hall") < html.index("Garden Club") < html.index("The Bakery")
    # One kind of product, two of it: said as both, so that the count never reads as lines.
    assert by_testid(bakery, "product-count") == "1 product, 2 items"
    assert by_testid(bakery, "booking-count") == "0 bookings"
    assert by_testid(bakery, "subtotal") == "£9.00"
    assert by_testid(garden, "product-count") == "1 product"
    assert by_testid(garden, "booking-count") == "1 booking"
    assert by_testid(garden, "subtotal") == "£19.99"
    assert by_testid(hall, "ticket-count") == "2 tickets"
    assert by_testid(hall, "subtotal") == "£20.00"
    assert 'href="/garden/"' in garden
    assert by_testid(html, "grand-total") == "£48.99"
    assert 'action="/checkout/"' in html and 'id="checkout-all"' in html
    assert badge_counts(html) == [6]


async def test_page_cart_shows_lines_bookings_tickets_and_totals(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    cart = await two_page_cart(db, user_id=1)
    await sign_in(app, client, 1)

    hall = await text(await client.get("/hall/"))
    garden = await text(await client.get("/garden/"))
    bakery = await text(await client.get("/bakery/"))

    assert "Folk night · Standard" in hall and "Folk night · Concession" in hall
    assert by_testid(hall, "ticket-state") == "In cart, not yet paid"
    assert by_testid(hall, "sold-out-notice") == (
        "If the event sells out before payment, you will be refunded."
    )
    assert by_testid(hall, "tickets-total") == "£20.00"
    assert by_testid(hall, "page-subtotal") == "£20.00"
    assert 'action="/hall/checkout/"' in hall and 'id="checkout"' in hall
    assert "Taster session" in garden and by_testid(garden, "bookings-total") == "£12.00"
    assert f'data-testid="remove-entry-{cart["entry"].id}"' in garden
    assert "sold-out-notice" not in garden
    assert by_testid(garden, "page-subtotal") == "£19.99"
    assert '<label for="quantity-' in bakery and "Sourdough loaf" in bakery
    assert by_testid(bakery, "products-total") == "£9.00"
    # Units are said as items beside the kinds of product, never as "2 products".
    assert re.sub(r"\s+", " ", by_testid(bakery, "page-counts")) == (
        "1 product, 2 items · 0 bookings · 0 tickets"
    )
    assert "Compost" not in bakery
    assert badge_counts(bakery) == [6]


async def test_totals_use_the_current_database_price(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    cart = await two_page_cart(db, user_id=1)
    await db.execute(
        update(Product).where(Product.id == cart["loaf"].id).values(price=Decimal("5.25"))
    )
    await db.commit()
    await sign_in(app, client, 1)

    html = await text(await client.get("/bakery/"))

    assert by_testid(html, "page-subtotal") == "£10.50"


async def test_a_deleted_product_leaves_the_cart_and_the_badge(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    cart = await two_page_cart(db, user_id=1)
    await db.execute(
        update(Product).where(Product.id == cart["loaf"].id).values(deleted_at=utcnow())
    )
    await db.commit()
    await sign_in(app, client, 1)

    html = await text(await client.get("/"))

    assert 'data-testid="group-bakery"' not in html
    assert by_testid(html, "grand-total") == "£39.99"
    assert badge_counts(html) == [4]


async def test_items_of_a_deleted_page_are_grouped_apart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await two_page_cart(db, user_id=1)
    await db.execute(update(Page).where(Page.slug == "bakery").values(deleted_at=utcnow()))
    await db.commit()
    await sign_in(app, client, 1)

    html = await text(await client.get("/"))

    assert by_testid(group(html, "other"), "subtotal") == "£9.00"
    assert (await client.get("/bakery/")).status_code == 404


async def test_anonymous_carts_have_no_tickets(app: Quart, client: Any, db: AsyncSession) -> None:
    page = await f.page(db, "hall", "Community Hall")
    await f.product(db, page)
    await f.booking(db, await f.calendar(db, page), session_id="anon-cart-1")
    await anonymous_cart(app, client)

    html = await text(await client.get("/hall/"))

    assert "Taster session" in html
    assert "Tickets" not in html
    assert badge_counts(html) == [1]


async def test_empty_cart_and_empty_page(app: Quart, client: Any, db: AsyncSession) -> None:
    await f.page(db, "bakery", "The Bakery")

    overview = await text(await client.get("/"))
    page = await text(await client.get("/bakery/"))

    assert "Your cart is empty." in overview and 'data-testid="empty-cart"' in overview
    assert "Go to the shop" in overview
    assert "Nothing from The Bakery in your cart." in page
    assert 'id="checkout"' not in page
    assert badge_counts(overview) == [0]


async def test_unknown_page_is_a_404_page(client: Any) -> None:
    response = await client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page." in await text(response)


async def test_another_shoppers_cart_is_never_shown(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await two_page_cart(db, user_id=2)
    await sign_in(app, client, 1)

    html = await text(await client.get("/"))

    assert "Your cart is empty." in html
    assert badge_counts(html) == [0]
