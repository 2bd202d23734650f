"""The harness end to end: the service on two workers while its database and Redis restart."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.support.servers import (
    PostgresServer,
    RedisServer,
    ServiceProcess,
    service_environment,
)

RECOVERY_SECONDS = 10.0


async def readiness_until(
    http: httpx.AsyncClient, wanted: int, *, in_a_row: int = 1, seconds: float = RECOVERY_SECONDS
) -> None:
    """Poll /readyz until it answers `wanted` `in_a_row` times (each may reach either worker)."""
    deadline = time.monotonic() + seconds
    streak = 0
    while streak < in_a_row:
        status = (await http.get("/readyz")).status_code
        streak = streak + 1 if status == wanted else 0
        assert time.monotonic() < deadline, f"/readyz still {status} after {seconds:g}s"
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_readiness_follows_the_database_and_redis_down_and_back(
    migrated_postgres: PostgresServer, throwaway_redis: RedisServer
) -> None:
    env = service_environment(migrated_postgres.url, throwaway_redis.url)
    with ServiceProcess(env, workers=2) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:
            assert (await http.get("/readyz")).status_code == 200

            for server in (migrated_postgres, throwaway_redis):
                await server.akill()
                await readiness_until(http, 503)
                assert (await http.get("/healthz")).status_code == 200
                await server.astart()
                await readiness_until(http, 200, in_a_row=10)

            worker_pids = service.worker_pids()
            assert len(worker_pids) == 2
        assert service.stop() == 0
