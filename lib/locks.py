"""Single-instance sections across workers and machines, by a PostgreSQL advisory lock.

The one place that knows how such a lock is held: today a session-level lock on a connection
of its own, taken with pg_try_advisory_lock and released when the section ends. Behind a
pooler in transaction mode a session-level lock is not safe; swapping this helper for a
transaction-scoped one changes no caller.
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
    """A lock key from up to 8 bytes of ASCII, the same in every worker."""
    if len(name) > 8:
        raise ValueError("an advisory lock key is at most 8 bytes")
    return int.from_bytes(name, "big", signed=True)


@asynccontextmanager
async def single_instance(engine: AsyncEngine, key: int) -> AsyncIterator[bool]:
    """Run the block holding the lock `key`, if no one else holds it: yields whether it does.

    A caller that is told False skips its turn; the lock is released when the block ends.
    """
    async with engine.connect() as connection:
        acquired = bool(await connection.scalar(select(func.pg_try_advisory_lock(key))))
        # The lock belongs to the connection, not to this transaction: end the transaction.
        await connection.commit()
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    await connection.scalar(select(func.pg_advisory_unlock(key)))
                    await connection.commit()
                except DBAPIError as error:
                    # A lost connection took its session, and the lock, with it.
                    log.warning("advisory lock %s: could not unlock: %s", key, error)
