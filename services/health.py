"""Readiness checks of the database and Redis, each bounded in time."""

from __future__ import annotations

import asyncio
import logging

from quart import Quart
from sqlalchemy import text

from lib.db import databases
from lib.redis import redis_clients

CHECK_TIMEOUT_SECONDS = 3.0
log = logging.getLogger(__name__)


async def _database(app: Quart) -> None:
    async with databases(app).engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(app: Quart) -> None:
    clients = redis_clients(app)
    await clients.auth.ping()
    await clients.cart.ping()


async def check_readiness(app: Quart) -> dict[str, str]:
    """Map each dependency ("database", "redis") to "ok" or the reason it failed."""
    results: dict[str, str] = {}
    for name, check in (("database", _database), ("redis", _redis)):
        try:
            await asyncio.wait_for(check(app), CHECK_TIMEOUT_SECONDS)
            results[name] = "ok"
        except Exception as exc:  # any failure means not ready; the reason goes in the answer
            log.warning("readiness: %s unavailable: %s", name, exc)
            results[name] = f"unavailable: {type(exc).__name__}"
    return results
