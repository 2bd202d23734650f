"""The reconciler: pending orders settled without their webhook, abandoned ones expired and their
bookings and tickets released; one pass at a time across workers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.cart.services.reconciler import RECONCILER_LOCK_KEY, reconcile_once
from bp.runtime import runtime
from models import CalendarEntry, FederationActivity, Order, Ticket
from tests.support import factories as f
from tests.support.checkout import (
    all_orders,
    only_order,
    payments_config,
    post_checkout,
    reconciler_deps,
    shop_with_cart,
    state_of,
    text,
    wait_until,
)
from tests.support.checkout import (
    checked_out_signed_in as checked_out,
)
from tests.support.http import sign_in
from tests.support.standin import StandinControl

ROOT = Path(__file__).resolve().parents[4]
LATER = timedelta(minutes=32)


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, sumup_timeout_seconds=0.5)


async def test_a_paid_order_whose_webhook_never_came_is_settled(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await checked_out(app, client, db)
    order = await only_order(db)
    await sumup_standin_control.faults(drop_webhook=True)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    report = await reconcile_once(**reconciler_deps(app))

    assert (report.ran, report.checked, report.paid, report.errors) == (True, 1, 1, 0)
    assert (await only_order(db)).status == "paid"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"


async def test_an_order_unpaid_after_the_session_expires_and_releases_its_claims(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await checked_out(app, client, db)
    order = await only_order(db)

    soon = await reconcile_once(
        **reconciler_deps(app), now=datetime.now(UTC) + timedelta(minutes=5)
    )
    assert soon.expired == 0 and (await only_order(db)).status == "pending"

    report = await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)

    assert report.expired == 1
    order = await only_order(db)
    assert order.status == "expired" and order.closed_at is not None
    assert (await sumup_standin_control.checkout(str(order.sumup_checkout_id)))["status"] == (
        "EXPIRED"
    )
    assert await state_of(db, CalendarEntry, shop.booking.id) == "pending"
    assert shop.ticket is not None
    assert await state_of(db, Ticket, shop.ticket.id) == "pending"
    # Back in the cart: the page shows them again, and the hosted page no longer takes money.
    page = await text(await client.get("/bakery/"))
    assert "Bread class" in page and "Harvest supper" in page


async def test_an_order_paid_just_as_it_expires_is_settled_not_expired(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop = await checked_out(app, client, db)
    order = await only_order(db)
    # Paid, but SumUp's API still says PENDING to the reconciler's first look.
    await sumup_standin_control.faults(status_lag=1, drop_webhook=True)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    report = await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)

    assert report.paid == 1 and report.expired == 0
    assert (await only_order(db)).status == "paid"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"


async def test_a_failed_order_expires_too(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await checked_out(app, client, db)
    order = await only_order(db)
    await sumup_standin_control.fail(str(order.sumup_checkout_id))

    report = await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)

    assert report.expired == 1
    assert (await only_order(db)).status == "expired"


async def test_an_order_whose_checkout_was_never_started_expires(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await sumup_standin_control.faults(fail_create_5xx=True)
    await checked_out_allowing_failure(app, client, db)
    await sumup_standin_control.faults(fail_create_5xx=False)

    report = await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)

    assert report.expired == 1
    assert (await only_order(db)).status == "expired"


async def checked_out_allowing_failure(app: Quart, client: Any, db: AsyncSession) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")


async def test_a_checkout_created_without_our_hearing_is_found_by_its_reference(
    app: Quart,
    app_config: dict[str, Any],
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
) -> None:
    # Two attempts fail, and SumUp makes the checkout on the last but answers too late.
    await sumup_standin_control.faults(
        fail_create_5xx=2, slow_create_seconds={"value": 1.0, "times": 1}
    )
    await checked_out_allowing_failure(app, client, db)
    order = await only_order(db)
    assert order.sumup_checkout_id is None
    [checkout] = await sumup_standin_control.checkouts()
    await sumup_standin_control.pay(checkout["id"])

    report = await reconcile_once(**reconciler_deps(app))

    assert report.paid == 1
    order = await only_order(db)
    assert order.status == "paid" and order.sumup_checkout_id == checkout["id"]


async def test_a_fresh_order_of_someone_else_is_left_alone(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await checked_out(app, client, db)
    old = await only_order(db)
    await _age(db, old.id, minutes=40)
    other = app.test_client()
    await sign_in(app, other, 8)
    page = await f.page(db, "cafe")
    await f.cart_item(db, await f.product(db, page, "Tea", "2.00"), user_id=8)
    await post_checkout(app, other, "cafe")

    report = await reconcile_once(**reconciler_deps(app))

    assert report.expired == 1
    assert [o.status for o in await all_orders(db)] == ["expired", "pending"]


async def _age(db: AsyncSession, order_id: int, *, minutes: int) -> None:
    await db.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(checkout_started_at=Order.checkout_started_at - timedelta(minutes=minutes))
    )
    await db.commit()


async def test_sumup_down_leaves_orders_for_the_next_pass(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await checked_out(app, client, db)
    order = await only_order(db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    await sumup_standin_control.faults(fail_get_5xx=True)

    report = await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)

    assert report.errors == 1 and report.expired == 0
    assert (await only_order(db)).status == "pending"
    await sumup_standin_control.faults(fail_get_5xx=False)
    assert (await reconcile_once(**reconciler_deps(app))).paid == 1


async def test_a_pass_is_skipped_while_another_worker_holds_the_lock(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await checked_out(app, client, db)
    order = await only_order(db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))
    engine = runtime(app).databases.engine

    async with engine.connect() as other_worker:
        await other_worker.scalar(select(func.pg_advisory_lock(RECONCILER_LOCK_KEY)))
        skipped = await reconcile_once(**reconciler_deps(app))
        await other_worker.scalar(select(func.pg_advisory_unlock(RECONCILER_LOCK_KEY)))

    assert skipped.ran is False
    assert (await only_order(db)).status == "pending"
    assert (await reconcile_once(**reconciler_deps(app))).paid == 1


async def test_concurrent_passes_run_one_at_a_time(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await checked_out(app, client, db)
    # A slow SumUp keeps the first pass busy while the others try.
    await sumup_standin_control.faults(slow_get_seconds=0.3)

    reports = await asyncio.gather(*(reconcile_once(**reconciler_deps(app)) for _ in range(4)))

    assert sum(1 for report in reports if report.ran) == 1


async def test_the_background_jobs_settle_and_relay_by_themselves(
    app_config: dict[str, Any], clean_state: None, sumup_standin_control: StandinControl
) -> None:
    config = {
        **app_config,
        "background_jobs_enabled": True,
        "reconciler_interval_seconds": 0.1,
        "relay_interval_seconds": 0.1,
    }
    application = create_app(config)
    async with application.test_app():
        client = application.test_client()
        async with runtime(application).databases.sessionmaker() as db:
            await shop_with_cart(db, user_id=7)
            await sign_in(application, client, 7)
            await post_checkout(application, client, "bakery")
            order = await only_order(db)
            await sumup_standin_control.pay(str(order.sumup_checkout_id))

            async def settled() -> bool:
                found = await db.get(Order, order.id, populate_existing=True)
                relayed = await db.scalar(select(func.count()).select_from(FederationActivity))
                return found is not None and found.status == "paid" and relayed == 2

            await wait_until(settled, what="the reconciler and the relay")


def test_manage_reconcile_runs_one_pass(
    app_config: dict[str, Any], clean_state: None, sumup_standin: str
) -> None:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": app_config["database_url"],
        "REDIS_URL": app_config["redis_url"],
        "SUMUP_API_BASE": sumup_standin,
        "SUMUP_API_KEY": app_config["sumup_api_key"],
        "SUMUP_MERCHANT_CODE": app_config["sumup_merchant_code"],
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "reconcile"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "checked 0, paid 0, expired 0, errors 0" in result.stdout
