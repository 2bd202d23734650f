"""checkout_cart, the flow a checkout route runs: the order from the cart, then SumUp's page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.checkout import checkout_cart
from bp.runtime import runtime
from lib.errors import BadRequest, NotFound
from services.contracts.dtos import CartIdentity
from tests.support.checkout import (
    BAKERY_TOTAL,
    HOSTED_URL,
    only_order,
    payment_deps,
    payments_config,
    shop_with_cart,
)


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def check_out(app: Quart, **kwargs: Any) -> Any:
    async with runtime(app).databases.sessionmaker() as session:
        return await checkout_cart(session, **kwargs, **payment_deps(app))


async def test_the_order_is_made_then_its_payment_started(app: Quart, db: AsyncSession) -> None:
    shop = await shop_with_cart(db, user_id=7)
    shopper = CartIdentity(user_id=7)

    started = await check_out(app, identity=shopper, page_slug="bakery")
    again = await check_out(app, identity=shopper, page_slug="bakery")

    order = await only_order(db)
    assert started.order_id == order.id and started.notices == []
    assert HOSTED_URL.match(started.hosted_url), started.hosted_url
    assert order.sumup_hosted_url == started.hosted_url
    assert order.total_amount == Decimal(BAKERY_TOTAL) and order.page_id == shop.bakery.id
    # A second submit of the same cart pays the same order on the same page.
    assert (again.order_id, again.hosted_url) == (started.order_id, started.hosted_url)


async def test_an_unknown_page_or_a_browser_without_a_cart_is_refused(
    app: Quart, db: AsyncSession
) -> None:
    await shop_with_cart(db, user_id=7)

    with pytest.raises(NotFound) as unknown:
        await check_out(app, identity=CartIdentity(user_id=7), page_slug="nowhere")
    with pytest.raises(BadRequest) as empty:
        await check_out(app, identity=None, page_slug=None)

    assert unknown.value.code == "PAGE_NOT_FOUND"
    assert empty.value.code == "CART_EMPTY"
