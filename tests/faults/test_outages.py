"""The service on several Hypercorn workers while its PostgreSQL or Redis restarts under
shoppers who add to their carts and check out: 503 (never 500) only for requests that overlap
the outage, every acknowledged add kept, no order paid twice, and service again as soon as the
server is back, without restarting the service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.faults.shoppers import (
    AUTH_DB,
    SESSION_COOKIE,
    Outage,
    Outcome,
    check_the_data,
    paid_twice_at_sumup,
    seed_shop,
    shoppers_for,
    sign_in_shoppers,
    unexplained_failures,
    wait_for_successes,
)
from tests.support.servers import (
    PostgresServer,
    RedisServer,
    ServiceProcess,
    free_port,
    service_environment,
)
from tests.support.standin import StandinControl

SHOPPERS = 4
WORKERS = 2
DOWN_SECONDS = 2.0
WARM_UP_SECONDS = 30.0
# After the server is back, each shopper must succeed this often within this time.
RECOVERED_REQUESTS = 6
RECOVERY_SECONDS = 10.0


async def shop_through_an_outage(
    *,
    postgres: PostgresServer,
    redis: RedisServer,
    standin: str,
    control: StandinControl,
    server: PostgresServer | RedisServer,
    name: str,
) -> tuple[list[Outcome], Outage]:
    shop = await seed_shop(postgres.url)
    sessions = await sign_in_shoppers(redis.url_for(AUTH_DB), range(1, SHOPPERS + 1))
    port = free_port()
    env = service_environment(
        postgres.url,
        redis.url,
        SUMUP_API_BASE=standin,
        SUMUP_API_KEY="sup_sk_test",
        SUMUP_MERCHANT_CODE="MTEST001",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        MAX_LINE_QUANTITY="10000",
        DATABASE_POOL_SIZE="5",
        RECONCILER_INTERVAL_SECONDS="1",
    )
    outcomes: list[Outcome] = []
    with ServiceProcess(env, workers=WORKERS, port=port) as service:
        shoppers = shoppers_for(
            sessions, base_url=service.url, shop=shop, standin=control, outcomes=outcomes
        )
        stop = asyncio.Event()
        running = [asyncio.create_task(shopper.run(stop)) for shopper in shoppers]
        try:
            await wait_for_successes(
                outcomes, shoppers, since=0, each=3, seconds=WARM_UP_SECONDS, what="warm-up"
            )
            outage = Outage(name, down_at=time.monotonic())
            await server.astop()
            await asyncio.sleep(DOWN_SECONDS)  # the outage itself
            await server.astart()
            outage.back_at = time.monotonic()
            await wait_for_successes(
                outcomes,
                shoppers,
                since=outage.back_at,
                each=RECOVERED_REQUESTS,
                seconds=RECOVERY_SECONDS,
                what=f"after {name} came back",
            )
        finally:
            stop.set()
            await asyncio.gather(*running)
        assert service.stop() == 0
    await check_the_data(postgres.url, shoppers)
    assert await paid_twice_at_sumup(control) == []
    return outcomes, outage


def assert_only_503s_during(outcomes: list[Outcome], outage: Outage) -> None:
    describe: Callable[[Outcome], Any] = lambda o: (  # noqa: E731
        o.kind,
        o.status,
        round(o.started - outage.down_at, 2),
        round(o.ended - outage.down_at, 2),
    )
    wrong = [describe(o) for o in outcomes if o.failed and o.status != 503]
    assert wrong == [], f"{len(wrong)} answers other than 503 around the outage: {wrong[:10]}"
    late = [describe(o) for o in unexplained_failures(outcomes, [outage])]
    assert late == [], (
        f"{len(late)} failures outside the outage ({outage.name} down for "
        f"{outage.back_at - outage.down_at:.1f}s): {late[:10]}"
    )
    during = [o for o in outcomes if o.ended >= outage.down_at and o.started < outage.back_at]
    assert during, "no request overlapped the outage"


@pytest.mark.slow
async def test_a_database_restart_costs_503s_only_while_it_is_down(
    migrated_postgres: PostgresServer,
    persistent_redis: RedisServer,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
) -> None:
    outcomes, outage = await shop_through_an_outage(
        postgres=migrated_postgres,
        redis=persistent_redis,
        standin=sumup_standin,
        control=sumup_standin_control,
        server=migrated_postgres,
        name="PostgreSQL",
    )

    assert_only_503s_during(outcomes, outage)


@pytest.mark.slow
async def test_a_redis_restart_costs_503s_only_while_it_is_down(
    migrated_postgres: PostgresServer,
    persistent_redis: RedisServer,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
) -> None:
    outcomes, outage = await shop_through_an_outage(
        postgres=migrated_postgres,
        redis=persistent_redis,
        standin=sumup_standin,
        control=sumup_standin_control,
        server=persistent_redis,
        name="Redis",
    )

    assert_only_503s_during(outcomes, outage)


async def busy(http: httpx.AsyncClient, paths: list[str], *, concurrency: int) -> list[int]:
    """GET the paths, `concurrency` at a time; answers the statuses (0: no answer)."""
    limit = asyncio.Semaphore(concurrency)

    async def get(path: str) -> int:
        async with limit:
            try:
                return (await http.get(path)).status_code
            except httpx.TransportError:
                return 0

    return list(await asyncio.gather(*(get(path) for path in paths)))


@pytest.mark.slow
@pytest.mark.parametrize("which", ["PostgreSQL", "Redis"])
async def test_the_first_requests_after_a_restart_while_idle_succeed(
    migrated_postgres: PostgresServer, persistent_redis: RedisServer, which: str
) -> None:
    """Pooled connections that the restart closed are never handed to a request."""
    await seed_shop(migrated_postgres.url)
    [sid] = (await sign_in_shoppers(persistent_redis.url_for(AUTH_DB), [1])).values()
    env = service_environment(migrated_postgres.url, persistent_redis.url, DATABASE_POOL_SIZE="5")
    server: PostgresServer | RedisServer = (
        migrated_postgres if which == "PostgreSQL" else persistent_redis
    )
    with ServiceProcess(env, workers=WORKERS) as service:
        async with httpx.AsyncClient(
            base_url=service.url, cookies={SESSION_COOKIE: sid}, timeout=30
        ) as http:
            # Fill every worker's pools with connections.
            warm = await busy(http, ["/bakery/", "/readyz"] * 40, concurrency=16)
            assert set(warm) == {200}, warm

            await server.astop()
            await server.astart()
            after = await busy(http, ["/bakery/", "/readyz"] * 20, concurrency=4)

        assert after == [200] * len(after), after
        assert service.stop() == 0
