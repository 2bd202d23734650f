"""Domain events: the outbox written with the change, relayed to the federation store at least
once, and a second delivery changing nothing there."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bp.runtime import runtime
from lib.db import make_engine
from models import FederationActivity, OutboxEvent
from services.events import _deliver, relay_outbox
from tests.support.checkout import (
    BAKERY_TOTAL,
    events_of,
    federation_count,
    payments_config,
    post_checkout,
    shop_with_cart,
)
from tests.support.http import sign_in
from tests.support.outbox import ACTOR, emit_order_paid
from tests.support.statements import counting

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def emit(db: AsyncSession, object_id: str = "1", event_type: str = "order.paid") -> bool:
    return await emit_order_paid(
        db, object_id, event_type=event_type, total="12.50", currency="GBP"
    )


async def relay(app: Quart, **kwargs: Any) -> Any:
    dbs = runtime(app).databases
    return await relay_outbox(
        sessionmaker=kwargs.pop("sessionmaker", dbs.sessionmaker),
        federation_sessionmaker=kwargs.pop("federation_sessionmaker", dbs.federation_sessionmaker),
        **kwargs,
    )


async def outbox(db: AsyncSession) -> list[OutboxEvent]:
    return list(
        await db.scalars(
            select(OutboxEvent).order_by(OutboxEvent.id).execution_options(populate_existing=True)
        )
    )


async def test_an_event_is_an_activitystreams_activity_with_a_stable_id(
    app: Quart, db: AsyncSession
) -> None:
    assert await emit(db) is True

    [row] = await outbox(db)
    activity = row.payload
    assert activity["@context"] == "https://www.w3.org/ns/activitystreams"
    assert activity["id"] == f"urn:uuid:{row.activity_id}"
    assert activity["type"] == "rose:OrderPaid" and activity["actor"] == ACTOR
    assert activity["object"] == {
        "type": "rose:Order",
        "id": f"{ACTOR}/orders/1/",
        "total": "12.50",
        "currency": "GBP",
    }
    assert activity["published"].endswith("+00:00")
    assert row.delivered_at is None and row.attempts == 0


async def test_the_same_event_for_the_same_object_is_written_once(
    app: Quart, db: AsyncSession
) -> None:
    assert await emit(db) is True
    assert await emit(db) is False
    assert await emit(db, event_type="order.created") is True

    assert len(await outbox(db)) == 2


async def test_a_relayed_event_lands_in_the_federation_store_once(
    app: Quart, db: AsyncSession
) -> None:
    await emit(db, "1")
    await emit(db, "2")

    first = await relay(app)
    second = await relay(app)

    assert (first.delivered, first.failed) == (2, 0)
    assert (second.delivered, second.failed) == (0, 0)
    assert await federation_count(db) == 2
    rows = await outbox(db)
    assert all(row.delivered_at is not None and row.attempts == 1 for row in rows)
    stored = await db.scalar(
        select(FederationActivity).where(FederationActivity.activity_id == rows[0].activity_id)
    )
    assert stored is not None
    assert stored.payload == rows[0].payload and stored.source == "cart"


async def test_a_crash_between_delivering_and_marking_loses_nothing_and_doubles_nothing(
    app: Quart, db: AsyncSession
) -> None:
    await emit(db)
    dbs = runtime(app).databases

    class CrashBeforeMarking(AsyncSession):
        async def commit(self) -> None:
            raise RuntimeError("the worker died here")

    crashing = async_sessionmaker(dbs.engine, class_=CrashBeforeMarking, expire_on_commit=False)
    with pytest.raises(RuntimeError, match="died"):
        await relay(app, sessionmaker=crashing)
    assert await federation_count(db) == 1
    assert (await outbox(db))[0].delivered_at is None

    again = await relay(app)

    assert again.delivered == 1
    assert await federation_count(db) == 1


async def test_a_delivery_made_by_an_earlier_run_is_not_repeated(
    app: Quart, db: AsyncSession
) -> None:
    await emit(db)
    [row] = await outbox(db)
    await _deliver(runtime(app).databases.federation_sessionmaker, row)

    result = await relay(app)

    assert result.delivered == 1
    assert await federation_count(db) == 1


async def test_an_unreachable_federation_store_is_retried_later(
    app: Quart, db: AsyncSession
) -> None:
    await emit(db)
    unreachable = make_engine("postgresql://root@127.0.0.1:9/none", pool_size=1)
    try:
        failed = await relay(
            app, federation_sessionmaker=async_sessionmaker(unreachable, expire_on_commit=False)
        )
    finally:
        await unreachable.dispose()

    assert (failed.delivered, failed.failed) == (0, 1)
    [row] = await outbox(db)
    assert row.delivered_at is None and row.attempts == 1 and row.last_error
    assert (await relay(app)).delivered == 1
    assert (await outbox(db))[0].attempts == 2


async def test_a_pass_relays_its_whole_batch_in_as_few_statements_as_one_row(
    app: Quart, db: AsyncSession
) -> None:
    await emit(db, "alone")
    with counting(app) as one:
        assert (await relay(app)).delivered == 1
    for number in range(12):
        await emit(db, str(number))

    with counting(app) as twelve:
        result = await relay(app)

    assert (result.delivered, result.failed) == (12, 0)
    assert await federation_count(db) == 13
    assert all(row.delivered_at is not None and row.attempts == 1 for row in await outbox(db))
    # The rows locked, their activities stored, the rows marked: one statement each.
    assert len(one) == 3, "\n".join(one)
    assert len(twelve) == len(one), "\n".join(twelve)


async def test_relays_on_several_workers_share_the_rows(app: Quart, db: AsyncSession) -> None:
    for number in range(20):
        await emit(db, str(number))

    results = await asyncio.gather(*(relay(app, batch_size=5) for _ in range(6)))

    assert sum(result.delivered for result in results) == 20
    assert await federation_count(db) == 20


async def test_a_checkout_writes_its_create_activity(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await shop_with_cart(db, user_id=7)
    await sign_in(app, client, 7)
    await post_checkout(app, client, "bakery")

    [created] = await events_of(db, "order.created")

    activity = created.payload
    assert activity["type"] == "Create" and created.activity_type == "Create"
    order = activity["object"]
    assert order["type"] == "rose:Order" and order["status"] == "pending"
    assert order["total"] == BAKERY_TOTAL and order["currency"] == "GBP"
    assert order["id"] == f"http://127.0.0.1:9/orders/{order['orderId']}/"
    assert {item["kind"] for item in order["items"]} == {"product", "booking", "ticket"}
    uuid.UUID(activity["id"].removeprefix("urn:uuid:"))


def test_manage_relay_runs_one_pass(app_config: dict[str, Any], clean_state: None) -> None:
    asyncio.run(_one_event(app_config["database_url"]))
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": app_config["database_url"],
        "REDIS_URL": app_config["redis_url"],
    }
    command = [sys.executable, "manage.py", "relay"]

    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert first.returncode == 0, first.stderr
    assert "delivered 1, failed 0" in first.stdout
    assert "delivered 0, failed 0" in second.stdout


async def _one_event(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            await emit(session)
        async with engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(OutboxEvent)) == 1
    finally:
        await engine.dispose()
