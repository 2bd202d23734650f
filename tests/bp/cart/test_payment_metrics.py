"""What the payment flows count in /metrics: SumUp calls by operation and outcome, settlements by
the path that asked and what they found, reconciler passes and the orders they expired, refunds
made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.reconciler import reconcile_and_record
from bp.runtime import runtime
from models import Order
from tests.support import factories as f
from tests.support.checkout import Shop, only_order, payments_config, post_checkout, shop_with_cart
from tests.support.http import internal_headers, sign_in
from tests.support.metrics import sample
from tests.support.standin import StandinControl

SUMUP_CALLS = "cart_sumup_request_duration_seconds_count"
SETTLEMENTS = "cart_settlements_total"
LATER = timedelta(minutes=32)


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def scrape(app: Quart) -> str:
    response = await app.test_client().get("/metrics", headers=internal_headers(app))
    assert response.status_code == 200
    return await response.get_data(as_text=True)


async def checked_out(
    app: Quart, client: Any, db: AsyncSession, *, ticket_capacity: int = 50
) -> tuple[Shop, Order]:
    shop = await shop_with_cart(db, user_id=7, ticket_capacity=ticket_capacity)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    return shop, await only_order(db)


async def test_webhooks_count_one_paid_settlement_and_one_already_paid(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    _, order = await checked_out(app, client, db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    hint = {"event_type": "CHECKOUT_STATUS_CHANGED", "id": order.sumup_checkout_id}

    for _ in range(2):
        response = await client.post(f"/checkout/webhook/{order.id}/", json=hint)
        assert response.status_code == 204

    body = await scrape(app)
    assert sample(body, SETTLEMENTS, path="webhook", outcome="paid") == 1
    assert sample(body, SETTLEMENTS, path="webhook", outcome="already_paid") == 1
    assert sample(body, SUMUP_CALLS, operation="create_checkout", outcome="201") == 1
    assert sample(body, SUMUP_CALLS, operation="get_checkout", outcome="200") == 1


async def test_sumup_failures_are_counted_by_outcome(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    _, order = await checked_out(app, client, db)
    await sumup_standin_control.faults(fail_get_5xx=True)

    response = await client.get(f"/checkout/return/{order.id}/")

    assert response.status_code < 500
    body = await scrape(app)
    assert (sample(body, SUMUP_CALLS, operation="get_checkout", outcome="500") or 0) >= 1
    assert sample(body, SETTLEMENTS, path="return", outcome="error") == 1


async def test_a_reconciler_pass_counts_itself_and_the_orders_it_expired(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await checked_out(app, client, db)

    report = await reconcile_and_record(runtime(app), now=datetime.now(UTC) + LATER)

    assert report.expired == 1
    body = await scrape(app)
    assert sample(body, "cart_reconciler_passes_total", outcome="ok") == 1
    assert sample(body, "cart_orders_expired_total") == 1
    assert sample(body, SUMUP_CALLS, operation="deactivate_checkout", outcome="200") == 1


async def test_a_refund_made_is_counted_once(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop, order = await checked_out(app, client, db, ticket_capacity=1)
    # The ticket sells out before the payment arrives: the paid order is owed a refund.
    await f.ticket(db, shop.ticket_type, user_id=99, state="confirmed")
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    assert (await client.get(f"/checkout/return/{order.id}/")).status_code == 200
    assert (await only_order(db)).needs_refund

    url = f"/internal/cart/orders/{order.id}/refund"
    first = await client.post(url, headers=internal_headers(app))
    again = await client.post(url, headers=internal_headers(app))

    assert first.status_code == 200 and again.status_code != 200
    body = await scrape(app)
    assert sample(body, "cart_refunds_made_total") == 1
    assert sample(body, SETTLEMENTS, path="return", outcome="paid") == 1
    assert sample(body, SUMUP_CALLS, operation="refund", outcome="204") == 1
