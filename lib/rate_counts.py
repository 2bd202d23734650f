"""Limits counted by hand, where quart-rate-limiter's per-view limits cannot count: across
routes (wrong internal tokens), for requests that match no route, and for work a view does
only sometimes (a webhook that really asks SumUp).

The same algorithm as quart-rate-limiter (GCRA: each key keeps its theoretical arrival time),
in the same store, so that a limit counted here behaves as the decorated ones do: 429 with
Retry-After through the one error mapping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from math import ceil
from typing import Protocol

from quart_rate_limiter import RateLimitExceeded

KEY_PREFIX = "counted:"


class ArrivalStore(Protocol):
    """Where the arrival times live (lib.rate_limits.CartIndexStore)."""

    async def get(self, key: str, default: datetime) -> datetime: ...

    async def set(self, key: str, tat: datetime) -> None: ...


async def spend(store: ArrivalStore, key: str, *, count: int, period: timedelta) -> None:
    """Count one request against `count` per `period` under `key`; RateLimitExceeded when
    the allowance is used up (and then nothing is counted)."""
    now = datetime.now(UTC)
    inverse = period.total_seconds() / count
    stored = await store.get(KEY_PREFIX + key, now)
    tat = max(stored, now)
    max_interval = period.total_seconds() - inverse
    if (tat - now).total_seconds() > max_interval:
        retry_after = (tat - timedelta(seconds=max_interval) - now).total_seconds()
        raise RateLimitExceeded(ceil(retry_after))
    await store.set(KEY_PREFIX + key, tat + timedelta(seconds=inverse))
