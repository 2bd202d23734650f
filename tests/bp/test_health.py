"""Liveness and readiness, with the database or Redis unreachable; what readiness reports of
the background work without depending on it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.cart.services.reconciler import reconcile_and_record
from bp.runtime import runtime
from models import OutboxEvent
from tests.support.http import internal_headers


async def test_healthz_answers_ok(client: Any) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


async def test_readyz_ready_when_database_and_redis_answer(app: Any, client: Any) -> None:
    response = await client.get("/readyz", headers=internal_headers(app))
    assert response.status_code == 200
    body = await response.get_json()
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok"},
        # No pass since the cart's Redis index was flushed; nothing waits in the outbox.
        "reconciler": {"last_pass_at": None, "seconds_ago": None},
        "relay": {"undelivered": 0, "oldest_seconds": 0, "dead_lettered": 0},
        # What is stuck is acted on in the staff console.
        "staff_queues": "http://cart.test/staff/queues/",
    }


async def test_readyz_names_the_database_when_it_is_unreachable(
    app_config: dict[str, Any], clean_state: None
) -> None:
    # Port 9 on loopback refuses connections: an unreachable database.
    app = create_app({**app_config, "database_url": "postgresql://root@127.0.0.1:9/none"})
    async with app.test_app():
        response = await app.test_client().get("/readyz", headers=internal_headers(app))
    assert response.status_code == 503
    body = await response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unavailable")
    assert body["checks"]["redis"] == "ok"
    # What could be read is still reported; what could not is unknown.
    assert body["relay"] is None
    assert body["reconciler"] == {"last_pass_at": None, "seconds_ago": None}


async def test_readyz_names_redis_when_it_is_unreachable(
    app_config: dict[str, Any], clean_state: None
) -> None:
    app = create_app({**app_config, "redis_url": "redis://127.0.0.1:9/0"})
    async with app.test_app():
        response = await app.test_client().get("/readyz", headers=internal_headers(app))
        alive = await app.test_client().get("/healthz")
    assert response.status_code == 503
    body = await response.get_json()
    assert body["checks"] == {"database": "ok", "redis": body["checks"]["redis"]}
    assert body["checks"]["redis"].startswith("unavailable")
    assert alive.status_code == 200
    assert body["reconciler"] is None
    assert body["relay"] == {"undelivered": 0, "oldest_seconds": 0, "dead_lettered": 0}


async def outbox_row(
    db: AsyncSession, *, age: timedelta = timedelta(0), dead: bool = False
) -> None:
    created_at = datetime.now(UTC) - age
    db.add(
        OutboxEvent(
            activity_id=uuid.uuid4(),
            event_type="order.created",
            activity_type="Create",
            object_type="rose:Order",
            object_id=uuid.uuid4().hex,
            payload={},
            created_at=created_at,
            dead_lettered_at=created_at if dead else None,
        )
    )
    await db.commit()


async def test_readyz_reports_a_lagging_relay_and_no_reconciler_pass_and_stays_ready(
    app: Any, client: Any, db: AsyncSession
) -> None:
    await outbox_row(db, age=timedelta(hours=3))
    await outbox_row(db, age=timedelta(minutes=1))
    await outbox_row(db, age=timedelta(days=2), dead=True)

    response = await client.get("/readyz", headers=internal_headers(app))

    assert response.status_code == 200
    body = await response.get_json()
    assert body["status"] == "ready"
    assert body["reconciler"] == {"last_pass_at": None, "seconds_ago": None}
    relay = body["relay"]
    assert (relay["undelivered"], relay["dead_lettered"]) == (2, 1)
    assert 3 * 3600 - 5 <= relay["oldest_seconds"] <= 3 * 3600 + 60


async def test_readyz_reports_the_last_reconciler_pass_made_by_any_worker(
    app: Any, app_config: dict[str, Any], client: Any
) -> None:
    # Another worker, over the same database and Redis, runs the pass.
    other_worker = create_app(app_config)
    before = datetime.now(UTC)
    async with other_worker.test_app():
        report = await reconcile_and_record(runtime(other_worker))
    assert report.ran

    response = await client.get("/readyz", headers=internal_headers(app))

    assert response.status_code == 200
    reconciler = (await response.get_json())["reconciler"]
    last_pass = datetime.fromisoformat(reconciler["last_pass_at"])
    assert before <= last_pass <= datetime.now(UTC)
    assert 0 <= reconciler["seconds_ago"] <= 5


async def test_metrics_need_the_internal_token(client: Any) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 401


async def test_metrics_count_open_orders_and_the_outbox_backlog(
    app: Any, client: Any, db: Any
) -> None:
    from tests.support import factories

    await factories.order(db, user_id=1, status="pending")
    await factories.order(db, user_id=1, status="pending")
    await factories.order(db, user_id=2, status="failed")
    await factories.order(db, user_id=2, status="paid")
    response = await client.get("/metrics", headers=internal_headers(app))
    body = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'cart_open_orders{status="pending"} 2' in body
    assert 'cart_open_orders{status="failed"} 1' in body
    assert "cart_outbox_undelivered 0" in body
    assert "cart_refunds_due 0" in body


async def test_readyz_tells_anyone_only_whether_it_is_ready(client: Any) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ready"}


async def test_readyz_without_the_token_names_nothing_that_failed(
    app_config: dict[str, Any], clean_state: None
) -> None:
    app = create_app({**app_config, "database_url": "postgresql://root@127.0.0.1:9/none"})
    async with app.test_app():
        response = await app.test_client().get("/readyz")
    assert response.status_code == 503
    assert await response.get_json() == {"status": "unavailable"}


async def test_readyz_is_limited_for_anyone_without_the_token(
    app_config: dict[str, Any], clean_state: None
) -> None:
    app = create_app({**app_config, "rate_limit_enabled": True, "rate_limit_pages": "3/minute"})
    async with app.test_app():
        client = app.test_client()
        public = [(await client.get("/readyz")).status_code for _ in range(5)]
        operator = [
            (await client.get("/readyz", headers=internal_headers(app))).status_code
            for _ in range(5)
        ]
    assert public == [200, 200, 200, 429, 429]
    assert operator == [200] * 5
