"""The deployment shape, from the machine's own packages: HAProxy in front of two service
instances (each its own Hypercorn process group with its own metrics folder, as two hosts
would be), PgBouncer in transaction mode in front of PostgreSQL, one Redis, SumUp's stand-in.

What the deployment test reads from it: which instance answered (HAProxy's `X-Served-By`),
each instance's own `/metrics` (asked directly, not through the proxy), and how many holders
the reconciler's advisory lock had, sampled in PostgreSQL while the shoppers shop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bp.cart.services.reconciler import RECONCILER_LOCK_KEY
from config.settings import DEVELOPMENT_SECRET
from lib.db import make_engine
from models import OutboxEvent
from tests.support.metrics import samples
from tests.support.servers import PgBouncer, PostgresServer, RedisServer, ServiceProcess
from tests.support.servers import service_environment as base_environment

WORKERS = 2
GRACEFUL_TIMEOUT = "10"
# Few enough to exhaust in a test, counted per client across both instances.
FAILED_TOKENS_PER_MINUTE = 12
# The shoppers share HAProxy's loopback address, so every other limit is out of their way.
GENEROUS = "100000/minute"
INTERNAL_TOKEN = "deployment-test-internal-token-of-both-instances"


def instance_environment(
    *, bouncer: PgBouncer, redis: RedisServer, sumup: str, proxy_url: str
) -> dict[str, str]:
    """Both instances' settings: the same secrets, database, Redis and public URL (the proxy's),
    as the hosts behind one load balancer would have."""
    return base_environment(
        bouncer.url,
        redis.url,
        APP_ENV="test",
        # The shoppers sign their CSRF tokens with it, as a page rendered for them would.
        SECRET_KEY=DEVELOPMENT_SECRET,
        INTERNAL_API_TOKEN=INTERNAL_TOKEN,
        DATABASE_PGBOUNCER="true",
        DATABASE_POOL_SIZE="4",
        SUMUP_API_BASE=sumup,
        SUMUP_API_KEY="sup_sk_test",
        SUMUP_MERCHANT_CODE="MTEST001",
        PUBLIC_BASE_URL=proxy_url,
        MAX_LINE_QUANTITY="10000",
        RECONCILER_INTERVAL_SECONDS="0.5",
        RELAY_INTERVAL_SECONDS="0.5",
        RATE_LIMIT_ENABLED="true",
        RATE_LIMIT_PAGES=GENEROUS,
        RATE_LIMIT_WRITES=GENEROUS,
        RATE_LIMIT_CHECKOUT=GENEROUS,
        RATE_LIMIT_WEBHOOK=GENEROUS,
        RATE_LIMIT_WEBHOOK_PER_ORDER=GENEROUS,
        RATE_LIMIT_FAILED_TOKENS=f"{FAILED_TOKENS_PER_MINUTE}/minute",
        # HAProxy connects from 127.0.0.1; the shoppers' own addresses are others of 127/8.
        TRUSTED_PROXIES='["127.0.0.1/32"]',
    )


@contextlib.contextmanager
def instances(env: dict[str, str], ports: dict[str, int]) -> Iterator[dict[str, ServiceProcess]]:
    """The two instances, started one after the other, stopped (gracefully) at the end."""
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(
                ServiceProcess(
                    env,
                    workers=WORKERS,
                    port=port,
                    args=["--graceful-timeout", GRACEFUL_TIMEOUT],
                )
            )
            for name, port in ports.items()
        }


def client_at(address: str, base_url: str, **kwargs: object) -> httpx.AsyncClient:
    """An HTTP client whose connections come from `address` (one of 127/8), as a shopper on
    another machine would: HAProxy forwards that address."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base_url, transport=transport, **kwargs)  # type: ignore[arg-type]


def internal_token() -> dict[str, str]:
    """What the coop's other apps and Prometheus send."""
    return {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


async def scrape(service: ServiceProcess, token: dict[str, str]) -> str:
    """One instance's own /metrics, asked directly rather than through the proxy."""
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:
        response = await http.get("/metrics", headers=token)
    assert response.status_code == 200, response.text
    return response.text


def counted(scrape_text: str, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels`."""
    return sum(
        value
        for found, value in samples(scrape_text, name)
        if all(found.get(key) == wanted for key, wanted in labels.items())
    )


@dataclass
class LockWatch:
    """How many sessions held the reconciler's advisory lock, sampled in PostgreSQL."""

    samples: int = 0
    held: int = 0
    most_holders: int = 0
    seen: Counter[int] = field(default_factory=Counter)


async def watch_reconciler_lock(
    postgres: PostgresServer, stop: asyncio.Event, watch: LockWatch
) -> None:
    """Sample pg_locks every 20 ms until `stop`: a 64-bit advisory key shows as its high and
    low 32 bits (classid, objid)."""
    key = RECONCILER_LOCK_KEY & 0xFFFFFFFFFFFFFFFF
    high, low = key >> 32, key & 0xFFFFFFFF
    connection = await asyncpg.connect(postgres.url)
    try:
        while not stop.is_set():
            holders = await connection.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid::bigint = $1 AND objid::bigint = $2",
                high,
                low,
            )
            watch.samples += 1
            watch.seen[holders] += 1
            watch.held += holders > 0
            watch.most_holders = max(watch.most_holders, holders)
            await asyncio.sleep(0.02)
    finally:
        await connection.close()


async def relay_deliveries(database_url: str) -> tuple[int, int, Counter[int]]:
    """The outbox's rows, those delivered, and how many attempts each delivered row took."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine)() as session:
            total = await session.scalar(select(func.count()).select_from(OutboxEvent))
            attempts = Counter(
                await session.scalars(
                    select(OutboxEvent.attempts).where(OutboxEvent.delivered_at.is_not(None))
                )
            )
    finally:
        await engine.dispose()
    return int(total or 0), sum(attempts.values()), attempts


async def wait_for_relay(database_url: str, seconds: float) -> tuple[int, int, Counter[int]]:
    """Poll until every outbox row is delivered (or the time is up); answer the last reading."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        reading = await relay_deliveries(database_url)
        total, delivered, _ = reading
        if delivered == total or asyncio.get_running_loop().time() > deadline:
            return reading
        await asyncio.sleep(0.2)
