"""When the reconciler last finished a pass, kept in the cart's Redis index for every worker.

Any worker's pass counts (one runs at a time, lib/locks.py), so each worker's `/readyz` can say
how long ago the service's reconciler last got through its work. The index is flushed on
deploy: until the first pass after it, the time is unknown.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

RECONCILER_LAST_PASS_KEY = "reconciler:last_pass_at"  # noqa: S105  (a Redis key, no secret)

log = logging.getLogger(__name__)


async def record_reconciler_pass(redis: Redis, *, at: datetime) -> None:
    """Note that a pass finished at `at`; a Redis that cannot be reached only costs the note."""
    try:
        await redis.set(RECONCILER_LAST_PASS_KEY, at.astimezone(UTC).isoformat())
    except RedisError as error:
        log.warning("reconciler: could not record the pass in Redis: %s", error)


async def last_reconciler_pass(redis: Redis) -> datetime | None:
    """When the last pass finished, or None when none has since the index was flushed."""
    value = await redis.get(RECONCILER_LAST_PASS_KEY)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value)
    except ValueError:
        return None
