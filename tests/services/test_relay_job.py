"""The outbox relay's background job keeps up with what checkouts and settlements write, and
waits its interval when the federation store cannot be reached."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bp.runtime import runtime
from lib.db import make_engine
from models import OutboxEvent
from services.events import relay_job
from tests.support.checkout import federation_count, wait_until
from tests.support.outbox import emit_order_paid

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
        await emit_order_paid(db, str(number))
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


async def test_an_unreachable_store_is_tried_once_an_interval_even_with_a_batch_of_one(
    app: Quart, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a batch of one, the one failed row of a pass against an unreachable store is a
    # whole batch: the job must still wait its interval, not try again at once.
    await emit_order_paid(db, "1")
    serving = runtime(app)
    unreachable = make_engine("postgresql://root@127.0.0.1:9/none", pool_size=1)
    monkeypatch.setattr(
        serving,
        "_databases",
        replace(
            serving.databases,
            federation_sessionmaker=async_sessionmaker(unreachable, expire_on_commit=False),
        ),
    )
    monkeypatch.setattr(
        serving, "settings", serving.settings.model_copy(update={"relay_batch_size": 1})
    )
    stop = asyncio.Event()
    job = asyncio.create_task(relay_job(serving, stop))
    try:

        async def tried() -> bool:
            attempts = await db.scalar(select(OutboxEvent.attempts))
            await db.commit()
            return bool(attempts)

        await wait_until(tried, seconds=WAIT_SECONDS, what="a first attempt")
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        await asyncio.wait_for(job, WAIT_SECONDS)
        await unreachable.dispose()

    assert await db.scalar(select(OutboxEvent.attempts)) == 1
    assert await federation_count(db) == 0
