"""Refunds through SumUp (the stand-in), recorded on the order, once: the internal endpoint and
`manage.py refund`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order
from tests.support import factories as f
from tests.support.checkout import (
    BAKERY_TOTAL,
    SITE_KEY,
    only_order,
    payments_config,
    post_checkout,
    shop_with_cart,
    text,
)
from tests.support.http import internal_headers, sign_in
from tests.support.standin import StandinControl

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def paid_order(
    app: Quart,
    client: Any,
    db: AsyncSession,
    control: StandinControl,
    *,
    sold_out: bool = False,
) -> Order:
    """User 7's bakery order, paid (with its ticket sold out meanwhile if `sold_out`)."""
    shop = await shop_with_cart(db, user_id=7, ticket_capacity=1 if sold_out else 50)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    if sold_out:
        await f.ticket(db, shop.ticket_type, user_id=99, state="confirmed")
    await control.pay(str(order.sumup_checkout_id))
    assert "Thank you" in await text(await client.get(f"/checkout/return/{order.id}/"))
    order = await only_order(db)
    assert order.needs_refund is sold_out
    return order


async def refund(app: Quart, client: Any, order_id: int, body: Any = None) -> Any:
    headers = {**internal_headers(app)}
    if body is None:
        return await client.post(f"/internal/cart/orders/{order_id}/refund", headers=headers)
    return await client.post(f"/internal/cart/orders/{order_id}/refund", headers=headers, json=body)


async def refunded_at_sumup(control: StandinControl, checkout_id: str) -> Decimal:
    checkout = await control.checkout(checkout_id)
    return sum((Decimal(str(t["refunded_amount"])) for t in checkout["transactions"]), Decimal(0))


async def test_a_sold_out_order_is_refunded_what_it_could_not_deliver(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control, sold_out=True)

    response = await refund(app, client, order.id)

    assert response.status_code == 200, await text(response)
    body = await response.get_json()
    assert body["refunded_amount"] == "12.00" and body["currency"] == "GBP"
    order = await only_order(db)
    assert order.refunded_amount == Decimal("12.00") and order.refunded_at is not None
    assert order.needs_refund is False
    assert await refunded_at_sumup(sumup_standin_control, str(order.sumup_checkout_id)) == Decimal(
        "12.00"
    )


async def test_a_second_refund_is_refused_without_calling_sumup(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control, sold_out=True)
    await refund(app, client, order.id)

    again = await refund(app, client, order.id, {"amount": "1.00"})

    assert again.status_code == 409
    error = (await again.get_json())["error"]
    assert error["code"] == "ALREADY_REFUNDED" and "£12.00" in error["message"]
    assert await refunded_at_sumup(sumup_standin_control, str(order.sumup_checkout_id)) == Decimal(
        "12.00"
    )


async def test_refunds_at_the_same_moment_refund_once(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)

    responses = await asyncio.gather(
        *(refund(app, app.test_client(), order.id, {"amount": "5.00"}) for _ in range(4))
    )

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    assert await refunded_at_sumup(sumup_standin_control, str(order.sumup_checkout_id)) == Decimal(
        "5.00"
    )


async def test_an_order_without_a_shortfall_is_refunded_in_full_by_default(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)

    response = await refund(app, client, order.id)

    assert (await response.get_json())["refunded_amount"] == BAKERY_TOTAL


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        *((amount, "INVALID_AMOUNT") for amount in ["abc", "-1", "0", "1.234", 12.5, True]),
        ("999.00", "AMOUNT_ABOVE_PAID"),
        ("NaN", "INVALID_AMOUNT"),
        ("Infinity", "INVALID_AMOUNT"),
    ],
)
async def test_a_bad_amount_is_a_400(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    amount: Any,
    code: str,
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)

    response = await refund(app, client, order.id, {"amount": amount})

    assert response.status_code == 400
    assert (await response.get_json())["error"]["code"] == code
    assert (await only_order(db)).refunded_at is None


async def test_a_body_that_is_not_an_object_is_a_400(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    response = await client.post(
        "/internal/cart/orders/1/refund",
        headers={**internal_headers(app), "Content-Type": "application/json"},
        data="[1, 2]",
    )

    assert response.status_code == 400


async def test_only_paid_orders_are_refunded(app: Quart, client: Any, db: AsyncSession) -> None:
    pending = await f.order(db, user_id=7)

    unpaid = await refund(app, client, pending.id)
    missing = await refund(app, client, 4242)

    assert unpaid.status_code == 409
    assert (await unpaid.get_json())["error"]["code"] == "ORDER_NOT_PAID"
    assert missing.status_code == 404


async def test_the_refund_endpoint_needs_the_internal_token(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    response = await client.post("/internal/cart/orders/1/refund")

    assert response.status_code == 401


async def test_a_refund_sumup_refuses_is_not_recorded(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    # Someone refunded it in full in SumUp's dashboard already.
    async with httpx.AsyncClient(
        base_url=sumup_standin, headers={"Authorization": f"Bearer {SITE_KEY}"}
    ) as api:
        done = await api.post(f"/v0.1/me/refund/{order.sumup_transaction_id}")
    assert done.status_code == 204

    response = await refund(app, client, order.id)

    assert response.status_code == 409
    assert (await response.get_json())["error"]["code"] == "REFUND_REFUSED"
    order = await only_order(db)
    assert order.refunded_at is None and order.refunded_amount is None


async def test_a_refund_sumup_does_not_authorise_is_not_recorded(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    await sumup_standin_control.revoke_key(SITE_KEY)

    response = await refund(app, client, order.id)

    assert response.status_code == 502
    assert (await response.get_json())["error"]["code"] == "REFUND_REFUSED"
    assert (await only_order(db)).refunded_at is None


async def test_the_order_page_shows_the_refund(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control, sold_out=True)
    before = await text(await client.get(f"/orders/{order.id}/"))
    assert "we will refund £12.00" in before
    assert "Sold out: to be refunded" in before

    await refund(app, client, order.id)

    assert (await only_order(db)).refunded_amount == Decimal("12.00")
    after = await text(await client.get(f"/orders/{order.id}/"))
    assert "Refunded £12.00 on" in after
    assert "Sold out: refunded" in after
    assert "we will refund" not in after


def test_manage_refund_refunds_and_records(
    app_config: dict[str, Any], sumup_standin: str, refundable: tuple[int, str]
) -> None:
    order_id, _ = refundable
    result = _manage(app_config, sumup_standin, "refund", str(order_id), "--amount", "3.00")

    assert result.returncode == 0, result.stderr
    assert f"order {order_id}: refunded £3.00" in result.stdout
    again = _manage(app_config, sumup_standin, "refund", str(order_id))
    assert again.returncode != 0 and "already refunded" in again.stderr


@pytest.fixture
async def refundable(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> tuple[int, str]:
    order = await paid_order(app, client, db, sumup_standin_control)
    return order.id, str(order.sumup_checkout_id)


def _manage(config: dict[str, Any], standin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": config["database_url"],
        "REDIS_URL": config["redis_url"],
        "SUMUP_API_BASE": standin,
        "SUMUP_API_KEY": config["sumup_api_key"],
        "SUMUP_MERCHANT_CODE": config["sumup_merchant_code"],
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_enormous_amount_is_a_clear_400_not_a_crash() -> None:
    from bp.cart.services.refunds import parse_refund_amount
    from lib.errors import BadRequest

    for hostile in ("1e400", "9999999999999", "-0.01", "0.001", "NaN", "Infinity"):
        with pytest.raises(BadRequest, match="The amount must be"):
            parse_refund_amount(hostile)
    assert parse_refund_amount("12.50") == Decimal("12.50")
