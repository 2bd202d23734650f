"""A second checkout of an order found paid after the order was paid: money taken twice. The
order is flagged for a refund of the second payment, the metrics count it, and the order page
says so."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.references import checkout_reference
from bp.cart.services.second_payment import resolve_second_payment
from bp.runtime import runtime
from lib.errors import ServiceError
from lib.metrics import bind_metrics
from models import Order
from tests.support.checkout import (
    only_order,
    payment_deps,
    payments_config,
    post_checkout,
    post_form,
    shop_with_cart,
    text,
)
from tests.support.http import internal_headers, settings_of, sign_in
from tests.support.standin import StandinControl


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def paid_twice(
    app: Quart, client: Any, db: AsyncSession, control: StandinControl
) -> tuple[Order, str]:
    """User 7's bakery order paid on its second attempt's checkout, and its first checkout
    paid too (in a tab left open); answers the order and that first checkout's id."""
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    first_checkout = str(order.sumup_checkout_id)
    # "Pay again" whose deactivation of the first checkout never reached SumUp: the second
    # attempt starts, and the first page stays payable.
    await db.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(
            attempt=2,
            sumup_reference=checkout_reference(settings_of(app).sumup_checkout_prefix, order.id, 2),
            sumup_checkout_id=None,
            sumup_hosted_url=None,
            checkout_started_at=datetime.now(UTC),
        )
    )
    await db.commit()
    assert (await post_form(app, client, f"/orders/{order.id}/pay/")).status_code == 303
    order = await only_order(db)
    await control.pay(str(order.sumup_checkout_id))
    assert "Thank you" in await text(await client.get(f"/checkout/return/{order.id}/"))
    await control.pay(first_checkout)
    return await only_order(db), first_checkout


async def test_a_second_payment_is_flagged_for_refund_counted_and_shown(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    caplog: pytest.LogCaptureFixture,
) -> None:
    order, first_checkout = await paid_twice(app, client, db, sumup_standin_control)

    # Counted as the webhook's own request would count it.
    bind_metrics(runtime(app).metrics)
    with caplog.at_level(logging.CRITICAL):
        # SumUp's webhook names the first checkout; it comes twice.
        for _ in range(2):
            settlement = await check_sumup_status(
                db,
                order_id=order.id,
                checkout_id=first_checkout,
                source="webhook",
                **payment_deps(app),
            )

    assert settlement.status == "paid"
    flagged = await only_order(db)
    assert flagged.second_payment_at is not None
    assert flagged.second_payment_checkout_id == first_checkout
    assert flagged.second_payment_amount == Decimal(order.total_amount)
    assert flagged.second_payment_transaction_id is not None
    # The order's own payment is untouched.
    assert flagged.sumup_checkout_id == order.sumup_checkout_id and flagged.refunded_at is None
    assert len([r for r in caplog.records if "paid twice" in r.getMessage()]) == 1
    metrics = await (await client.get("/metrics", headers=internal_headers(app))).get_data(
        as_text=True
    )
    assert "cart_second_payments 1.0" in metrics
    assert 'cart_settlements_total{outcome="second_payment",path="webhook"} 1.0' in metrics
    page = await text(await client.get(f"/orders/{order.id}/"))
    assert 'id="order-second-payment"' in page
    assert "was paid twice" in page and "£36.80" in page


async def test_the_operator_records_the_second_payment_refunded_once(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order, first_checkout = await paid_twice(app, client, db, sumup_standin_control)
    order_id = order.id
    await check_sumup_status(
        db, order_id=order_id, checkout_id=first_checkout, source="webhook", **payment_deps(app)
    )

    flagged_at = await resolve_second_payment(db, order_id=order_id)

    assert flagged_at == (await only_order(db)).second_payment_at
    assert (await only_order(db)).second_payment_refunded_at is not None
    with pytest.raises(ServiceError) as again:
        await resolve_second_payment(db, order_id=order_id)
    assert again.value.code == "SECOND_PAYMENT_REFUNDED"
    metrics = await (await client.get("/metrics", headers=internal_headers(app))).get_data(
        as_text=True
    )
    assert "cart_second_payments 0.0" in metrics
    page = await text(await client.get(f"/orders/{order_id}/"))
    assert "refunded the second payment" in page


async def test_an_order_paid_once_has_no_second_payment_to_resolve(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    order_id, checkout_id = order.id, order.sumup_checkout_id
    await sumup_standin_control.pay(str(checkout_id))
    # The webhook for the checkout that paid it finds nothing more.
    settlement = await check_sumup_status(
        db,
        order_id=order_id,
        checkout_id=checkout_id,
        source="webhook",
        **payment_deps(app),
    )
    assert settlement.is_paid and not settlement.second_payment

    with pytest.raises(ServiceError) as refused:
        await resolve_second_payment(db, order_id=order_id)

    assert refused.value.code == "NO_SECOND_PAYMENT"
    assert (await only_order(db)).second_payment_at is None
