"""SIGTERM during a settlement burst on several Hypercorn workers: requests in flight finish,
the background jobs stop between passes, and every order is either settled whole or
untouched, whichever process got the signal."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from config.settings import DEVELOPMENT_SECRET
from lib.csrf import sign
from lib.db import make_engine
from models import CalendarEntry, CartItem, Order, OutboxEvent
from tests.faults.shoppers import AUTH_DB, PAGE_SLUG, SESSION_COOKIE, sign_in_shoppers
from tests.support import factories as f
from tests.support.servers import (
    PostgresServer,
    RedisServer,
    ServiceProcess,
    free_port,
    service_environment,
)
from tests.support.standin import StandinControl

ORDERS = 12
WORKERS = 2
# Each settlement waits this long for SumUp: the burst is still in flight when the signal
# comes, and well within the graceful timeout.
SUMUP_SECONDS = 1.5
GRACEFUL_TIMEOUT = "10"


@dataclass
class Buyer:
    user_id: int
    session_id: str
    booking_id: int
    order_id: int = 0


async def seed(database_url: str, user_ids: list[int]) -> dict[int, int]:
    """The bakery, and in each user's cart a loaf and a booking; answers user → booking id."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            page = await f.page(session, PAGE_SLUG, "The Bakery")
            loaf = await f.product(session, page, "Sourdough loaf", "4.50")
            calendar = await f.calendar(session, page, "Classes")
            bookings = {}
            for user_id in user_ids:
                await f.cart_item(session, loaf, user_id=user_id)
                entry = await f.booking(session, calendar, user_id=user_id)
                bookings[user_id] = entry.id
            return bookings
    finally:
        await engine.dispose()


async def check_out(http: httpx.AsyncClient, buyer: Buyer) -> str:
    """The buyer checks out the bakery; answers the SumUp checkout id."""
    http.cookies.set(SESSION_COOKIE, buyer.session_id)
    response = await http.post(
        f"/{PAGE_SLUG}/checkout/", data={"csrf_token": sign(DEVELOPMENT_SECRET, buyer.session_id)}
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/pay/c-", 1)[1]


async def come_back(http: httpx.AsyncClient, buyer: Buyer) -> int | None:
    """The buyer's return page after paying; its status, None if the answer never came."""
    try:
        response = await http.get(
            f"/checkout/return/{buyer.order_id}/",
            headers={"Cookie": f"{SESSION_COOKIE}={buyer.session_id}"},
        )
    except httpx.TransportError:
        return None
    return response.status_code


async def orders_as_stored(database_url: str) -> dict[int, tuple[str, str, int, int]]:
    """order id → (status, its booking's state, live cart lines of its owner, OrderPaid
    events)."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            orders = list(await session.scalars(select(Order)))
            found: dict[int, tuple[str, str, int, int]] = {}
            for order in orders:
                state = await session.scalar(
                    select(CalendarEntry.state).where(CalendarEntry.order_id == order.id)
                )
                live = len(
                    list(
                        await session.scalars(
                            select(CartItem.id).where(
                                CartItem.user_id == order.user_id, CartItem.deleted_at.is_(None)
                            )
                        )
                    )
                )
                paid_events = len(
                    list(
                        await session.scalars(
                            select(OutboxEvent.id).where(
                                OutboxEvent.event_type == "order.paid",
                                OutboxEvent.object_id == str(order.id),
                            )
                        )
                    )
                )
                found[order.id] = (order.status, str(state), live, paid_events)
            return found
    finally:
        await engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("target", ["a worker", "the master"])
async def test_sigterm_during_a_settlement_burst_leaves_nothing_half_done(
    migrated_postgres: PostgresServer,
    persistent_redis: RedisServer,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
    target: str,
) -> None:
    user_ids = list(range(1, ORDERS + 1))
    bookings = await seed(migrated_postgres.url, user_ids)
    sessions = await sign_in_shoppers(persistent_redis.url_for(AUTH_DB), user_ids)
    buyers = [Buyer(u, sessions[u], bookings[u]) for u in user_ids]
    port = free_port()
    env = service_environment(
        migrated_postgres.url,
        persistent_redis.url,
        SUMUP_API_BASE=sumup_standin,
        SUMUP_API_KEY="sup_sk_test",
        SUMUP_MERCHANT_CODE="MTEST001",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        # The reconciler is in a pass (settling the same orders) when the signal comes.
        RECONCILER_INTERVAL_SECONDS="0.2",
        RELAY_INTERVAL_SECONDS="0.2",
    )
    service = ServiceProcess(
        env, workers=WORKERS, port=port, args=["--graceful-timeout", GRACEFUL_TIMEOUT]
    )
    # The webhooks are lost and SumUp is slow to answer each look at a checkout.
    await sumup_standin_control.faults(drop_webhook=True, slow_get_seconds=SUMUP_SECONDS)
    with service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            for buyer in buyers:
                checkout_id = await check_out(http, buyer)
                paid = await sumup_standin_control.pay(checkout_id)
                buyer.order_id = int(paid["checkout_reference"].rsplit("-", 2)[-2])
        workers = service.worker_pids()
        assert len(workers) == WORKERS
        # One client, made beforehand: each request of the burst goes out on its own
        # connection at once.
        async with httpx.AsyncClient(
            base_url=service.url, timeout=30, limits=httpx.Limits(max_connections=ORDERS)
        ) as http:
            burst = [asyncio.create_task(come_back(http, buyer)) for buyer in buyers]
            await asyncio.sleep(SUMUP_SECONDS / 3)  # the burst is in flight, waiting for SumUp
            signalled_at = time.monotonic()
            os.kill(workers[0] if target == "a worker" else service.pid, signal.SIGTERM)
            answers = await asyncio.gather(*burst)
        exit_code = await asyncio.to_thread(service.stop)
        stopped_in = time.monotonic() - signalled_at
        log = service.log_text()

    # Every request that was in flight was answered, in full.
    assert answers == [200] * ORDERS, (answers, log[-3000:])
    assert exit_code == 0, log[-3000:]
    assert stopped_in < float(GRACEFUL_TIMEOUT), stopped_in
    # Each worker stopped its jobs between passes, none was cancelled.
    assert log.count("background jobs stopped") == WORKERS, log[-3000:]
    assert "did not stop" not in log and "Traceback" not in log, log[-3000:]
    # Each order settled whole (paid, booking confirmed, cart line gone, one OrderPaid) or
    # not at all (pending, booking still held for it, cart line there, no event).
    stored = await orders_as_stored(migrated_postgres.url)
    assert sorted(stored) == sorted(b.order_id for b in buyers)
    for order_id, facts in stored.items():
        assert facts in (("paid", "confirmed", 0, 1), ("pending", "ordered", 1, 0)), (
            order_id,
            facts,
        )
