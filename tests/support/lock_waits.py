"""Waiting, in a race test, until another connection of the test database waits for a lock."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

WAIT_SECONDS = 10.0

# Only a wait behind a lock another client holds is the race under test. Autovacuum takes a
# table's exclusive lock for a few milliseconds to cut its empty end, and a statement that
# meets it waits behind a server process, not a client; on a busy machine that wait was
# caught first, and a checkout's UPDATE seen waiting where its COMMIT was meant to.
WAITING_BEHIND_A_CLIENT = text(
    "SELECT waiting.query FROM pg_stat_activity AS waiting"
    " WHERE waiting.datname = current_database() AND waiting.wait_event_type = 'Lock'"
    " AND waiting.query ILIKE :matching"
    " AND EXISTS (SELECT 1 FROM pg_stat_activity AS holder"
    " WHERE holder.pid = ANY (pg_blocking_pids(waiting.pid))"
    " AND holder.backend_type = 'client backend')"
    " LIMIT 1"
)


async def statement_waiting_for_a_lock(db: AsyncSession, *, matching: str = "%") -> str:
    """The statement another connection of this database sends while it waits for a lock
    another client holds (one whose text is ILIKE `matching`), in one line and upper case,
    once one does."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        waiting = await db.scalar(WAITING_BEHIND_A_CLIENT, {"matching": matching})
        await db.commit()
        if waiting:
            return " ".join(str(waiting).split()).rstrip(";").upper()
        assert time.monotonic() < deadline, f"no statement ILIKE {matching!r} waited for a lock"
        await asyncio.sleep(0.02)
