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
