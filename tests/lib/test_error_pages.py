"""The error pages people see: said once, with ways back and the cart badge."""

from __future__ import annotations

import re
from typing import Any

from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from tests.bp.cart.helpers import anonymous_cart, badge_counts, text
from tests.support import factories as f


def visible_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


async def test_the_404_page_says_it_once_and_offers_ways_back(app: Quart, client: Any) -> None:
    response = await client.get("/no/such/page")
    html = await text(response)

    assert response.status_code == 404
    seen = visible_text(html)
    assert seen.count("We could not find that page") == 1
    assert re.search(r"<h1[^>]*>We could not find that page\.</h1>", html)
    ways_back = html[html.index('data-testid="ways-back"') :]
    assert re.search(r'<a href="[^"]*/"[^>]*>Go to the shop</a>', ways_back)
    assert re.search(r'<a href="/"[^>]*>Your cart</a>', ways_back)
    assert re.search(r'<a href="/orders/"[^>]*>Your orders</a>', ways_back)


async def test_a_missing_order_names_what_is_missing_once(app: Quart, client: Any) -> None:
    html = await text(await client.get("/orders/424242/"))
    seen = visible_text(html)
    assert seen.count("We could not find that order") == 1


async def test_error_pages_carry_the_cart_badge(app: Quart, client: Any, db: AsyncSession) -> None:
    product = await f.product(db, await f.page(db))
    await f.cart_item(db, product, session_id="anon-cart-1", quantity=3)
    await anonymous_cart(app, client)

    # A page's own 404 (an order that is not there); a path that matches no route gets a page
    # that reads nothing from the database (tests/lib/test_rate_limits.py).
    html = await text(await client.get("/orders/424242/"))

    assert badge_counts(html) == [3]
