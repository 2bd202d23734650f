"""POST /add/<product_id>/: adding a product, again, with bad input, and twice at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.sessions import session_key
from models import Product, utcnow
from tests.bp.cart.helpers import (
    anonymous_cart,
    badge_counts,
    form_with_token,
    htmx,
    input_tag,
    lines_of,
    text,
)
from tests.support import factories as f
from tests.support.http import csrf_token, read_shared_session, sign_in


async def test_first_add_creates_an_anonymous_cart_and_a_line(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))

    response = await client.post(f"/add/{product.id}/", form=form_with_token(app, client))

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    keys = [str(key) for key in await runtime(app).redis.auth.keys(session_key("*"))]
    assert len(keys) == 1
    stored = await read_shared_session(app, keys[0].removeprefix("session:"))
    assert stored is not None and set(stored) == {"cart_sid"}
    assert await lines_of(db, session_id=stored["cart_sid"]) == {product.id: 1}


async def test_reading_the_cart_creates_no_session(app: Quart, client: Any) -> None:
    await client.get("/")
    assert await runtime(app).redis.auth.keys(session_key("*")) == []


async def test_adding_again_increments_the_line(app: Quart, client: Any, db: AsyncSession) -> None:
    product = await f.product(db, await f.page(db))
    await sign_in(app, client, 1)

    await client.post(f"/add/{product.id}/", form=form_with_token(app, client, quantity="2"))
    response = await client.post(
        f"/add/{product.id}/", form=form_with_token(app, client, quantity="3")
    )

    assert response.status_code == 303
    assert await lines_of(db, user_id=1) == {product.id: 5}


async def test_htmx_add_answers_the_message_and_the_badge_out_of_band(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db), title="Sourdough loaf")
    await anonymous_cart(app, client)

    response = await client.post(
        f"/add/{product.id}/", headers=htmx(app, client), form={"quantity": "2"}
    )

    html = await text(response)
    assert response.status_code == 200
    assert "Added 2 of Sourdough loaf to your cart." in html
    assert '<a id="cart-mini"' in html and 'hx-swap-oob="true"' in html
    assert badge_counts(html) == [2]


async def test_non_htmx_add_goes_back_to_a_same_site_next(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    await anonymous_cart(app, client)

    back = await client.post(
        f"/add/{product.id}/?next=/dev/shop", form=form_with_token(app, client)
    )
    away = await client.post(
        f"/add/{product.id}/?next=//evil.example/", form=form_with_token(app, client)
    )

    assert back.headers["Location"] == "/dev/shop"
    assert away.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("abc", "The quantity must be a whole number from 1 to 99."),
        ("1.5", "The quantity must be a whole number from 1 to 99."),
        ("1e3", "The quantity must be a whole number from 1 to 99."),
        ("٣", "The quantity must be a whole number from 1 to 99."),
        ("99999999999999999999", "The quantity must be a whole number from 1 to 99."),
        ("0", "The quantity must be a whole number from 1 to 99."),
        ("-2", "The quantity must be a whole number from 1 to 99."),
        ("100", "The quantity must be a whole number from 1 to 99."),
    ],
)
async def test_bad_quantities_are_refused_by_the_field(
    app: Quart, client: Any, db: AsyncSession, quantity: str, message: str
) -> None:
    product = await f.product(db, await f.page(db))
    await anonymous_cart(app, client)

    response = await client.post(
        f"/add/{product.id}/", headers=htmx(app, client), form={"quantity": quantity}
    )

    html = await text(response)
    assert response.status_code == 400
    # The form is swapped in place of itself, the box marked and described by the message,
    # the value kept as typed; the message is also announced in the error toasts.
    assert response.headers["HX-Retarget"] == f"#add-form-{product.id}"
    assert response.headers["HX-Reswap"] == "outerHTML"
    field = input_tag(html, f"qty-{product.id}")
    assert 'aria-invalid="true"' in field
    assert f'aria-describedby="qty-{product.id}-error"' in field
    assert f'value="{quantity[:20]}"' in field
    assert f'<p id="qty-{product.id}-error"' in html
    assert f'data-testid="field-error">{message}</p>' in html
    assert 'min="1" max="99"' in field
    alerts = html[html.index('<div id="alerts" hx-swap-oob="innerHTML">') :]
    assert message in alerts
    assert await lines_of(db, session_id="anon-cart-1") == {}


async def test_a_bad_quantity_posted_without_javascript_is_shown_on_the_page_it_returns_to(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    await anonymous_cart(app, client)

    refused = await client.post(
        f"/add/{product.id}/?next=/", form=form_with_token(app, client, quantity="0")
    )
    page = await text(await client.get("/"))
    again = await text(await client.get("/"))

    # No POST renders a page: a 303 to the page, which says why (once).
    assert refused.status_code == 303
    assert refused.headers["Location"] == "/"
    alerts = page[page.index('id="alerts"') : page.index("<main")]
    assert "The quantity must be a whole number from 1 to 99." in alerts
    assert 'data-error-code="INVALID_QUANTITY"' in alerts
    assert "The quantity must be a whole number from 1 to 99." not in again
    assert await lines_of(db, session_id="anon-cart-1") == {}


async def test_an_htmx_answer_leaves_a_refused_value_for_the_page_it_was_sent_back_to(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db)
    refused_product = await f.product(db, page, title="Rye loaf")
    other = await f.product(db, page, title="Sourdough loaf")
    await anonymous_cart(app, client)

    await client.post(
        f"/add/{refused_product.id}/?next=/", form=form_with_token(app, client, quantity="0")
    )
    # Another tab adds something with HTMX before the first one's page has loaded.
    added = await client.post(f"/add/{other.id}/", headers=htmx(app, client), form={})
    shown = await text(await client.get("/"))

    assert "Added Sourdough loaf to your cart." in await text(added)
    alerts = shown[shown.index('id="alerts"') : shown.index("<main")]
    assert "The quantity must be a whole number from 1 to 99." in alerts


async def test_a_good_add_after_a_refused_one_clears_the_field_and_the_error(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db), "Rye")
    await anonymous_cart(app, client)

    response = await client.post(
        f"/add/{product.id}/", headers=htmx(app, client), form={"quantity": "2"}
    )

    html = await text(response)
    assert 'id="messages"' not in html and "Added 2 of Rye to your cart." in html
    assert '<div id="alerts" hx-swap-oob="innerHTML"></div>' in html
    fresh = html[html.index(f'<form id="add-form-{product.id}"') :]
    assert 'hx-swap-oob="true"' in fresh[: fresh.index(">")]
    assert 'aria-invalid="true"' not in input_tag(fresh, f"qty-{product.id}")
    assert 'value="1"' in input_tag(fresh, f"qty-{product.id}")


async def test_missing_quantity_means_one(app: Quart, client: Any, db: AsyncSession) -> None:
    product = await f.product(db, await f.page(db))
    await anonymous_cart(app, client)

    await client.post(f"/add/{product.id}/", form=form_with_token(app, client, quantity=" "))

    assert await lines_of(db, session_id="anon-cart-1") == {product.id: 1}


async def test_adding_beyond_the_line_limit_says_the_maximum_and_changes_nothing(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db), title="Seeded rye")
    await sign_in(app, client, 1)
    await client.post(f"/add/{product.id}/", form=form_with_token(app, client, quantity="98"))

    refused = await client.post(
        f"/add/{product.id}/", headers=htmx(app, client), form={"quantity": "2"}
    )
    accepted = await client.post(
        f"/add/{product.id}/", headers=htmx(app, client), form={"quantity": "1"}
    )

    assert refused.status_code == 400
    assert "You can have at most 99 of Seeded rye in your cart." in await text(refused)
    assert accepted.status_code == 200
    assert await lines_of(db, user_id=1) == {product.id: 99}


async def test_unknown_or_deleted_products_are_not_available(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    await db.execute(update(Product).where(Product.id == product.id).values(deleted_at=utcnow()))
    await db.commit()
    await anonymous_cart(app, client)

    for product_id in (product.id, 987654):
        response = await client.post(f"/add/{product_id}/", form=form_with_token(app, client))
        assert response.status_code == 404
        assert "That product is no longer available." in await text(response)


@pytest.mark.parametrize(
    "path",
    [
        "/add/abc/",
        "/add/-1/",
        "/add/1.5/",
        "/add/9223372036854775808/",
        "/add/99999999999999999999999/",
    ],
)
async def test_malformed_product_ids_are_not_found(app: Quart, client: Any, path: str) -> None:
    response = await client.post(path, form=form_with_token(app, client))
    assert response.status_code == 404


async def test_the_largest_bigint_id_is_simply_not_found(app: Quart, client: Any) -> None:
    response = await client.post("/add/9223372036854775807/", form=form_with_token(app, client))
    assert response.status_code == 404
    assert "That product is no longer available." in await text(response)


async def test_concurrent_adds_of_one_product_end_in_one_line(app: Quart, db: AsyncSession) -> None:
    product = await f.product(db, await f.page(db))
    clients = [app.test_client() for _ in range(6)]
    for client in clients:
        await sign_in(app, client, 7)

    responses = await asyncio.gather(
        *(
            client.post(f"/add/{product.id}/", form=form_with_token(app, client, quantity=str(n)))
            for n, client in enumerate(clients, start=1)
        )
    )

    assert [r.status_code for r in responses] == [303] * 6
    assert await lines_of(db, user_id=7) == {product.id: 21}


async def test_concurrent_anonymous_adds_share_the_cart_session(
    app: Quart, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    first, second = app.test_client(), app.test_client()
    await anonymous_cart(app, first, sid="shared-anon")
    await anonymous_cart(app, second, sid="shared-anon")

    await asyncio.gather(
        first.post(f"/add/{product.id}/", form=form_with_token(app, first, quantity="2")),
        second.post(f"/add/{product.id}/", form=form_with_token(app, second, quantity="3")),
    )

    assert await lines_of(db, session_id="shared-anon") == {product.id: 5}


async def test_a_shopper_cannot_choose_whose_cart_to_add_to(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    await sign_in(app, client, 1)

    await client.post(
        f"/add/{product.id}/?user_id=2&session_id=x",
        form=form_with_token(app, client, user_id="2", session_id="victim"),
    )

    assert await lines_of(db, user_id=1) == {product.id: 1}
    assert await lines_of(db, user_id=2) == {}
    assert await lines_of(db, session_id="victim") == {}


async def test_a_new_browsers_simultaneous_first_adds_land_in_one_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    # A first-time visitor double-clicks two add buttons: neither request carries a session
    # yet, each creates one, and only the last session cookie survives in the browser.
    page = await f.page(db)
    bread, buns = await f.product(db, page, "Bread"), await f.product(db, page, "Buns")
    token = csrf_token(app, client)

    responses = await asyncio.gather(
        client.post(f"/add/{bread.id}/", form={"csrf_token": token}),
        client.post(f"/add/{buns.id}/", form={"csrf_token": token, "quantity": "2"}),
    )

    assert [r.status_code for r in responses] == [303, 303]
    page_cart = await text(await client.get(f"/{page.slug}/"))
    assert badge_counts(page_cart)[0] == 3
    assert "Bread" in page_cart and "Buns" in page_cart
