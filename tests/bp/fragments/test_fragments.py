"""The cart-mini, waiting-order and account-nav-item fragments other coop apps embed."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from tests.bp.cart.helpers import anonymous_cart, badge_counts
from tests.bp.order.test_routes import make_order
from tests.support import factories as f
from tests.support.http import internal_headers, sign_in


async def cart_with_everything(db: AsyncSession, **owner: Any) -> None:
    """3 loaves, a booking and (for a user) 2 tickets."""
    page = await f.page(db, f"page-{next(iter(owner.values()))}")
    await f.cart_item(db, await f.product(db, page), quantity=3, **owner)
    cal = await f.calendar(db, page)
    await f.booking(db, cal, **owner)
    if "user_id" in owner:
        tt = await f.ticket_type(db, await f.event(db, cal))
        await f.ticket(db, tt, user_id=owner["user_id"])
        await f.ticket(db, tt, user_id=owner["user_id"])


async def test_cart_mini_for_another_app_names_the_user(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await cart_with_everything(db, user_id=4)

    response = await client.get(
        "/internal/fragments/cart-mini?user_id=4", headers=internal_headers(app)
    )

    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert html.lstrip().startswith('<a id="cart-mini" href="http://cart.test/"')
    assert 'aria-label="Cart, 6 items"' in html
    assert "<html" not in html and "hx-swap-oob" not in html
    assert "no-store" in response.headers["Cache-Control"]


async def test_cart_mini_for_an_anonymous_session(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await cart_with_everything(db, session_id="anon-7")

    response = await client.get(
        "/internal/fragments/cart-mini?session_id=anon-7", headers=internal_headers(app)
    )

    assert badge_counts(await response.get_data(as_text=True)) == [4]


async def test_cart_mini_without_parameters_is_the_browsers_own_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await cart_with_everything(db, user_id=1)
    await cart_with_everything(db, session_id="anon-cart-1")
    anonymous = app.test_client()
    await anonymous_cart(app, anonymous)
    await sign_in(app, client, 1)

    mine = await client.get("/internal/fragments/cart-mini")
    theirs = await anonymous.get("/internal/fragments/cart-mini")
    nobody = await app.test_client().get("/internal/fragments/cart-mini")

    assert badge_counts(await mine.get_data(as_text=True)) == [6]
    assert badge_counts(await theirs.get_data(as_text=True)) == [4]
    assert badge_counts(await nobody.get_data(as_text=True)) == [0]
    assert 'aria-label="Cart, 1 item"' not in await nobody.get_data(as_text=True)


FRAGMENTS = [
    "/internal/fragments/cart-mini",
    "/internal/fragments/waiting-order",
    "/internal/fragments/account-nav-item",
]


@pytest.mark.parametrize("path", FRAGMENTS)
@pytest.mark.parametrize("query", ["user_id=1", "session_id=abc", "user_id=bad"])
async def test_naming_a_shopper_needs_the_token(client: Any, path: str, query: str) -> None:
    missing = await client.get(f"{path}?{query}")
    wrong = await client.get(f"{path}?{query}", headers={"Authorization": "Bearer wrong"})
    assert missing.status_code == wrong.status_code == 401


@pytest.mark.parametrize(
    "query", ["user_id=0", "user_id=x", "session_id=", "session_id=a%2Fb", "user_id=1&session_id=a"]
)
async def test_a_malformed_identity_is_a_400(app: Quart, client: Any, query: str) -> None:
    response = await client.get(
        f"/internal/fragments/cart-mini?{query}", headers=internal_headers(app)
    )
    assert response.status_code == 400


async def test_account_nav_item_links_to_the_orders(app: Quart, client: Any) -> None:
    own = await client.get("/internal/fragments/account-nav-item")
    named = await client.get(
        "/internal/fragments/account-nav-item?user_id=3", headers=internal_headers(app)
    )

    for response in (own, named):
        html = await response.get_data(as_text=True)
        assert response.status_code == 200
        assert 'href="http://cart.test/orders/"' in html and "Orders" in html
        assert "<html" not in html


WAITING = "/internal/fragments/waiting-order"
# The order a waiting-order test makes: 2 loaves at 4.50, for user 7.
WAITING_TEXT = "is waiting for payment: 2 products, £9.00"


async def test_waiting_order_shows_the_browsers_own_orders_to_pay_or_cancel_in_place(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, user_id=7)
    await sign_in(app, client, 7)

    response = await client.get(WAITING, headers={"HX-Current-URL": "http://localhost/dev/shop"})

    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert f'data-testid="waiting-order-{order.id}"' in html
    assert f'href="http://cart.test/orders/{order.id}/"' in html
    assert WAITING_TEXT in " ".join(html.split())
    assert f'action="http://cart.test/orders/{order.id}/pay/"' in html
    # Cancelled, the shopper comes back to the page that embeds the fragment.
    assert f'action="http://cart.test/orders/{order.id}/cancel/?next=/dev/shop"' in html
    assert 'name="csrf_token"' in html
    assert response.headers["Cache-Control"] == "private, no-store"


async def test_waiting_order_sends_a_cancel_from_another_site_back_to_the_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, user_id=7)
    await sign_in(app, client, 7)

    response = await client.get(WAITING, headers={"HX-Current-URL": "http://evil.test/x"})

    html = await response.get_data(as_text=True)
    assert f'action="http://cart.test/orders/{order.id}/cancel/?next=/"' in html


async def test_waiting_order_for_another_app_links_to_the_order(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await make_order(db, user_id=7)

    response = await client.get(f"{WAITING}?user_id=7", headers=internal_headers(app))

    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert WAITING_TEXT in " ".join(html.split())
    assert f'href="http://cart.test/orders/{order.id}/"' in html
    assert "Pay now or cancel" in html
    # No form: a CSRF token made here would belong to no browser.
    assert "<form" not in html and "csrf_token" not in html


async def test_waiting_order_is_empty_without_an_open_order(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await make_order(db, user_id=7, status="paid")
    await make_order(db, user_id=8)
    await sign_in(app, client, 7)

    own = await client.get(WAITING)
    nobody = await app.test_client().get(WAITING)

    for response in (own, nobody):
        assert response.status_code == 200
        assert (await response.get_data(as_text=True)).strip() == ""
