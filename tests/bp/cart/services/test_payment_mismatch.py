"""A payment SumUp reports that does not match its order (another amount, currency, merchant or
reference): the order is never paid by it, expires on schedule with its claims released, and
carries a mark that the shopper, the operator's metrics and the log (once) all show."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.reconciler import reconcile_once
from models import CalendarEntry, Order, Ticket
from tests.support.checkout import (
    Shop,
    events_of,
    only_order,
    payment_deps,
    payments_config,
    post_checkout,
    post_form,
    reconciler_deps,
    shop_with_cart,
    state_of,
    text,
)
from tests.support.http import internal_headers, sign_in
from tests.support.standin import StandinControl

ROOT = Path(__file__).resolve().parents[4]
LATER = timedelta(minutes=32)
CONTACT = "orders@rose-ash.example"


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin, coop_contact_email=CONTACT)


async def paid_with_another_amount(
    app: Quart, client: Any, db: AsyncSession, control: StandinControl
) -> tuple[Shop, Order]:
    """User 7's bakery order, whose checkout SumUp reports PAID for an amount that is not the
    order's (the order's total differs from what the checkout was made for)."""
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)
    await control.faults(drop_webhook=True)
    await control.pay(str(order.sumup_checkout_id))
    await db.execute(
        update(Order).where(Order.id == order.id).values(total_amount=Decimal("99.00"))
    )
    await db.commit()
    return shop, order


async def settle(app: Quart, db: AsyncSession, order_id: int) -> Any:
    return await check_sumup_status(db, order_id=order_id, **payment_deps(app), source="test")


async def test_a_mismatched_payment_expires_on_schedule_and_releases_its_claims(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    shop, order = await paid_with_another_amount(app, client, db, sumup_standin_control)

    early = await reconcile_once(**reconciler_deps(app))
    assert (early.paid, early.expired) == (0, 0)
    assert (await only_order(db)).status == "pending"

    report = await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)

    assert report.expired == 1
    order = await only_order(db)
    assert order.status == "expired" and order.paid_at is None
    assert await events_of(db, "order.paid") == []
    assert await state_of(db, CalendarEntry, shop.booking.id) == "pending"
    assert shop.ticket is not None
    assert await state_of(db, Ticket, shop.ticket.id) == "pending"
    assert order.payment_mismatch_at is not None
    assert order.payment_mismatch_reason is not None
    assert "amount" in order.payment_mismatch_reason
    # It is no longer in the reconciler's way.
    again = await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)
    assert again.checked == 0


async def test_the_mismatch_is_logged_critical_once_however_often_it_is_seen(
    app: Quart,
    client: Any,
    db: AsyncSession,
    sumup_standin_control: StandinControl,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, order = await paid_with_another_amount(app, client, db, sumup_standin_control)

    with caplog.at_level(logging.INFO):
        for _ in range(3):
            assert (await settle(app, db, order.id)).mismatch
        await client.get(f"/checkout/return/{order.id}/")
        await reconcile_once(**reconciler_deps(app))
        await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)

    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1, critical
    assert f"order {order.id} NOT settled" in critical[0]


async def test_the_return_page_says_the_payment_could_not_be_matched(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    _, order = await paid_with_another_amount(app, client, db, sumup_standin_control)

    page = await text(await client.get(f"/checkout/return/{order.id}/"))
    assert 'data-state="mismatch"' in page
    assert "could not match your payment" in page
    assert "confirming your payment" not in page
    assert CONTACT in page and f"#{order.id}" in page
    # The status fragment (what the page polls) says so too and stops asking.
    fragment = await client.get(
        f"/checkout/return/{order.id}/status?poll=2", headers={"HX-Request": "true"}
    )
    assert fragment.headers.get("HX-Redirect") == f"/checkout/return/{order.id}/"

    await reconcile_once(**reconciler_deps(app), now=datetime.now(UTC) + LATER)

    expired = await text(await client.get(f"/checkout/return/{order.id}/"))
    assert "could not match your payment" in expired
    assert "nothing was charged" not in expired


async def test_the_order_page_and_the_metrics_show_the_mark_until_it_is_resolved(
    app: Quart,
    app_config: dict[str, Any],
    client: Any,
    db: AsyncSession,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
) -> None:
    _, order = await paid_with_another_amount(app, client, db, sumup_standin_control)
    await settle(app, db, order.id)

    page = await text(await client.get(f"/orders/{order.id}/"))
    assert 'id="order-payment-mismatch"' in page
    assert "could not be matched" in page
    assert 'id="pay-again"' not in page
    metrics = await (await client.get("/metrics", headers=internal_headers(app))).get_data(
        as_text=True
    )
    assert "cart_payment_mismatches 1" in metrics
    refused = await post_form(app, client, f"/orders/{order.id}/pay/")
    assert refused.status_code == 409

    result = _manage(app_config, sumup_standin, "resolve-mismatch", str(order.id))

    assert result.returncode == 0, result.stderr
    assert f"order {order.id}" in result.stdout
    metrics = await (await client.get("/metrics", headers=internal_headers(app))).get_data(
        as_text=True
    )
    assert "cart_payment_mismatches 0" in metrics
    assert (await only_order(db)).payment_mismatch_resolved_at is not None


async def test_a_matching_payment_leaves_no_mark(
    app: Quart, client: Any, db: AsyncSession, sumup_standin_control: StandinControl
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")
    order = await only_order(db)
    await sumup_standin_control.pay(str(order.sumup_checkout_id))

    await settle(app, db, order.id)

    order = await only_order(db)
    assert order.status == "paid" and order.payment_mismatch_at is None


def _manage(config: dict[str, Any], standin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": config["database_url"],
        "REDIS_URL": config["redis_url"],
        "SUMUP_API_BASE": standin,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
