"""Many workers over one PostgreSQL through PgBouncer in transaction pooling mode.

The service runs on several Hypercorn workers with `DATABASE_PGBOUNCER=true`, its database
URL pointing at a PgBouncer that gives all of them five server connections. Several signed-in
shoppers add to their carts, check out and pay, SumUp calls every webhook twice, the shoppers
come back to the return page and the reconciler runs every half second: every request answers
below 500, every order paid at SumUp is paid once here, with one `rose:OrderPaid`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from lib.db import make_engine
from models import Order, OutboxEvent
from tests.faults.shoppers import (
    AUTH_DB,
    Outcome,
    Shopper,
    check_the_data,
    paid_twice_at_sumup,
    seed_shop,
    shoppers_for,
    sign_in_shoppers,
)
from tests.support.servers import (
    PgBouncer,
    PostgresServer,
    RedisServer,
    ServiceProcess,
    free_port,
    service_environment,
)
from tests.support.servers.fixtures import require_pgbouncer
from tests.support.standin import StandinControl

SHOPPERS = 3
WORKERS = 2
# Each shopper pays this many orders before the test stops them.
PAID_EACH = 2
SHOPPING_SECONDS = 45.0
SERVER_CONNECTIONS = 5


@pytest.fixture
def bouncer(migrated_postgres: PostgresServer) -> Iterator[PgBouncer]:
    """PgBouncer as the README configures it: transaction pooling, DISCARD ALL after each
    transaction (the statements the workers prepare under unique names do not pile up)."""
    require_pgbouncer()
    settings = {
        "default_pool_size": str(SERVER_CONNECTIONS),
        "server_reset_query_always": "1",
    }
    with PgBouncer(migrated_postgres, settings=settings) as server:
        yield server


async def paid_orders_in(database_url: str) -> tuple[set[int], Counter[str]]:
    """The orders marked paid, and how many `rose:OrderPaid` each has in the outbox."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine)() as session:
            paid = set(await session.scalars(select(Order.id).where(Order.status == "paid")))
            events = await session.execute(
                select(OutboxEvent.object_id, OutboxEvent.payload).where(
                    OutboxEvent.event_type == "order.paid"
                )
            )
            kinds = Counter(f"{object_id}:{payload['type']}" for object_id, payload in events.all())
    finally:
        await engine.dispose()
    return paid, kinds


async def wait_until_each_paid(shoppers: list[Shopper], outcomes: list[Outcome]) -> None:
    deadline = time.monotonic() + SHOPPING_SECONDS
    while any(len(s.paid_orders) < PAID_EACH for s in shoppers):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not every shopper paid {PAID_EACH} orders within {SHOPPING_SECONDS:g}s: "
                f"{[len(s.paid_orders) for s in shoppers]}; last requests "
                f"{[(o.kind, o.status) for o in outcomes][-20:]}"
            )
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_checkout_and_settlement_race_through_pgbouncer_pays_each_order_once(
    migrated_postgres: PostgresServer,
    bouncer: PgBouncer,
    throwaway_redis: RedisServer,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
) -> None:
    shop = await seed_shop(migrated_postgres.url)
    sessions = await sign_in_shoppers(throwaway_redis.url_for(AUTH_DB), range(1, SHOPPERS + 1))
    await sumup_standin_control.faults(duplicate_webhook=True)
    port = free_port()
    env = service_environment(
        bouncer.url,
        throwaway_redis.url,
        DATABASE_PGBOUNCER="true",
        DATABASE_POOL_SIZE="5",
        SUMUP_API_BASE=sumup_standin,
        SUMUP_API_KEY="sup_sk_test",
        SUMUP_MERCHANT_CODE="MTEST001",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        MAX_LINE_QUANTITY="10000",
        RECONCILER_INTERVAL_SECONDS="0.5",
    )
    outcomes: list[Outcome] = []
    with ServiceProcess(env, workers=WORKERS, port=port) as service:
        shoppers = shoppers_for(
            sessions,
            base_url=service.url,
            shop=shop,
            standin=sumup_standin_control,
            outcomes=outcomes,
        )
        stop = asyncio.Event()
        running = [asyncio.create_task(shopper.run(stop)) for shopper in shoppers]
        try:
            await wait_until_each_paid(shoppers, outcomes)
        finally:
            stop.set()
            await asyncio.gather(*running)
        paid_by_shoppers = set().union(*(s.paid_orders for s in shoppers))
        # Both deliveries of every paid order's webhook, answered before the service stops.
        deliveries = await sumup_standin_control.wait_for_webhooks(
            2 * len(paid_by_shoppers), wait_seconds=15
        )
        assert service.stop() == 0
        log = service.log_text()
    pools = {row["database"]: row for row in bouncer.show("POOLS")}

    failures = [(o.kind, o.status) for o in outcomes if o.failed]
    assert failures == [], failures[:10]
    assert {d["status_code"] for d in deliveries} == {204}
    assert "Traceback" not in log and "prepared statement" not in log
    assert pools[migrated_postgres.database]["pool_mode"] == "transaction"
    await check_the_data(migrated_postgres.url, shoppers)
    assert await paid_twice_at_sumup(sumup_standin_control) == []
    paid, events = await paid_orders_in(migrated_postgres.url)
    assert paid_by_shoppers <= paid
    assert events == Counter(f"{order_id}:rose:OrderPaid" for order_id in paid)
