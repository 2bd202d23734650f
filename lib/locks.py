"""One instance at a time across every worker and machine, by a PostgreSQL advisory lock.

The lock is transaction-scoped: pg_try_advisory_xact_lock in a transaction kept open on a
connection of its own for the whole block, and ended (rolled back: it wrote nothing) when the
block ends, which releases the lock. A second holder skips its turn instead of doing the same
work twice. Behind PgBouncer in transaction pooling mode a session-level lock would stay on a
server connection that other clients then use (and its unlock could run on another), while a
transaction keeps its server connection from BEGIN to its end: so no lock outlives the
transaction that took it, and a lost connection takes its transaction, and the lock, with it.
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
        acquired = bool(await connection.scalar(select(func.pg_try_advisory_xact_lock(key))))
        try:
            yield acquired
        finally:
            try:
                await connection.rollback()
            except DBAPIError as error:
                # A lost connection took its transaction, and the lock, with it.
                log.warning("advisory lock %s: could not end its transaction: %s", key, error)
