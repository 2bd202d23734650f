"""Waiting, in a race test, until another connection of the test database waits for a lock."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

WAIT_SECONDS = 10.0


async def statement_waiting_for_a_lock(db: AsyncSession, *, matching: str = "%") -> str:
    """The statement another connection of this database sends while it waits for a lock
    (one whose text is ILIKE `matching`), in one line and upper case, once one does."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        waiting = await db.scalar(
            text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query ILIKE :matching LIMIT 1"
            ),
            {"matching": matching},
        )
        await db.commit()
        if waiting:
            return " ".join(str(waiting).split()).rstrip(";").upper()
        assert time.monotonic() < deadline, f"no statement ILIKE {matching!r} waited for a lock"
        await asyncio.sleep(0.02)
