"""Webhooks, the return page, the reconciler and other worker processes settle one order at once.

Four OS processes (spawned, each with its own engine and SumUp client) call check_sumup_status
for the same paid order at the same moment, while SumUp delivers its webhook twice to the served
app, the shopper loads the return page and the reconciler runs: one paid transition, one
`rose:OrderPaid`, the bookings and tickets confirmed once, the cart lines taken once.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.check_sumup_status import check_sumup_status
from bp.cart.services.reconciler import reconcile_once
from config.settings import load_settings
from models import CalendarEntry, CartItem, Ticket
from services.runtime import open_runtime
from tests.support.checkout import (
    events_of,
    live_lines,
    only_order,
    payments_config,
    post_checkout,
    reconciler_deps,
    served,
    shop_with_cart,
    state_of,
)
from tests.support.checkout import (
    text as response_text,
)
from tests.support.http import sign_in
from tests.support.racing import START_TIMEOUT_SECONDS, racing_processes
from tests.support.standin import StandinControl, free_port

PROCESSES = 4


def settle_in_process(
    config: dict[str, Any], order_id: int, ready: Any, start: Any, results: Any
) -> None:
    """A worker process: its own engine and SumUp client, then check_sumup_status at the signal."""
    asyncio.run(_settle_in_process(config, order_id, ready, start, results))


async def _settle_in_process(
    config: dict[str, Any], order_id: int, ready: Any, start: Any, results: Any
) -> None:
    settings = load_settings(config)
    async with open_runtime(settings) as runtime:

        async def settle() -> Any:
            async with runtime.databases.sessionmaker() as session:
                return await check_sumup_status(
                    session,
                    order_id=order_id,
                    settings=runtime.settings,
                    gateway=runtime.gateway,
                    domains=runtime.domains,
                    source=f"process {os.getpid()}",
                )

        try:
            # A first check while the order is unpaid warms connections and caches, so that
            # after the start line the settlements really run at the same moment.
            await settle()
            await asyncio.to_thread(ready.wait, START_TIMEOUT_SECONDS)
            await asyncio.to_thread(start.wait, START_TIMEOUT_SECONDS)
            settlement = await settle()
            results.put((settlement.status, settlement.changed))
        except Exception as error:  # reported to the test, which fails on it
            results.put(("error", repr(error)))


@pytest.fixture
def app_port() -> int:
    return free_port()


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str, app_port: int) -> dict[str, Any]:
    return payments_config(
        app_config, sumup_standin, public_base_url=f"http://127.0.0.1:{app_port}"
    )


@pytest.fixture
async def live_app(app: Quart, app_port: int) -> AsyncIterator[str]:
    async with served(app, app_port) as base_url:
        yield base_url


@pytest.mark.slow
async def test_one_paid_transition_however_many_settle_at_once(
    app: Quart,
    app_config: dict[str, Any],
    client: Any,
    db: AsyncSession,
    live_app: str,
    sumup_standin_control: StandinControl,
) -> None:
    shop = await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    assert (await post_checkout(app, client, "bakery")).status_code == 303
    order = await only_order(db)

    async with racing_processes(settle_in_process, [(app_config, order.id)] * PROCESSES) as race:
        await race.ready()
        # SumUp sees the payment and calls the webhook twice at once, just as everyone goes.
        await sumup_standin_control.faults(duplicate_webhook=True, delay_webhook_seconds=0.05)
        await sumup_standin_control.pay(str(order.sumup_checkout_id))
        await race.go()
        page, report = await asyncio.gather(
            client.get(f"/checkout/return/{order.id}/"), reconcile_once(**reconciler_deps(app))
        )
        outcomes = await race.results()
    deliveries = await sumup_standin_control.wait_for_webhooks(2)

    assert race.exit_codes() == [0] * PROCESSES
    assert all(status == "paid" for status, _ in outcomes), outcomes
    assert sum(1 for _, changed in outcomes if changed) <= 1
    assert {d["status_code"] for d in deliveries} == {204}
    assert "Thank you" in await response_text(page)
    assert report.errors == 0

    order = await only_order(db)
    assert order.status == "paid" and order.paid_at is not None
    [paid_event] = await events_of(db, "order.paid", order.id)
    # paid_at was written once: by the same transaction that wrote the one event.
    assert paid_event.payload["object"]["paidAt"] == order.paid_at.isoformat()
    assert paid_event.payload["type"] == "rose:OrderPaid"
    assert await state_of(db, CalendarEntry, shop.booking.id) == "confirmed"
    assert shop.ticket is not None
    assert await state_of(db, Ticket, shop.ticket.id) == "confirmed"
    assert not order.needs_refund
    assert await live_lines(db, user_id=7) == {shop.compost.id: 1}
    taken = await db.scalar(
        select(func.count()).select_from(CartItem).where(CartItem.order_id == order.id)
    )
    assert taken == 2
