"""Readiness: the database and Redis checked, each bounded in time; and, for the operator's
information only, how the background work stands (the reconciler's last pass, the relay's
backlog)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from lib.db import Databases
from lib.redis import RedisClients
from services.job_status import last_reconciler_pass
from services.metrics import read_outbox_backlog

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


async def background_report(
    *, databases: Databases, redis: RedisClients, checks: dict[str, str]
) -> dict[str, Any]:
    """The reconciler's last pass and the relay's backlog, each None when it cannot be read
    (what `checks` found down is not asked again). Never a reason to be unready: a reconciler
    that lags or a backlog that grows is for the metrics and the operator to judge."""
    reconciler: dict[str, Any] | None = None
    relay: dict[str, Any] | None = None
    if checks.get("redis") == "ok":
        try:
            at = await asyncio.wait_for(last_reconciler_pass(redis.cart), CHECK_TIMEOUT_SECONDS)
        except Exception as exc:  # reported as unknown; readiness is decided by the checks
            log.warning("readiness: the reconciler's last pass could not be read: %s", exc)
        else:
            reconciler = {
                "last_pass_at": at.isoformat() if at is not None else None,
                "seconds_ago": (
                    round((datetime.now(UTC) - at).total_seconds()) if at is not None else None
                ),
            }
    if checks.get("database") == "ok":
        try:
            async with databases.sessionmaker() as session:
                backlog = await asyncio.wait_for(_backlog(session), CHECK_TIMEOUT_SECONDS)
        except Exception as exc:  # reported as unknown; readiness is decided by the checks
            log.warning("readiness: the relay's backlog could not be read: %s", exc)
        else:
            relay = backlog
    return {"reconciler": reconciler, "relay": relay}


async def _backlog(session: AsyncSession) -> dict[str, Any]:
    backlog = await read_outbox_backlog(session)
    return {
        "undelivered": backlog.undelivered,
        "oldest_seconds": round(backlog.oldest_seconds),
        "dead_lettered": backlog.dead_lettered,
    }
