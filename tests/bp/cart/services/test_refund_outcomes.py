"""A refund whose outcome SumUp did not tell us: found out from SumUp's transaction before any
retry, recorded once, and never made twice, whoever retries (an operator, the reconciler or
`manage.py refund`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.reconciler import reconcile_once
from models import Order
from tests.support.checkout import (
    only_order,
    payments_config,
    post_checkout,
    reconciler_deps,
    shop_with_cart,
    text,
)
from tests.support.http import internal_headers, sign_in
from tests.support.standin import StandinControl

ROOT = Path(__file__).resolve().parents[4]
# Longer than the client's SumUp timeout (payments_config: 2 s): the answer never arrives.
LATE = 2.5
# The longest a refund call may run with SUMUP_TIMEOUT_SECONDS=120: its connect and its answer.
SUMUP_CALL_LIMIT = 125
# When the refund_after_5xx switch makes the refund, after answering 5xx.
LANDS_AFTER = 0.5


@pytest.fixture
def app_config(
    app_config: dict[str, Any], sumup_standin: str, request: pytest.FixtureRequest
) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, **getattr(request, "param", {}))


async def paid_order(app: Quart, client: Any, db: AsyncSession, control: StandinControl) -> Order:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    await control.pay(str(order.sumup_checkout_id))
    assert "Thank you" in await text(await client.get(f"/checkout/return/{order.id}/"))
    return await only_order(db)


async def refund(app: Quart, client: Any, order_id: int, amount: str = "5.00") -> Any:
    return await client.post(
        f"/internal/cart/orders/{order_id}/refund",
        headers=internal_headers(app),
        json={"amount": amount},
    )


async def refunds_at_sumup(control: StandinControl, order: Order) -> list[float]:
    assert order.sumup_transaction_id is not None
    return [r["amount"] for r in await control.refunds(order.sumup_transaction_id)]


async def age_the_claim(db: AsyncSession, order_id: int) -> None:
    await db.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(refund_requested_at=Order.refund_requested_at - timedelta(minutes=10))
    )
    await db.commit()


@pytest.mark.parametrize(
    "switch",
    [
        {"slow_refund_seconds": {"value": LATE, "times": 1}},
        {"fail_refund_5xx_after_apply": 1},
        {"drop_refund_answer": {"value": True, "times": 1}},
    ],
    ids=["answer-late", "5xx-after-refunding", "connection-dropped"],
)
async def test_a_refund_made_but_not_answered_is_recorded_once_and_never_repeated(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    switch: dict[str, Any],
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    await sumup_standin_control.faults(**switch)

    first = await refund(app, client, order.id)
    # The operator, unsure, asks again.
    second = await refund(app, client, order.id)

    assert first.status_code == 200, await text(first)
    assert (await first.get_json())["refunded_amount"] == "5.00"
    assert second.status_code == 409
    assert (await second.get_json())["error"]["code"] == "ALREADY_REFUNDED"
    assert await refunds_at_sumup(sumup_standin_control, order) == [5.0]
    order = await only_order(db)
    assert order.refunded_amount == Decimal("5.00") and order.refunded_at is not None


async def test_a_refund_answered_5xx_stays_claimed_until_sumup_shows_it_was_not_made(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    await sumup_standin_control.faults(fail_refund_5xx={"value": 503, "times": 1})

    first = await refund(app, client, order.id)

    # A 5xx does not prove that nothing was refunded: the claim stays.
    assert first.status_code == 503
    assert (await first.get_json())["error"]["code"] == "REFUND_UNCONFIRMED"
    assert (await only_order(db)).refund_requested_at is not None
    assert (await refund(app, client, order.id)).status_code == 409
    # Once no call of ours can still be running, SumUp's transaction decides: not made, so
    # the refund can be made, once.
    await age_the_claim(db, order.id)
    second = await refund(app, client, order.id)
    assert second.status_code == 200, await text(second)
    assert await refunds_at_sumup(sumup_standin_control, order) == [5.0]


@pytest.mark.parametrize(
    "switch",
    [
        {"refund_after_5xx_seconds": {"value": LANDS_AFTER, "times": 1}},
        {"fail_refund_5xx_after_apply": 1, "transaction_lag": {"value": 1, "times": 1}},
    ],
    ids=["made-after-the-5xx", "made-but-the-lookup-lags"],
)
async def test_a_refund_made_after_its_5xx_is_never_made_twice(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    switch: dict[str, Any],
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    await sumup_standin_control.faults(**switch)

    first = await refund(app, client, order.id)
    await asyncio.sleep(LANDS_AFTER + 0.3)
    # The operator (or a sibling app whose Idempotency-Key was given back) tries again.
    retry = await refund(app, client, order.id)

    assert first.status_code == 503
    assert (await first.get_json())["error"]["code"] == "REFUND_UNCONFIRMED"
    assert retry.status_code == 409
    assert (await retry.get_json())["error"]["code"] == "REFUND_IN_PROGRESS"
    assert await refunds_at_sumup(sumup_standin_control, order) == [5.0]
    await age_the_claim(db, order.id)
    report = await reconcile_once(**reconciler_deps(app))
    assert report.refunds_resolved == 1
    order = await only_order(db)
    assert order.refunded_at is not None and order.refunded_amount == Decimal("5.00")
    assert await refunds_at_sumup(sumup_standin_control, order) == [5.0]


async def test_two_operators_refunding_at_once_refund_once(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    # The first refund is made but answered too late; the second operator asks meanwhile.
    await sumup_standin_control.faults(slow_refund_seconds={"value": LATE, "times": 1})

    first_call = asyncio.create_task(refund(app, app.test_client(), order.id))
    await asyncio.sleep(0.5)
    second = await refund(app, app.test_client(), order.id)
    first = await first_call

    assert second.status_code == 409
    assert (await second.get_json())["error"]["code"] == "REFUND_IN_PROGRESS"
    assert first.status_code == 200, await text(first)
    assert await refunds_at_sumup(sumup_standin_control, order) == [5.0]
    assert (await only_order(db)).refunded_at is not None


async def test_an_unknown_outcome_stays_pending_until_sumup_is_asked_again(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    # The refund is made, its answer is lost, and the lookup that would tell fails too.
    await sumup_standin_control.faults(
        drop_refund_answer={"value": True, "times": 1},
        fail_transaction_get_5xx={"value": 503, "times": 1},
    )

    first = await refund(app, client, order.id)

    assert first.status_code == 503
    assert (await first.get_json())["error"]["code"] == "REFUND_UNCONFIRMED"
    pending = await only_order(db)
    assert pending.refund_requested_at is not None and pending.refunded_at is None
    page = await text(await client.get(f"/orders/{order.id}/"))
    assert "being confirmed" in page
    metrics = await (await client.get("/metrics", headers=internal_headers(app))).get_data(
        as_text=True
    )
    assert "cart_refunds_unconfirmed 1" in metrics
    # Straight away, a retry waits rather than risk a second refund.
    retry = await refund(app, client, order.id)
    assert retry.status_code == 409

    await age_the_claim(db, order.id)
    report = await reconcile_once(**reconciler_deps(app))

    assert report.refunds_resolved == 1
    order = await only_order(db)
    assert order.refunded_at is not None and order.refunded_amount == Decimal("5.00")
    assert await refunds_at_sumup(sumup_standin_control, order) == [5.0]


async def test_a_pending_refund_that_sumup_never_made_is_released_for_a_new_one(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    # SumUp fails the refund, and the lookup that would tell fails too: the outcome is unknown.
    await sumup_standin_control.faults(
        fail_refund_5xx={"value": 503, "times": 1},
        fail_transaction_get_5xx={"value": 503, "times": 1},
    )
    first = await refund(app, client, order.id)
    assert first.status_code == 503

    await age_the_claim(db, order.id)
    retried = await refund(app, client, order.id)

    assert retried.status_code == 200, await text(retried)
    assert await refunds_at_sumup(sumup_standin_control, order) == [5.0]


@pytest.fixture
async def pending_refund(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> Order:
    order = await paid_order(app, client, db, sumup_standin_control)
    await sumup_standin_control.faults(
        slow_refund_seconds={"value": LATE, "times": 1},
        fail_transaction_get_5xx={"value": 503, "times": 1},
    )
    assert (await refund(app, client, order.id)).status_code == 503
    await age_the_claim(db, order.id)
    return order


async def test_manage_refund_confirms_a_pending_refund_without_refunding_again(
    app: Quart,
    app_config: dict[str, Any],
    db: AsyncSession,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
    pending_refund: Order,
) -> None:
    result = await asyncio.to_thread(
        _manage, app_config, sumup_standin, "refund", str(pending_refund.id)
    )

    assert result.returncode == 0, result.stderr
    assert f"order {pending_refund.id}: refunded £5.00" in result.stdout
    assert await refunds_at_sumup(sumup_standin_control, pending_refund) == [5.0]
    assert (await only_order(db)).refunded_at is not None


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


@pytest.mark.parametrize("app_config", [{"sumup_timeout_seconds": 120.0}], indirect=True)
async def test_a_claim_is_kept_while_its_refund_call_may_still_be_running(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    order = await paid_order(app, client, db, sumup_standin_control)
    # Not made, and the lookup that would tell fails: the outcome is unknown.
    await sumup_standin_control.faults(
        fail_refund_5xx={"value": 503, "times": 1},
        fail_transaction_get_5xx={"value": 503, "times": 1},
    )
    assert (await refund(app, client, order.id)).status_code == 503
    claimed_at = (await only_order(db)).refund_requested_at
    assert claimed_at is not None

    # Two minutes and more on, a refund call allowed 120 s may still be on its way.
    early = await reconcile_once(
        **reconciler_deps(app), now=claimed_at + timedelta(seconds=SUMUP_CALL_LIMIT + 1)
    )
    assert early.refunds_resolved == 0
    assert (await only_order(db)).refund_requested_at == claimed_at

    late = await reconcile_once(**reconciler_deps(app), now=claimed_at + timedelta(minutes=10))
    assert late.refunds_resolved == 1
    released = await only_order(db)
    assert released.refund_requested_at is None and released.refunded_at is None
