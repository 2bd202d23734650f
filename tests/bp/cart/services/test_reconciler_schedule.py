"""The reconciler's schedule: every open order comes up within a bounded time, however many are
open, because each has its own next-check time that moves back after every look at it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.reconciler import reconcile_once
from bp.runtime import runtime
from models import Order
from services.sumup import SumUpCredentials
from tests.support import factories as f
from tests.support.checkout import (
    SITE_KEY,
    SITE_MERCHANT,
    all_orders,
    payments_config,
    reconciler_deps,
)
from tests.support.http import internal_headers
from tests.support.standin import StandinControl

BATCH = 100
ABANDONED = 105
PAID_WITHOUT_WEBHOOK = 10


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, reconciler_batch_size=BATCH)


async def order_with_checkout(app: Quart, db: AsyncSession, *, user_id: int) -> Order:
    """An order whose first attempt's hosted checkout exists at SumUp, as checkout leaves it."""
    order = await f.order(db, user_id=user_id)
    reference = f"rose-{order.id}-1"
    checkout = await runtime(app).gateway.create_checkout(
        credentials=SumUpCredentials(api_key=SITE_KEY, merchant_code=SITE_MERCHANT),
        reference=reference,
        amount=order.total_amount,
        currency=order.currency,
        description=f"Order #{order.id}",
        return_url=f"http://127.0.0.1:9/checkout/webhook/{order.id}/",
        redirect_url=f"http://127.0.0.1:9/checkout/return/{order.id}/",
        valid_until=datetime.now(UTC) + timedelta(minutes=30),
    )
    order.attempt = 1
    order.merchant_code = SITE_MERCHANT
    order.sumup_reference = reference
    order.sumup_checkout_id = checkout.id
    order.sumup_hosted_url = checkout.hosted_checkout_url
    order.checkout_started_at = datetime.now(UTC)
    await db.commit()
    return order


async def test_paid_orders_behind_a_full_batch_of_abandoned_ones_are_settled(
    app: Quart, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    abandoned = [await order_with_checkout(app, db, user_id=1) for _ in range(ABANDONED)]
    paid = [await order_with_checkout(app, db, user_id=2) for _ in range(PAID_WITHOUT_WEBHOOK)]
    # The abandoned orders are the oldest: a scan oldest-first meets them before the others.
    await db.execute(
        update(Order)
        .where(Order.id.in_([o.id for o in abandoned]))
        .values(created_at=Order.created_at - timedelta(minutes=5))
    )
    await db.commit()
    await sumup_standin_control.faults(drop_webhook=True)
    for order in paid:
        await sumup_standin_control.pay(str(order.sumup_checkout_id))

    reports = [await reconcile_once(**reconciler_deps(app)) for _ in range(3)]

    statuses = {o.id: o.status for o in await all_orders(db)}
    assert [statuses[o.id] for o in paid] == ["paid"] * PAID_WITHOUT_WEBHOOK
    assert {statuses[o.id] for o in abandoned} == {"pending"}
    assert sum(r.paid for r in reports) == PAID_WITHOUT_WEBHOOK
    # Each open order was looked at, none twice: the checked ones wait their turn.
    assert sum(r.checked for r in reports) == ABANDONED + PAID_WITHOUT_WEBHOOK


async def test_an_order_checked_and_still_open_waits_longer_the_older_it_is(
    app: Quart, db: AsyncSession
) -> None:
    young = await order_with_checkout(app, db, user_id=1)
    old = await order_with_checkout(app, db, user_id=2)
    await db.execute(
        update(Order)
        .where(Order.id == old.id)
        .values(checkout_started_at=Order.checkout_started_at - timedelta(minutes=20))
    )
    await db.commit()
    before = datetime.now(UTC)

    report = await reconcile_once(**reconciler_deps(app))

    assert report.checked == 2
    rows = {
        row.id: row
        for row in await db.scalars(select(Order).execution_options(populate_existing=True))
    }
    young_wait = rows[young.id].next_check_at - before
    old_wait = rows[old.id].next_check_at - before
    interval = runtime(app).settings.reconciler_interval_seconds
    assert timedelta(seconds=interval) <= young_wait < old_wait
    # Never later than the moment the order is due to expire.
    started = rows[old.id].checkout_started_at
    assert started is not None
    assert rows[old.id].next_check_at <= started + timedelta(minutes=31)
    assert all(row.last_checked_at is not None for row in rows.values())
    # A second pass right away has nothing due.
    assert (await reconcile_once(**reconciler_deps(app))).checked == 0


async def test_a_new_payment_attempt_is_checked_at_the_next_pass(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    order = await order_with_checkout(app, db, user_id=1)
    assert (await reconcile_once(**reconciler_deps(app))).checked == 1
    assert (await reconcile_once(**reconciler_deps(app))).checked == 0
    # The checkout is close to its end: "pay again" starts the next attempt.
    await db.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(checkout_started_at=Order.checkout_started_at - timedelta(minutes=28))
    )
    await db.commit()
    from bp.cart.services.payment_attempts import start_payment
    from tests.support.checkout import payment_deps

    async with runtime(app).databases.sessionmaker() as session:
        await start_payment(session, order_id=order.id, **payment_deps(app))

    assert (await reconcile_once(**reconciler_deps(app))).checked == 1


async def test_metrics_show_the_reconcilers_backlog(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    for _ in range(3):
        await order_with_checkout(app, db, user_id=1)
    await db.execute(update(Order).values(next_check_at=Order.next_check_at - timedelta(minutes=2)))
    await db.commit()

    before = await (await client.get("/metrics", headers=internal_headers(app))).get_data(
        as_text=True
    )
    await reconcile_once(**reconciler_deps(app))
    after = await (await client.get("/metrics", headers=internal_headers(app))).get_data(
        as_text=True
    )

    assert "cart_reconciler_due_orders 3" in before
    overdue = next(
        line for line in before.splitlines() if line.startswith("cart_reconciler_overdue_seconds ")
    )
    assert Decimal(overdue.split()[1]) >= 119
    assert "cart_reconciler_due_orders 0" in after
    assert "cart_reconciler_overdue_seconds 0" in after
