"""One instance at a time across every worker and machine, by a PostgreSQL advisory lock.

The lock is session-level, taken with pg_try_advisory_lock on a connection held for the whole
block, so a second holder skips its turn instead of doing the same work twice. Every
single-instance job goes through here, so that the way it is held (for example behind a
transaction-pooling PgBouncer) can change in one place.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


def lock_key(name: bytes) -> int:
    """A 64-bit advisory lock key from an 8-byte name, e.g. b"reconcil"."""
    if len(name) != 8:
        raise ValueError("an advisory lock name is 8 bytes")
    return int.from_bytes(name, "big", signed=True)


@asynccontextmanager
async def single_instance(engine: AsyncEngine, key: int) -> AsyncIterator[bool]:
    """Yields True while this process holds the lock, False (at once) when another does."""
    async with engine.connect() as connection:
        acquired = bool(await connection.scalar(select(func.pg_try_advisory_lock(key))))
        # The lock belongs to the connection, not to this transaction: end the transaction.
        await connection.commit()
        if not acquired:
            yield False
            return
        try:
            yield True
        finally:
            try:
                await connection.scalar(select(func.pg_advisory_unlock(key)))
                await connection.commit()
            except DBAPIError as error:
                # A lost connection took its session, and the lock, with it.
                log.warning("advisory lock %s: could not unlock: %s", key, error)
