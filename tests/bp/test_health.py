"""Liveness and readiness, with the database or Redis unreachable."""

from __future__ import annotations

from typing import Any

from app import create_app


async def test_healthz_answers_ok(client: Any) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


async def test_readyz_ready_when_database_and_redis_answer(client: Any) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = await response.get_json()
    assert body == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


async def test_readyz_names_the_database_when_it_is_unreachable(
    app_config: dict[str, Any], clean_state: None
) -> None:
    # Port 9 on loopback refuses connections: an unreachable database.
    app = create_app({**app_config, "database_url": "postgresql://root@127.0.0.1:9/none"})
    async with app.test_app():
        response = await app.test_client().get("/readyz")
    assert response.status_code == 503
    body = await response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unavailable")
    assert body["checks"]["redis"] == "ok"


async def test_readyz_names_redis_when_it_is_unreachable(
    app_config: dict[str, Any], clean_state: None
) -> None:
    app = create_app({**app_config, "redis_url": "redis://127.0.0.1:9/0"})
    async with app.test_app():
        response = await app.test_client().get("/readyz")
        alive = await app.test_client().get("/healthz")
    assert response.status_code == 503
    body = await response.get_json()
    assert body["checks"] == {"database": "ok", "redis": body["checks"]["redis"]}
    assert body["checks"]["redis"].startswith("unavailable")
    assert alive.status_code == 200


async def test_metrics_need_the_internal_token(client: Any) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 401


async def test_metrics_count_open_orders_and_the_outbox_backlog(
    app: Any, client: Any, db: Any
) -> None:
    from tests.support import factories
    from tests.support.http import internal_headers

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
