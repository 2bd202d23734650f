"""A checkout that replaces the shopper's open order: it refuses before it deactivates
anything, and it never leaves the replaced order's SumUp checkout payable."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.merchants import set_page_merchant
from models import CalendarEntry
from tests.support import factories as f
from tests.support.checkout import (
    all_orders,
    fresh,
    only_order,
    payments_config,
    post_checkout,
    shop_with_cart,
    text,
)
from tests.support.http import settings_of, sign_in
from tests.support.standin import StandinControl


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def signed_in_client(app: Quart, user_id: int) -> Any:
    client = app.test_client()
    await sign_in(app, client, user_id)
    return client


async def still_payable(control: StandinControl, checkout_id: str, hosted_url: str) -> bool:
    """SumUp still takes money on this checkout: pending, and its hosted page open."""
    checkout = await control.checkout(checkout_id)
    async with httpx.AsyncClient() as browser:
        page = await browser.get(hosted_url)
    return bool(checkout["status"] == "PENDING" and page.status_code == 200)


async def test_a_cart_wide_checkout_refused_for_split_merchants_leaves_the_open_order_payable(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    open_order = await only_order(db)
    # The garden is paid to its own merchant: the whole cart cannot be paid at once.
    await set_page_merchant(
        db,
        settings=settings_of(app),
        page_id=shop.garden.id,
        merchant_code="MGARDEN1",
        api_key="sup_sk_garden",
        checkout_prefix=None,
    )

    refused = await post_checkout(app, client, None)

    assert refused.headers["Location"] == "/checkout/split/"
    # The bakery order's SumUp page, perhaps being paid in another tab, still works.
    assert await still_payable(
        sumup_standin_control,
        str(open_order.sumup_checkout_id),
        str(open_order.sumup_hosted_url),
    )
    assert (await only_order(db)).status == "pending"


async def test_a_checkout_refused_as_sold_out_leaves_the_open_order_payable(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    open_order = await only_order(db)
    # The shopper adds a ticket of a supper that sold out meanwhile.
    calendar = await f.calendar(db, shop.bakery, "Suppers")
    supper = await f.ticket_type(
        db, await f.event(db, calendar, "Full supper"), "Standard", cost="9.00", capacity=1
    )
    await f.ticket(db, supper, user_id=99, state="confirmed")
    await f.ticket(db, supper, user_id=7)

    refused = await post_checkout(app, client, "bakery")

    assert refused.status_code == 409
    assert "sold out" in (await text(refused)).lower()
    assert await still_payable(
        sumup_standin_control,
        str(open_order.sumup_checkout_id),
        str(open_order.sumup_hosted_url),
    )
    booking = await fresh(db, CalendarEntry, shop.booking.id)
    assert (booking.state, booking.order_id) == ("ordered", open_order.id)


async def test_a_checkout_created_while_the_replacing_one_looked_is_deactivated(
    app: Quart, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    first_tab = await signed_in_client(app, 7)
    second_tab = await signed_in_client(app, 7)
    # Tab 1 checks out; its order is made and SumUp's create is under way (held).
    await sumup_standin_control.faults(hold_create={"value": True, "times": 1})
    first = asyncio.create_task(post_checkout(app, first_tab, "bakery"))
    await sumup_standin_control.wait_for_hold("create")
    replaced = await only_order(db)
    assert replaced.sumup_checkout_id is None
    # The shopper adds a bagel and checks out in tab 2: listing the first order's reference
    # finds nothing yet (held there while tab 1's create returns and is stored).
    await f.cart_item(db, await f.product(db, shop.bakery, "Bagel", "1.20"), user_id=7)
    await sumup_standin_control.faults(hold_list={"value": True, "times": 1})
    second = asyncio.create_task(post_checkout(app, second_tab, "bakery"))
    await sumup_standin_control.wait_for_hold("list")
    await sumup_standin_control.release("create")
    first_answer = await first
    await sumup_standin_control.release("list")
    second_answer = await second

    assert first_answer.status_code == 303 and second_answer.status_code == 303
    old, new = await all_orders(db)
    assert old.id == replaced.id and old.status == "cancelled" and new.status == "pending"
    assert old.sumup_checkout_id is not None
    # Tab 1 was sent to the first order's checkout: it must not take money any more.
    assert first_answer.headers["Location"] == old.sumup_hosted_url
    assert not await still_payable(
        sumup_standin_control, str(old.sumup_checkout_id), str(old.sumup_hosted_url)
    )
    booking = await fresh(db, CalendarEntry, shop.booking.id)
    assert (booking.state, booking.order_id) == ("ordered", new.id)
