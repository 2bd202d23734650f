"""A guest gives an email address at checkout: asked on the cart pages, checked by the server
(its error by the field, what was typed kept), kept on the order; a signed-in shopper is not
asked, and whatever such a form sends is not kept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.checkout import (
    GUEST_EMAIL,
    all_orders,
    anonymous_shopper,
    only_order,
    payments_config,
    post_checkout,
    shop_with_cart,
    text,
)
from tests.support.http import sign_in


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


def email_input(page: str) -> str | None:
    match = re.search(r"<input id=\"checkout-email\"[^>]*>", page)
    return match.group(0) if match else None


async def test_a_guest_is_asked_for_an_email_address_on_both_cart_pages(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    sid = await anonymous_shopper(app, client)
    await shop_with_cart(db, session_id=sid)

    for path in ("/bakery/", "/"):
        page = await text(await client.get(path))
        field = email_input(page)
        assert field is not None, path
        assert 'type="email"' in field and 'autocomplete="email"' in field
        assert 'name="email"' in field and "required" in field
        assert '<label for="checkout-email"' in page


async def test_a_signed_in_shopper_is_not_asked(app: Quart, client: Any, db: AsyncSession) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)

    assert email_input(await text(await client.get("/bakery/"))) is None
    assert email_input(await text(await client.get("/"))) is None


async def test_the_guests_address_is_kept_on_the_order(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    sid = await anonymous_shopper(app, client)
    await shop_with_cart(db, session_id=sid)

    response = await post_checkout(app, client, "bakery", email="  Ann@Example.ORG ")

    assert response.status_code == 303
    order = await only_order(db)
    # The domain is lower-cased, the mailbox kept as typed.
    assert order.email == "Ann@example.org"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (None, "Enter your email address"),
        ("", "Enter your email address"),
        ("ann.example.org", "That is not an email address"),
        ("ann@example", "That is not an email address"),
        ("ann@example.org\r\nBcc: eve@example.org", "That is not an email address"),
        ("a" * 250 + "@example.org", "longer than 254 characters"),
    ],
)
async def test_a_missing_or_malformed_address_is_told_by_its_field_and_nothing_is_ordered(
    app: Quart, client: Any, db: AsyncSession, typed: str | None, message: str
) -> None:
    sid = await anonymous_shopper(app, client)
    await shop_with_cart(db, session_id=sid)

    response = await post_checkout(app, client, "bakery", email=typed)

    # Without JavaScript: back to the page cart, which shows the message by the field.
    assert response.status_code == 303
    assert response.headers["Location"] == "/bakery/"
    assert await all_orders(db) == []
    page = await text(await client.get("/bakery/"))
    field = email_input(page)
    assert field is not None and 'aria-invalid="true"' in field
    assert "checkout-email-error" in field
    error = re.search(r'<p id="checkout-email-error"[^>]*>([^<]*)</p>', page)
    assert error is not None and message in error.group(1)
    if typed and len(typed) < 100 and "\r" not in typed:
        assert f'value="{typed}"' in field


async def test_htmx_gets_the_refusal_as_a_400_with_the_message(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    sid = await anonymous_shopper(app, client)
    await shop_with_cart(db, session_id=sid)

    response = await post_checkout(app, client, "bakery", htmx=True, email="nope")

    assert response.status_code == 400
    body = await text(response)
    assert "That is not an email address" in body
    assert await all_orders(db) == []


async def test_a_whole_cart_checkout_sends_a_refused_address_back_to_the_overview(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    sid = await anonymous_shopper(app, client)
    await shop_with_cart(db, session_id=sid)

    response = await post_checkout(app, client, None, email="")

    assert response.status_code == 303 and response.headers["Location"] == "/"
    page = await text(await client.get("/"))
    assert "Enter your email address" in page


async def test_a_signed_in_shoppers_order_keeps_no_address_from_the_form(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)

    response = await post_checkout(app, client, "bakery", email="someone@else.example")

    assert response.status_code == 303
    assert (await only_order(db)).email is None


async def test_a_second_checkout_of_the_same_cart_keeps_the_corrected_address(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    sid = await anonymous_shopper(app, client)
    await shop_with_cart(db, session_id=sid)

    await post_checkout(app, client, "bakery", email="ann@exampel.org")
    await post_checkout(app, client, "bakery", email=GUEST_EMAIL)

    order = await only_order(db)
    assert order.email == GUEST_EMAIL
