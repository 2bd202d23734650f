"""Single-instance locks are transaction-scoped: one holder at a time, even when PgBouncer
(transaction pooling) hands the clients' transactions to the same few server connections, and
none left behind on a server connection once the block ends."""

from __future__ import annotations

import asyncpg
import pytest

from lib.db import make_engine
from lib.locks import lock_key, single_instance
from tests.support.servers import PgBouncer, PostgresServer

KEY = lock_key(b"testlock")


async def advisory_locks(postgres: PostgresServer) -> int:
    """Advisory locks held on the server right now, by anyone."""
    direct = await asyncpg.connect(postgres.url)
    try:
        count: int = await direct.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        )
    finally:
        await direct.close()
    return count


@pytest.mark.slow
async def test_one_holder_at_a_time_through_pgbouncer(throwaway_pgbouncer: PgBouncer) -> None:
    # Two workers, each with its own pool, sharing PgBouncer's few server connections.
    first = make_engine(throwaway_pgbouncer.url, pool_size=1, pgbouncer=True)
    second = make_engine(throwaway_pgbouncer.url, pool_size=1, pgbouncer=True)
    try:
        async with (
            single_instance(first, KEY) as held,
            single_instance(second, KEY) as also_held,
        ):
            during = await advisory_locks(throwaway_pgbouncer.postgres)
        async with single_instance(second, KEY) as held_after:
            pass
        after = await advisory_locks(throwaway_pgbouncer.postgres)
    finally:
        await first.dispose()
        await second.dispose()

    assert held and not also_held
    assert during == 1
    assert held_after
    assert after == 0
