"""The outbox relay's retries: a row the federation store refuses waits longer after each
failure, is dead-lettered after RELAY_MAX_ATTEMPTS, never holds up the rows behind it, and can
be sent again by an operator."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from models import OutboxEvent
from services.events import relay_outbox
from tests.support.checkout import federation_count
from tests.support.http import internal_headers
from tests.support.outbox import emit_order_paid

ROOT = Path(__file__).resolve().parents[2]
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 10.0


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "relay_max_attempts": MAX_ATTEMPTS,
        "relay_backoff_seconds": BACKOFF_SECONDS,
    }


@pytest.fixture
async def store_refuses_poison(db: AsyncSession) -> AsyncIterator[None]:
    """The federation store refuses (as a constraint would) any activity marked poisoned."""
    await db.execute(text("DROP TRIGGER IF EXISTS refuse_poison ON ap_activities"))
    await db.execute(
        text(
            "CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF NEW.payload->'object'->>'poison' = 'yes' THEN "
            "RAISE EXCEPTION 'poisoned activity' USING ERRCODE = 'check_violation'; END IF; "
            "RETURN NEW; END $$"
        )
    )
    await db.execute(
        text(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON ap_activities "
            "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
        )
    )
    await db.commit()
    try:
        yield
    finally:
        await db.rollback()
        await db.execute(text("DROP TRIGGER IF EXISTS refuse_poison ON ap_activities"))
        await db.execute(text("DROP FUNCTION IF EXISTS refuse_poison()"))
        await db.commit()


async def emit(db: AsyncSession, object_id: str, *, poison: bool = False) -> None:
    """An `order.paid` event; a poisoned one the store refuses (refuse_poison)."""
    await emit_order_paid(db, object_id, **({"poison": "yes"} if poison else {}))


async def relay(app: Quart, batch_size: int = 100) -> Any:
    serving = runtime(app)
    return await relay_outbox(
        sessionmaker=serving.databases.sessionmaker,
        federation_sessionmaker=serving.databases.federation_sessionmaker,
        batch_size=batch_size,
        max_attempts=serving.settings.relay_max_attempts,
        backoff_seconds=serving.settings.relay_backoff_seconds,
    )


async def row(db: AsyncSession, object_id: str) -> OutboxEvent:
    found = await db.scalar(
        select(OutboxEvent)
        .where(OutboxEvent.object_id == object_id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


async def make_due(db: AsyncSession) -> None:
    """Let the time of every waiting row come, as if its backoff had passed."""
    await db.execute(update(OutboxEvent).values(next_attempt_at=text("now()")))
    await db.commit()


async def test_a_row_that_always_fails_does_not_hold_up_the_rows_behind_it(
    app: Quart, db: AsyncSession, store_refuses_poison: None
) -> None:
    await emit(db, "1", poison=True)
    for number in range(2, 5):
        await emit(db, str(number))

    results = [await relay(app, batch_size=1) for _ in range(4)]

    assert await federation_count(db) == 3
    assert sum(r.delivered for r in results) == 3
    assert sum(r.failed for r in results) == 1
    poisoned = await row(db, "1")
    assert poisoned.delivered_at is None and poisoned.failures == 1
    assert poisoned.last_error is not None and "poisoned activity" in poisoned.last_error


async def test_a_batch_holding_a_row_the_store_refuses_delivers_the_others_in_the_same_pass(
    app: Quart, db: AsyncSession, store_refuses_poison: None
) -> None:
    await emit(db, "1")
    await emit(db, "2", poison=True)
    await emit(db, "3")

    result = await relay(app)

    assert (result.delivered, result.failed, result.dead_lettered) == (2, 1, 0)
    assert await federation_count(db) == 2
    assert (await row(db, "1")).delivered_at is not None
    assert (await row(db, "3")).delivered_at is not None
    poisoned = await row(db, "2")
    assert poisoned.delivered_at is None and poisoned.failures == 1
    assert poisoned.last_error is not None and "poisoned activity" in poisoned.last_error


async def test_each_failure_waits_twice_as_long_then_the_row_is_dead_lettered(
    app: Quart, db: AsyncSession, store_refuses_poison: None
) -> None:
    await emit(db, "1", poison=True)
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        await make_due(db)
        await relay(app)
        failing = await row(db, "1")
        assert failing.last_attempt_at is not None
        waits.append((failing.next_attempt_at - failing.last_attempt_at).total_seconds())
    assert waits == pytest.approx([BACKOFF_SECONDS, 2 * BACKOFF_SECONDS], abs=1)
    # Not due yet: a pass leaves it alone.
    assert (await relay(app)).failed == 0

    await make_due(db)
    last = await relay(app)

    assert (last.failed, last.dead_lettered) == (1, 1)
    dead = await row(db, "1")
    assert dead.dead_lettered_at is not None and dead.failures == MAX_ATTEMPTS
    await make_due(db)
    assert (await relay(app)).failed == 0


async def test_metrics_count_dead_letters_apart_from_the_backlog(
    app: Quart, client: Any, db: AsyncSession, store_refuses_poison: None
) -> None:
    await emit(db, "1", poison=True)
    await emit(db, "2")
    for _ in range(MAX_ATTEMPTS):
        await make_due(db)
        await relay(app)
    await emit(db, "3")

    body = await (await client.get("/metrics", headers=internal_headers(app))).get_data(
        as_text=True
    )

    assert "cart_outbox_dead_lettered 1" in body
    assert "cart_outbox_undelivered 1" in body


async def test_an_unreachable_store_counts_against_no_row(app: Quart, db: AsyncSession) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from lib.db import make_engine

    await emit(db, "1")
    unreachable = make_engine("postgresql://root@127.0.0.1:9/none", pool_size=1)
    serving = runtime(app)
    try:
        for _ in range(MAX_ATTEMPTS + 1):
            await relay_outbox(
                sessionmaker=serving.databases.sessionmaker,
                federation_sessionmaker=async_sessionmaker(unreachable, expire_on_commit=False),
                max_attempts=MAX_ATTEMPTS,
            )
    finally:
        await unreachable.dispose()

    waiting = await row(db, "1")
    assert waiting.dead_lettered_at is None and waiting.failures == 0
    assert (await relay(app)).delivered == 1


async def test_manage_lists_and_retries_dead_letters(
    app: Quart, app_config: dict[str, Any], db: AsyncSession, store_refuses_poison: None
) -> None:
    await emit(db, "1", poison=True)
    for _ in range(MAX_ATTEMPTS):
        await make_due(db)
        await relay(app)
    dead = await row(db, "1")
    assert dead.dead_lettered_at is not None

    listed = await asyncio.to_thread(_manage, app_config, "dead-letters")
    assert listed.returncode == 0, listed.stderr
    assert f"{dead.id}" in listed.stdout and "poisoned activity" in listed.stdout
    # The operator fixes the cause, then sends the row again.
    await db.execute(text("DROP TRIGGER refuse_poison ON ap_activities"))
    await db.commit()
    retried = await asyncio.to_thread(_manage, app_config, "retry-dead-letters", str(dead.id))

    assert retried.returncode == 0, retried.stderr
    assert "1 dead-lettered event" in retried.stdout
    again = await row(db, "1")
    assert again.dead_lettered_at is None and again.failures == 0
    assert (await relay(app)).delivered == 1
    assert await federation_count(db) == 1


def _manage(config: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": config["database_url"],
        "REDIS_URL": config["redis_url"],
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_backoff_is_capped() -> None:
    from services.events import MAX_BACKOFF, retry_delay

    assert retry_delay(1, base_seconds=5) == timedelta(seconds=5)
    assert retry_delay(3, base_seconds=5) == timedelta(seconds=20)
    assert retry_delay(40, base_seconds=5) == MAX_BACKOFF


async def test_a_relay_told_to_stop_ends_after_the_row_in_hand(
    app: Quart, db: AsyncSession
) -> None:
    await emit(db, "1")
    await emit(db, "2")
    serving = runtime(app)
    stop = asyncio.Event()
    stop.set()

    result = await relay_outbox(
        sessionmaker=serving.databases.sessionmaker,
        federation_sessionmaker=serving.databases.federation_sessionmaker,
        stop=stop,
    )

    assert result.delivered == 0
    assert (await relay(app)).delivered == 2
