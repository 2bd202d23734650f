"""The outbox relay's background job keeps up with what checkouts and settlements write."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from models import OutboxEvent
from services.events import emit_event, relay_job
from tests.support.checkout import federation_count, wait_until

BATCH = 3
ROWS = 10
# Far longer than the test waits: only the first pass of the job runs meanwhile.
INTERVAL_SECONDS = 600.0
WAIT_SECONDS = 10.0


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "relay_batch_size": BATCH,
        "relay_interval_seconds": INTERVAL_SECONDS,
    }


async def waiting_rows(db: AsyncSession) -> int:
    count = await db.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))
    )
    await db.commit()
    return int(count or 0)


async def test_a_backlog_longer_than_a_batch_is_relayed_in_one_interval(
    app: Quart, db: AsyncSession
) -> None:
    for number in range(ROWS):
        await emit_event(
            db,
            event_type="order.paid",
            activity_type="rose:OrderPaid",
            object_type="rose:Order",
            object_id=str(number),
            payload={"id": f"http://cart.test/orders/{number}/"},
            actor="http://cart.test",
        )
    await db.commit()
    stop = asyncio.Event()
    job = asyncio.create_task(relay_job(runtime(app), stop))

    async def all_relayed() -> bool:
        return await waiting_rows(db) == 0

    try:
        await wait_until(all_relayed, seconds=WAIT_SECONDS, what=f"{ROWS} rows relayed")
    finally:
        stop.set()
        await asyncio.wait_for(job, WAIT_SECONDS)

    assert await waiting_rows(db) == 0
    assert await federation_count(db) == ROWS
