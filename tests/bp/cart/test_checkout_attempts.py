"""One order per cart however often it is submitted, and SumUp failing while the checkout starts."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import httpx
import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from models import CalendarEntry, Order
from tests.support import factories as f
from tests.support.checkout import (
    BAKERY_TOTAL,
    HOSTED_URL,
    SITE_KEY,
    SITE_MERCHANT,
    all_orders,
    events_of,
    fresh,
    only_order,
    payments_config,
    post_checkout,
    post_form,
    shop_with_cart,
    state_of,
    text,
)
from tests.support.http import TEST_HOST, settings_of, sign_in, write_shared_session
from tests.support.standin import StandinControl


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    # A short SumUp timeout so that a slow create is a timeout here.
    return payments_config(app_config, sumup_standin, sumup_timeout_seconds=0.5)


async def signed_in_client(app: Quart, user_id: int) -> Any:
    client = app.test_client()
    await sign_in(app, client, user_id)
    return client


async def test_a_double_submit_from_several_tabs_makes_one_order_and_one_checkout(
    app: Quart, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    tabs = [await signed_in_client(app, 7) for _ in range(4)]

    responses = await asyncio.gather(*(post_checkout(app, tab, "bakery") for tab in tabs))

    assert [r.status_code for r in responses] == [303] * 4
    order = await only_order(db)
    assert {r.headers["Location"] for r in responses} == {order.sumup_hosted_url}
    assert len(await sumup_standin_control.checkouts()) == 1
    assert len(await events_of(db, "order.created")) == 1


async def test_an_anonymous_double_click_makes_one_order(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    sid = "anon-two-tabs"
    await shop_with_cart(db, session_id=sid)
    session_cookie = await write_shared_session(app, {"cart_sid": sid})
    other_tab = app.test_client()
    for tab in (client, other_tab):
        tab.set_cookie(TEST_HOST, settings_of(app).session_cookie_name, session_cookie)

    first, second = await asyncio.gather(
        post_checkout(app, client, "bakery"), post_checkout(app, other_tab, "bakery")
    )

    assert first.headers["Location"] == second.headers["Location"]
    await only_order(db)
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_checking_out_again_with_the_same_cart_reuses_the_open_order(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)

    first = await post_checkout(app, client, "bakery")
    second = await post_checkout(app, client, "bakery")

    assert second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    await only_order(db)
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_a_changed_cart_replaces_the_open_order_and_deactivates_its_checkout(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    first = await post_checkout(app, client, "bakery")
    old = await only_order(db)
    # The shopper goes back and adds a loaf.
    await f.cart_item(db, await f.product(db, shop.bakery, "Bagel", "1.20"), user_id=7)

    second = await post_checkout(app, client, "bakery")

    assert second.status_code == 303 and second.headers["Location"] != first.headers["Location"]
    old_order, new_order = await all_orders(db)
    assert old_order.id == old.id and old_order.status == "cancelled"
    assert new_order.status == "pending"
    assert new_order.total_amount == Decimal(BAKERY_TOTAL) + Decimal("1.20")
    # The booking and ticket went from the old order to the new one.
    booking = await fresh(db, CalendarEntry, shop.booking.id)
    assert (booking.state, booking.order_id) == ("ordered", new_order.id)
    old_checkout = await sumup_standin_control.checkout(str(old.sumup_checkout_id))
    assert old_checkout["status"] == "EXPIRED"
    # The old hosted page can no longer take money.
    async with httpx.AsyncClient() as browser:
        page = await browser.get(str(old.sumup_hosted_url))
    assert page.status_code == 410


async def test_an_earlier_checkout_paid_meanwhile_is_settled_instead_of_replaced(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")
    old = await only_order(db)
    await sumup_standin_control.pay(str(old.sumup_checkout_id))
    await f.cart_item(db, await f.product(db, shop.bakery, "Bagel", "1.20"), user_id=7)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 409
    assert "has just been paid" in await text(response)
    order = await only_order(db)
    assert order.status == "paid"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"


async def test_a_create_that_times_out_is_retried_with_the_same_reference(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    # SumUp makes the checkout but its answer comes too late for us.
    await sumup_standin_control.faults(slow_create_seconds={"value": 1.0, "times": 1})

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303
    [checkout] = await sumup_standin_control.checkouts()
    order = await only_order(db)
    assert order.sumup_checkout_id == checkout["id"]
    assert checkout["checkout_reference"] == order.sumup_reference == f"rose-{order.id}-1"
    assert response.headers["Location"] == checkout["hosted_checkout_url"]


async def test_a_create_answered_with_a_5xx_is_retried(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await sumup_standin_control.faults(fail_create_5xx=2)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_sumup_down_on_create_keeps_the_order_and_try_again_reuses_it(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await sumup_standin_control.faults(fail_create_5xx=True)

    response = await post_checkout(app, client, "bakery")

    # Seed 002: the form POST redirects to the order's outcome page; HTMX gets the fragment.
    order = await only_order(db)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/checkout/{order.id}/not-started/"
    html = await text(await client.get(response.headers["Location"]))
    assert "We could not reach our payment provider" in html
    assert order.status == "pending" and order.sumup_checkout_id is None
    assert f'action="/orders/{order.id}/pay/"' in html and "Try again" in html
    fragment = await post_checkout(app, client, "bakery", htmx=True)
    assert fragment.status_code == 503
    assert "We could not reach our payment provider" in await text(fragment)
    assert await sumup_standin_control.checkouts() == []

    await sumup_standin_control.faults(fail_create_5xx=False)
    again = await post_form(app, client, f"/orders/{order.id}/pay/")

    assert again.status_code == 303
    assert HOSTED_URL.match(again.headers["Location"])
    order = await only_order(db)
    assert order.attempt == 1 and order.sumup_reference == f"rose-{order.id}-1"
    [checkout] = await sumup_standin_control.checkouts()
    assert checkout["checkout_reference"] == order.sumup_reference


async def test_clicking_checkout_again_after_a_failed_start_reuses_the_order(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await sumup_standin_control.faults(fail_create_5xx=True)
    await post_checkout(app, client, "bakery")
    await sumup_standin_control.faults(fail_create_5xx=False)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303
    await only_order(db)
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_a_failed_start_answers_htmx_with_a_fragment_and_try_again(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await sumup_standin_control.faults(fail_create_5xx=True)

    response = await post_checkout(app, client, "bakery", htmx=True)

    html = await text(response)
    assert response.status_code == 503
    assert response.headers["HX-Retarget"] == "#alerts"
    assert "<html" not in html and "Try again" in html


async def test_a_409_on_create_adopts_the_checkout_sumup_already_has(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    # The first order will be order 1: SumUp already holds its reference (an earlier lost answer).
    existing = await _create_at_sumup(sumup_standin, "rose-1-1", BAKERY_TOTAL)

    response = await post_checkout(app, client, "bakery")

    assert response.status_code == 303
    order = await only_order(db)
    assert order.id == 1 and order.sumup_checkout_id == existing["id"]
    assert response.headers["Location"] == existing["hosted_checkout_url"]
    assert len(await sumup_standin_control.checkouts()) == 1


async def test_a_409_for_a_different_payment_is_not_adopted(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await _create_at_sumup(sumup_standin, "rose-1-1", "1.00")

    with caplog.at_level(logging.CRITICAL):
        response = await post_checkout(app, client, "bakery", htmx=True)

    assert response.status_code == 502
    assert (await only_order(db)).sumup_checkout_id is None
    assert any(
        r.levelno == logging.CRITICAL and "rose-1-1" in r.getMessage() for r in caplog.records
    )


async def test_a_merchant_sumup_refuses_gets_an_error_page_and_keeps_the_order(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await sumup_standin_control.disable_merchant(SITE_MERCHANT)

    response = await post_checkout(app, client, "bakery")

    order: Order = await only_order(db)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/checkout/{order.id}/not-started/"
    assert "refused to start this payment" in await text(
        await client.get(f"/checkout/{order.id}/not-started/")
    )
    assert order.status == "pending"


async def _create_at_sumup(standin_url: str, reference: str, amount: str) -> dict[str, Any]:
    """A checkout made directly at the stand-in, as if by an earlier request of ours."""
    async with httpx.AsyncClient(
        base_url=standin_url, headers={"Authorization": f"Bearer {SITE_KEY}"}
    ) as api:
        response = await api.post(
            "/v0.1/checkouts",
            json={
                "checkout_reference": reference,
                "amount": float(amount),
                "currency": "GBP",
                "merchant_code": SITE_MERCHANT,
                "hosted_checkout": {"enabled": True},
            },
        )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_two_shoppers_checking_out_the_last_ticket_at_once_are_told_in_turn(
    app: Quart, db: AsyncSession
) -> None:
    shop = await shop_with_cart(db, user_id=7, ticket_capacity=1)
    await f.ticket(db, shop.ticket_type, user_id=8)
    first, second = await signed_in_client(app, 7), await signed_in_client(app, 8)

    responses = await asyncio.gather(
        post_checkout(app, first, "bakery"), post_checkout(app, second, "bakery")
    )

    assert sorted(r.status_code for r in responses) == [303, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert "sold out" in await text(refused)
    assert len(await all_orders(db)) == 1
