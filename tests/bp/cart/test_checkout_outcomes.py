"""The pages a checkout POST redirects to: they show the outcome again on a reload, to the
order's owner only, and follow the order once it moves on."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order, Product, utcnow
from tests.support.checkout import (
    only_order,
    payments_config,
    post_checkout,
    shop_with_cart,
    text,
)
from tests.support.http import sign_in
from tests.support.standin import StandinControl


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def reviewed_order(app: Quart, client: Any, db: AsyncSession) -> tuple[Order, str]:
    shop = await shop_with_cart(db, user_id=7)
    await db.execute(update(Product).where(Product.id == shop.rye.id).values(deleted_at=utcnow()))
    await db.commit()
    await sign_in(app, client, 7)
    response = await post_checkout(app, client, "bakery", htmx=True)
    order = await only_order(db)
    return order, response.headers["HX-Redirect"]


async def test_htmx_is_sent_to_the_review_page_not_given_a_whole_page(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order, location = await reviewed_order(app, client, db)
    assert location == f"/checkout/{order.id}/review/"
    first = await text(await client.get(location))
    again = await text(await client.get(location))
    assert "“Seeded rye”" in first and "“Seeded rye”" in again


async def test_an_outcome_page_is_its_owners_only(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order, location = await reviewed_order(app, client, db)
    stranger = app.test_client()
    await sign_in(app, stranger, 8)
    anonymous = app.test_client()

    for other in (stranger, anonymous):
        for path in (location, f"/checkout/{order.id}/not-started/"):
            response = await other.get(path)
            body = await text(response)
            assert response.status_code == 404
            assert "Seeded rye" not in body


async def test_a_paid_order_s_outcome_page_leads_to_its_return_page(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order, location = await reviewed_order(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await client.get(f"/checkout/return/{order.id}/")

    response = await client.get(location)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/checkout/return/{order.id}/"


async def test_the_split_page_follows_the_cart(app: Quart, client: Any, db: AsyncSession) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)

    # One merchant for everything: nothing to split, back to the cart.
    response = await client.get("/checkout/split/")

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
