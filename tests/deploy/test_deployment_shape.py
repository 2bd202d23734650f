"""The service as operators deploy it: two instances behind HAProxy, through PgBouncer.

Everything comes from the machine's own packages (Debian's haproxy, pgbouncer, PostgreSQL,
redis-server), is started here on free ports and torn down after. Through the proxy:

1. a shopper's session and CSRF token work whichever instance answers;
2. rate limits count per real client (the address HAProxy forwards) across both instances,
   whatever `X-Forwarded-For` the client sends itself;
3. shoppers check out and pay while SumUp sends every webhook twice and the reconciler runs on
   every worker of both instances: each order is paid once, with one `rose:OrderPaid`; one
   reconciler holds its lock at a time, and the relay delivers each event once;
4. each instance in turn is drained in HAProxy, stopped (SIGTERM) and started again, while the
   shoppers keep shopping: no request answers 5xx or fails, no acknowledged add is lost.

The figures (orders, webhooks, requests, 5xx, 429, reconciler passes) are printed.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from lib.db import make_engine
from models import CartItem
from tests.deploy.cluster import (
    FAILED_TOKENS_PER_MINUTE,
    LockWatch,
    client_at,
    counted,
    instance_environment,
    instances,
    internal_token,
    scrape,
    wait_for_relay,
    watch_reconciler_lock,
)
from tests.faults.shoppers import (
    AUTH_DB,
    PAGE_SLUG,
    Outcome,
    Shopper,
    check_the_data,
    paid_twice_at_sumup,
    seed_shop,
    shoppers_for,
    sign_in_shoppers,
    wait_for_successes,
)
from tests.support.http import token_in
from tests.support.servers import PgBouncer, PostgresServer, RedisServer, ServiceProcess, free_port
from tests.support.servers.fixtures import require_pgbouncer
from tests.support.servers.haproxy import (
    INSTANCES,
    NOT_INSTALLED,
    SERVED_BY,
    HAProxy,
    haproxy_binary,
)
from tests.support.standin import StandinControl

SHOPPERS = 4
PAID_EACH = 2
SHOPPING_SECONDS = 60.0
# Requests each shopper must have answered after an instance is back, before the next restart.
SUCCESSES_AFTER_RESTART = 3
SERVER_CONNECTIONS = 10
ANONYMOUS_ADDS = 6
SUMMARY = "/internal/cart/summary"


@pytest.fixture
def bouncer(migrated_postgres: PostgresServer) -> Iterator[PgBouncer]:
    require_pgbouncer()
    if haproxy_binary() is None:
        pytest.skip(NOT_INSTALLED)
    settings = {
        "default_pool_size": str(SERVER_CONNECTIONS),
        "server_reset_query_always": "1",
    }
    with PgBouncer(migrated_postgres, settings=settings) as server:
        yield server


async def session_and_csrf_on_either_instance(proxy: HAProxy, product_id: int) -> Counter[str]:
    """An anonymous shopper: a page from one instance, adds answered by both; answers which
    instance served each request."""
    served: Counter[str] = Counter()
    async with client_at("127.0.0.4", proxy.url, timeout=30) as http:
        page = await http.get(f"/{PAGE_SLUG}/")
        assert page.status_code == 200
        served[page.headers[SERVED_BY]] += 1
        token = token_in(page.text)
        for _ in range(ANONYMOUS_ADDS):
            added = await http.post(f"/add/{product_id}/", data={"csrf_token": token})
            # 303 to the page: the token and the session were good on this instance too.
            assert added.status_code == 303, (added.status_code, added.text[:300])
            served[added.headers[SERVED_BY]] += 1
        cart = await http.get(f"/{PAGE_SLUG}/")
        served[cart.headers[SERVED_BY]] += 1
    quantity = re.search(r'name="quantity"[^>]*value="(\d+)"', cart.text) or re.search(
        r'value="(\d+)"[^>]*name="quantity"', cart.text
    )
    assert quantity is not None and int(quantity.group(1)) == ANONYMOUS_ADDS, cart.text[:500]
    return served


async def rate_limit_per_real_client(proxy: HAProxy) -> tuple[list[int], Counter[str], int]:
    """Wrong internal tokens from one client (which forges a new X-Forwarded-For each time),
    then one from another client: the statuses of the first, who served them, the second's."""
    statuses: list[int] = []
    served: Counter[str] = Counter()
    wrong = {"Authorization": "Bearer not-the-token"}
    async with client_at("127.0.0.2", proxy.url, timeout=30) as guesser:
        for n in range(2 * FAILED_TOKENS_PER_MINUTE):
            response = await guesser.get(
                SUMMARY,
                params={"user_id": 1},
                headers={**wrong, "X-Forwarded-For": f"198.51.100.{n}"},
            )
            statuses.append(response.status_code)
            served[f"{response.headers[SERVED_BY]}:{response.status_code}"] += 1
    async with client_at("127.0.0.3", proxy.url, timeout=30) as neighbour:
        other = await neighbour.get(SUMMARY, params={"user_id": 1}, headers=wrong)
    return statuses, served, other.status_code


async def shop_until_each_paid(shoppers: list[Shopper], outcomes: list[Outcome]) -> None:
    stop = asyncio.Event()
    running = [asyncio.create_task(shopper.run(stop)) for shopper in shoppers]
    deadline = time.monotonic() + SHOPPING_SECONDS
    try:
        while any(len(s.paid_orders) < PAID_EACH for s in shoppers):
            assert time.monotonic() < deadline, (
                f"not every shopper paid {PAID_EACH} orders in {SHOPPING_SECONDS:g}s: "
                f"{[len(s.paid_orders) for s in shoppers]}; last "
                f"{[(o.kind, o.status) for o in outcomes][-20:]}"
            )
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*running)


async def rolling_restart(
    proxy: HAProxy,
    services: dict[str, ServiceProcess],
    shoppers: list[Shopper],
    outcomes: list[Outcome],
) -> dict[str, int]:
    """Each instance in turn: drained, stopped gracefully, started, put back; shoppers shop
    all along. Answers each instance's exit status."""
    stop = asyncio.Event()
    running = [asyncio.create_task(shopper.run(stop)) for shopper in shoppers]
    exits = {}
    try:
        await wait_for_successes(
            outcomes, shoppers, since=time.monotonic(), each=2, seconds=30, what="warm-up"
        )
        for name, service in services.items():
            await asyncio.to_thread(proxy.set_state, name, "drain")
            await asyncio.to_thread(proxy.wait_drained, name)
            exits[name] = await service.astop()
            await service.astart()
            await asyncio.to_thread(proxy.set_state, name, "ready")
            await asyncio.to_thread(proxy.wait_status, name, "UP")
            await wait_for_successes(
                outcomes,
                shoppers,
                since=time.monotonic(),
                each=SUCCESSES_AFTER_RESTART,
                seconds=30,
                what=f"after restarting {name}",
            )
    finally:
        stop.set()
        await asyncio.gather(*running)
    return exits


async def anonymous_quantity(database_url: str) -> int:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine)() as session:
            total = await session.scalar(
                select(func.sum(CartItem.quantity)).where(CartItem.user_id.is_(None))
            )
    finally:
        await engine.dispose()
    return int(total or 0)


@pytest.mark.slow
async def test_two_instances_behind_haproxy_and_pgbouncer_serve_shoppers_through_a_rolling_restart(
    migrated_postgres: PostgresServer,
    bouncer: PgBouncer,
    throwaway_redis: RedisServer,
    sumup_standin: str,
    sumup_standin_control: StandinControl,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop = await seed_shop(migrated_postgres.url)
    sessions = await sign_in_shoppers(throwaway_redis.url_for(AUTH_DB), range(1, SHOPPERS + 1))
    await sumup_standin_control.faults(duplicate_webhook=True)
    ports = {name: free_port() for name in INSTANCES}
    proxy_port = free_port()
    env = instance_environment(
        bouncer=bouncer,
        redis=throwaway_redis,
        sumup=sumup_standin,
        proxy_url=f"http://127.0.0.1:{proxy_port}",
    )
    outcomes: list[Outcome] = []
    lock_watch = LockWatch()
    watching = asyncio.Event()
    started = time.monotonic()
    with instances(env, ports) as services, HAProxy(ports, port=proxy_port) as proxy:
        for name in INSTANCES:
            proxy.wait_status(name, "UP")
        metrics_dirs = {name: service.metrics_dir for name, service in services.items()}
        watcher = asyncio.create_task(
            watch_reconciler_lock(migrated_postgres, watching, lock_watch)
        )
        try:
            # 1. One session, one CSRF token, both instances.
            anonymous_served = await session_and_csrf_on_either_instance(proxy, shop.product_ids[0])
            # 2. Rate limits per real client.
            statuses, guesses_served, neighbour = await rate_limit_per_real_client(proxy)
            # 3. The settlement race.
            shoppers = shoppers_for(
                sessions,
                base_url=proxy.url,
                shop=shop,
                standin=sumup_standin_control,
                outcomes=outcomes,
            )
            await shop_until_each_paid(shoppers, outcomes)
            # Each instance's own counts, before a restart starts its folder afresh.
            scrapes = {
                name: await scrape(service, internal_token()) for name, service in services.items()
            }
            # 4. The rolling restart.
            restart_started = time.monotonic()
            exits = await rolling_restart(proxy, services, shoppers, outcomes)
            restart_ended = time.monotonic()
            paid = set().union(*(s.paid_orders for s in shoppers))
            deliveries = await sumup_standin_control.wait_for_webhooks(
                2 * len(paid), wait_seconds=30
            )
            relay_total, relay_delivered, relay_attempts = await wait_for_relay(
                migrated_postgres.url, seconds=15
            )
        finally:
            watching.set()
            await watcher
        logs = {name: service.log_text() for name, service in services.items()}
        proxy_stats = proxy.servers()

    during_restart = [o for o in outcomes if restart_started <= o.started <= restart_ended]
    failures = [o for o in outcomes if o.failed]
    allowed = statuses.count(401)
    passes = {
        name: {
            outcome: counted(text, "cart_reconciler_passes_total", outcome=outcome)
            for outcome in ("ok", "skipped", "failed")
        }
        for name, text in scrapes.items()
    }
    summary_requests = {
        name: counted(text, "http_request_duration_seconds_count", route=SUMMARY)
        for name, text in scrapes.items()
    }
    with capsys.disabled():
        print(
            "\n--- deployment shape: HAProxy → 2 instances of "
            f"{services[INSTANCES[0]].workers} workers → PgBouncer ({SERVER_CONNECTIONS} server "
            "connections, transaction mode) → PostgreSQL; one Redis"
            f"\nsession and CSRF: {sum(anonymous_served.values())} requests of one anonymous "
            f"shopper, served by {dict(anonymous_served)}"
            f"\nrate limit ({FAILED_TOKENS_PER_MINUTE}/minute wrong tokens per client): "
            f"{allowed} answered 401, {statuses.count(429)} answered 429, served by "
            f"{dict(guesses_served)}; another client then: {neighbour}"
            f"\norders paid: {len(paid)}; webhooks delivered: {len(deliveries)} "
            f"(each sent twice), statuses {dict(Counter(d['status_code'] for d in deliveries))}"
            f"\nreconciler passes per instance: {passes}; lock holders seen in "
            f"{lock_watch.samples} samples: {dict(lock_watch.seen)}"
            f"\nrelay: {relay_delivered} of {relay_total} outbox events delivered, attempts "
            f"{dict(relay_attempts)}"
            f"\nsigned-in shoppers' requests through the proxy: {len(outcomes)}; during the "
            f"rolling restart ({restart_ended - restart_started:.1f}s): {len(during_restart)}; "
            f"5xx or failed: {len(failures)}; instances' exit statuses: {exits}"
            f"\nHAProxy's requests per instance: "
            f"{ {name: row['stot'] for name, row in proxy_stats.items()} }"
            f"; whole test {time.monotonic() - started:.0f}s"
        )

    # 1. The session and its token worked on both instances (the adds are all in the cart).
    assert set(anonymous_served) == set(INSTANCES)
    assert await anonymous_quantity(migrated_postgres.url) == ANONYMOUS_ADDS
    # 2. One count per real client across both instances, whatever the client forged. (GCRA
    # gives one more request back for each 60/limit seconds that pass.)
    assert {status for status in statuses} == {401, 429}
    assert statuses[:FAILED_TOKENS_PER_MINUTE] == [401] * FAILED_TOKENS_PER_MINUTE
    assert allowed <= FAILED_TOKENS_PER_MINUTE + 1
    assert {key.split(":")[0] for key in guesses_served if key.endswith(":429")} == set(INSTANCES)
    assert neighbour == 401
    # Each instance counts only what it served, in its own metrics folder.
    assert len(set(metrics_dirs.values())) == len(INSTANCES)
    assert all(count > 0 for count in summary_requests.values())
    assert sum(summary_requests.values()) == len(statuses) + 1
    # 3. Each order paid once; one reconciler at a time; each event relayed once.
    assert {d["status_code"] for d in deliveries} == {204}, [
        d for d in deliveries if d["status_code"] != 204
    ]
    await check_the_data(migrated_postgres.url, shoppers)
    assert await paid_twice_at_sumup(sumup_standin_control) == []
    assert lock_watch.most_holders == 1
    assert sum(p["ok"] for p in passes.values()) > 0
    assert sum(p["failed"] for p in passes.values()) == 0
    assert relay_delivered == relay_total and set(relay_attempts) == {1}
    # 4. The rolling restart: graceful stops, and not one request failed through the proxy.
    assert exits == dict.fromkeys(INSTANCES, 0)
    assert len(during_restart) > 0
    assert failures == [], [(o.kind, o.status) for o in failures][:10]
    for name, log in logs.items():
        assert "Traceback" not in log, f"instance {name}"
