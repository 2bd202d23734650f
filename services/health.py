"""Readiness checks of the database and Redis, each bounded in time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from lib.db import Databases
from lib.redis import RedisClients

CHECK_TIMEOUT_SECONDS = 3.0
log = logging.getLogger(__name__)


async def _database(databases: Databases) -> None:
    async with databases.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(redis: RedisClients) -> None:
    await redis.auth.ping()
    await redis.cart.ping()


async def check_readiness(*, databases: Databases, redis: RedisClients) -> dict[str, str]:
    """Map each dependency ("database", "redis") to "ok" or the reason it failed."""
    checks: tuple[tuple[str, Callable[[], Awaitable[None]]], ...] = (
        ("database", lambda: _database(databases)),
        ("redis", lambda: _redis(redis)),
    )
    results: dict[str, str] = {}
    for name, check in checks:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
            results[name] = "ok"
        except Exception as exc:  # any failure means not ready; the reason goes in the answer
            log.warning("readiness: %s unavailable: %s", name, exc)
            results[name] = f"unavailable: {type(exc).__name__}"
    return results
