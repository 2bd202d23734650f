"""PgBouncer in transaction pooling mode in front of the throwaway PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.support.servers import PgBouncer

CLIENTS = 50
POOL_SIZE = 5


async def connect(url: str) -> asyncpg.Connection:
    # Without named prepared statements, as every client behind transaction pooling must.
    return await asyncpg.connect(url, statement_cache_size=0, timeout=10)


@pytest.mark.slow
async def test_fifty_clients_share_five_server_connections_one_transaction_each(
    throwaway_pgbouncer: PgBouncer,
) -> None:
    direct = await asyncpg.connect(throwaway_pgbouncer.postgres.url)
    await direct.execute("CREATE TABLE visits (client int PRIMARY KEY, backend int NOT NULL)")

    async def client(number: int) -> None:
        connection = await connect(throwaway_pgbouncer.url)
        try:
            async with connection.transaction():
                await connection.execute("INSERT INTO visits VALUES ($1, pg_backend_pid())", number)
                # Held open so that clients queue for the few server connections.
                await connection.execute("SELECT pg_sleep(0.05)")
        finally:
            await connection.close()

    try:
        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
        assert await direct.fetchval("SELECT count(*) FROM visits") == CLIENTS
        backends = await direct.fetchval("SELECT count(DISTINCT backend) FROM visits")
    finally:
        await direct.close()
    assert 1 <= backends <= POOL_SIZE
    pools = {row["database"]: row for row in throwaway_pgbouncer.show("POOLS")}
    assert pools["test"]["pool_mode"] == "transaction"


@pytest.mark.slow
async def test_clients_get_through_again_after_postgres_restarts_behind_it(
    throwaway_pgbouncer: PgBouncer,
) -> None:
    connection = await connect(throwaway_pgbouncer.url)
    try:
        assert await connection.fetchval("SELECT 1") == 1
    finally:
        await connection.close()

    await throwaway_pgbouncer.postgres.arestart(down_seconds=0.5, kill=True)

    connection = await connect(throwaway_pgbouncer.url)
    try:
        assert await connection.fetchval("SELECT 2") == 2
    finally:
        await connection.close()
