"""What the shopper saw is what is ordered: a checkout carries the fingerprint of its page, the
button names what SumUp will ask, and a page that is out of date leads to a review, not to a
payment of another amount."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CartItem, Ticket
from tests.bp.order.test_routes import ticketed_order
from tests.support.checkout import (
    HOSTED_URL,
    Shop,
    all_orders,
    only_order,
    pay_on_hosted_page,
    payments_config,
    post_checkout,
    shop_with_cart,
    text,
)
from tests.support.http import csrf_token, sign_in
from tests.support.standin import StandinControl

SEEN = re.compile(r'name="seen" value="([^"]*)"')
BUTTON = re.compile(r"Check out and pay\s+(£[\d.,]+)")


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


def squashed(html: str) -> str:
    """The page's text with every run of white space made one space."""
    return re.sub(r"\s+", " ", html)


def seen_on(html: str) -> str:
    found = SEEN.search(html)
    assert found is not None, "the checkout form carries no fingerprint"
    return found.group(1)


def button_amount(html: str) -> str:
    found = BUTTON.search(html)
    assert found is not None, "no checkout button"
    return found.group(1)


async def check_out_as_seen(app: Quart, client: Any, html: str, path: str = "/bakery/") -> Any:
    """Press the checkout button of this page as rendered."""
    form = {"csrf_token": csrf_token(app, client), "seen": seen_on(html)}
    return await client.post(f"{path}checkout/", form=form)


async def set_quantity(app: Quart, client: Any, db: AsyncSession, product_id: int, n: int) -> None:
    line_id = await db.scalar(
        select(CartItem.id).where(CartItem.product_id == product_id, CartItem.deleted_at.is_(None))
    )
    response = await client.post(
        f"/items/{line_id}/quantity/",
        form={"csrf_token": csrf_token(app, client), "quantity": str(n)},
    )
    assert response.status_code == 303, await text(response)


async def signed_in_shop(app: Quart, client: Any, db: AsyncSession) -> Shop:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    return shop


async def test_items_held_by_a_waiting_order_are_shown_and_counted_in_the_button(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await signed_in_shop(app, client, db)
    first = await post_checkout(app, client, "bakery")
    assert first.status_code == 303
    waiting = await only_order(db)
    # Back from SumUp's page without paying: the booking and the ticket are still held.
    await set_quantity(app, client, db, shop.loaf.id, 3)

    page = await text(await client.get("/bakery/"))

    assert f"Order #{waiting.id}</a> is waiting for payment" in page
    assert f'action="/orders/{waiting.id}/cancel/' in page
    assert (
        f"Includes 1 ticket and 1 booking (£24.00) held by order #{waiting.id}, which this "
        "checkout replaces."
    ) in squashed(page)
    # 3 x 4.50 + 3.80 in the cart, and the booking and ticket the order holds: 41.30.
    assert button_amount(page) == "£41.30"

    response = await check_out_as_seen(app, client, page)

    assert response.status_code == 303
    assert HOSTED_URL.match(response.headers["Location"])
    newest = (await all_orders(db))[-1]
    assert newest.total_amount == Decimal("41.30")
    hosted = await sumup_standin_control.checkout(str(newest.sumup_checkout_id))
    assert Decimal(str(hosted["amount"])) == Decimal("41.30")


async def test_a_checkout_from_a_stale_tab_opens_no_payment_and_shows_the_difference(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await signed_in_shop(app, client, db)
    tab_a = await text(await client.get("/bakery/"))
    assert button_amount(tab_a) == "£36.80"
    # Tab B: one more loaf.
    await set_quantity(app, client, db, shop.loaf.id, 3)

    response = await check_out_as_seen(app, client, tab_a)

    assert response.status_code == 303
    location = response.headers["Location"]
    assert urlsplit(location).path == "/bakery/checkout/review/"
    assert await all_orders(db) == []
    assert await sumup_standin_control.checkouts() == []

    review = await client.get(location)
    html = await text(review)
    assert review.status_code == 200
    assert "Sourdough loaf: the quantity is 3, not 2." in html
    assert "The total is now £41.30 (it was £36.80)." in html
    assert button_amount(html) == "£41.30"
    assert parse_qs(urlsplit(location).query)["seen"] == [seen_on(tab_a)]

    paid = await check_out_as_seen(app, client, html)

    assert paid.status_code == 303 and HOSTED_URL.match(paid.headers["Location"])
    assert (await only_order(db)).total_amount == Decimal("41.30")


async def test_a_second_click_of_the_same_button_opens_the_same_payment(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await signed_in_shop(app, client, db)
    page = await text(await client.get("/bakery/"))

    first = await check_out_as_seen(app, client, page)
    # The second press arrives once the first made the order (the page showed none waiting).
    second = await check_out_as_seen(app, client, page)

    assert first.status_code == second.status_code == 303
    assert HOSTED_URL.match(first.headers["Location"])
    assert second.headers["Location"] == first.headers["Location"]
    order = await only_order(db)
    assert order.total_amount == Decimal("36.80") and button_amount(page) == "£36.80"
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_a_second_click_after_the_cart_changed_is_reviewed_first(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await signed_in_shop(app, client, db)
    page = await text(await client.get("/bakery/"))
    assert (await check_out_as_seen(app, client, page)).status_code == 303
    # Another tab adds a loaf: the waiting order is no longer what the page showed.
    await set_quantity(app, client, db, shop.loaf.id, 3)

    again = await check_out_as_seen(app, client, page)

    assert urlsplit(again.headers["Location"]).path == "/bakery/checkout/review/"
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_a_price_changed_since_the_page_was_shown_is_reviewed_first(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await signed_in_shop(app, client, db)
    page = await text(await client.get("/bakery/"))
    shop.rye.price = Decimal("4.20")
    await db.commit()

    response = await check_out_as_seen(app, client, page)

    assert urlsplit(response.headers["Location"]).path == "/bakery/checkout/review/"
    html = await text(await client.get(response.headers["Location"]))
    assert "Seeded rye now costs £4.20 (it was £3.80)." in html
    assert await all_orders(db) == []


async def test_a_fingerprint_our_pages_did_not_make_leads_to_the_review(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await signed_in_shop(app, client, db)
    form = {"csrf_token": csrf_token(app, client), "seen": "not-a-fingerprint!"}

    response = await client.post("/bakery/checkout/", form=form)

    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/bakery/checkout/review/"
    html = await text(await client.get(response.headers["Location"]))
    assert "The page you checked out from was out of date" in html
    assert await all_orders(db) == []


async def test_a_checkout_from_an_old_page_of_a_paid_cart_goes_to_the_paid_order(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await signed_in_shop(app, client, db)
    page = await text(await client.get("/bakery/"))
    started = await check_out_as_seen(app, client, page)
    await pay_on_hosted_page(started.headers["Location"])
    order = await only_order(db)
    await client.get(f"/checkout/return/{order.id}/")
    assert (await only_order(db)).status == "paid"

    # Back, back, back: the cached page's button is pressed again.
    again = await check_out_as_seen(app, client, page)

    assert again.status_code == 303
    assert again.headers["Location"] == f"/orders/{order.id}/"
    html = await text(await client.get(again.headers["Location"]))
    assert f"Order #{order.id} is already paid, so nothing more was charged." in html
    assert len(await all_orders(db)) == 1


async def test_pages_of_the_shopper_are_never_stored_and_static_files_are(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await signed_in_shop(app, client, db)
    started = await post_checkout(app, client, "bakery")
    assert started.status_code == 303
    order = await only_order(db)

    for path in (
        "/",
        "/bakery/",
        "/orders/",
        f"/orders/{order.id}/",
        "/internal/fragments/cart-mini",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
    static = await client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")


async def test_acting_on_a_line_another_tab_removed_refreshes_the_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    shop = await signed_in_shop(app, client, db)
    line_id = await db.scalar(select(CartItem.id).where(CartItem.product_id == shop.loaf.id))
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_token(app, client)}
    removed = await client.post(
        f"/items/{line_id}/remove/", headers=headers, form={"view": "bakery"}
    )
    assert removed.status_code == 200

    # The other tab still shows the line and sets its quantity.
    stale = await client.post(
        f"/items/{line_id}/quantity/", headers=headers, form={"view": "bakery", "quantity": "3"}
    )

    html = await text(stale)
    assert stale.status_code == 404
    assert "That item is not in your cart." in html
    assert 'id="page-cart"' in html and "Sourdough loaf" not in html
    # 3.80 of rye, the booking and the ticket: the total and the badge (the garden's compost
    # too) as they are now.
    assert button_amount(html) == "£27.80"
    assert 'aria-label="Cart, 4 items"' in html


async def test_the_thank_you_page_lists_tickets_one_line_per_type_with_their_codes(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    # Point 7: five identical lines on the thank-you page, the codes only on the order page.
    order = await ticketed_order(db, sold_out=1, needs_refund=True)
    rows = await db.execute(select(Ticket.code, Ticket.state).where(Ticket.order_id == order.id))
    codes = {code: state for code, state in rows}
    await sign_in(app, client, 7)

    html = await text(await client.get(f"/checkout/return/{order.id}/"))

    start, end = html.index('data-testid="order-summary"'), html.index('data-testid="order-total"')
    summary = html[start:end]
    groups = re.findall(r'data-testid="summary-ticket-group" data-quantity="(\d+)"', summary)
    assert groups == ["3"]
    assert squashed(re.sub(r"<[^>]+>", " ", summary)).count("Folk night: Standard") == 1
    line = squashed(re.sub(r"<[^>]+>", " ", summary[summary.index("summary-ticket-group") :]))
    assert "Folk night: Standard \u00d7 3" in line and "£36.00" in line
    # Under the line, each ticket's code once it is the shopper's, and what became of the other.
    confirmed = [code for code, state in codes.items() if state == "confirmed"]
    assert len(confirmed) == 2
    for code in confirmed:
        assert f"Ticket code {code}" in line
    cancelled = [code for code, state in codes.items() if state == "cancelled"]
    assert cancelled and cancelled[0] not in line
    assert "Sold out: to be refunded" in line
