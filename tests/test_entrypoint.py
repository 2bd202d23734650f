"""entrypoint.sh outside Docker: waits, migrates, flushes only the cart's Redis index, serves."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from lib.redis import url_with_db
from tests.conftest import database_url_for, recreate_database, redis_url
from tests.support.processes import ROOT, free_port, get, start, stop, wait_for_http

DATABASE = "cart_entrypoint_test"
AUTH_DB = 11
CART_DB = 12


async def redis_keys() -> tuple[object, object]:
    auth = Redis.from_url(url_with_db(redis_url(), AUTH_DB))
    cart = Redis.from_url(url_with_db(redis_url(), CART_DB))
    try:
        return await auth.get("session:kept"), await cart.get("cache:stale")
    finally:
        await auth.aclose()
        await cart.aclose()


async def prepare_redis() -> None:
    auth = Redis.from_url(url_with_db(redis_url(), AUTH_DB))
    cart = Redis.from_url(url_with_db(redis_url(), CART_DB))
    await auth.set("session:kept", '{"user_id": 1}')
    await cart.set("cache:stale", "1")
    await auth.aclose()
    await cart.aclose()


async def migrated_tables() -> set[str]:
    connection = await asyncpg.connect(database_url_for(DATABASE))
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


def venv_path() -> str:
    """PATH with this interpreter's scripts first, as the image has its Python on PATH."""
    return f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"


@pytest.fixture
def fresh_database() -> Iterator[None]:
    asyncio.run(recreate_database(DATABASE))
    asyncio.run(prepare_redis())
    yield


@pytest.mark.slow
def test_entrypoint_migrates_flushes_the_cart_index_and_serves(fresh_database: None) -> None:
    port = free_port()
    env = {
        "PATH": venv_path(),
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "INTERNAL_API_TOKEN": "entrypoint-test-token",
        "PAGE_CONFIG_ENCRYPTION_KEY": "a2V5LWZvci1zZWFsaW5nLXBhZ2UtYXBpLWtleXMtMzI=",
        "DATABASE_URL": database_url_for(DATABASE),
        "REDIS_URL": redis_url(),
        "REDIS_AUTH_DB": str(AUTH_DB),
        "REDIS_CART_DB": str(CART_DB),
        "RECONCILER_ENABLED": "false",
        "PORT": str(port),
        "WORKERS": "1",
    }
    process = start(["sh", str(ROOT / "entrypoint.sh")], env)
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/readyz", process) == 200
        status, _ = get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200
    finally:
        stop(process)
    assert {"orders", "cart_items", "products", "alembic_version"} <= asyncio.run(migrated_tables())
    kept, flushed = asyncio.run(redis_keys())
    assert kept == b'{"user_id": 1}'
    assert flushed is None


@pytest.mark.slow
def test_entrypoint_stops_with_a_clear_message_when_production_settings_are_missing() -> None:
    env = {"PATH": venv_path(), "APP_ENV": "production", "DATABASE_URL": database_url_for(DATABASE)}
    process = start(["sh", str(ROOT / "entrypoint.sh")], env)
    process.wait(60)
    code, output = stop(process)
    assert code != 0
    assert "required in production but not set" in output


@pytest.mark.slow
def test_entrypoint_runs_as_the_seeds_configure_it(fresh_database: None) -> None:
    # Seeds 001 and 003: DATABASE_URL_ASYNC (no DATABASE_URL) and APP_MODULE as hypercorn's target.
    port = free_port()
    env = {
        "PATH": venv_path(),
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "INTERNAL_API_TOKEN": "entrypoint-test-token",
        "PAGE_CONFIG_ENCRYPTION_KEY": "a2V5LWZvci1zZWFsaW5nLXBhZ2UtYXBpLWtleXMtMzI=",
        "DATABASE_URL_ASYNC": database_url_for(DATABASE).replace(
            "postgresql://", "postgresql+asyncpg://", 1
        ),
        "REDIS_URL": redis_url(),
        "REDIS_AUTH_DB": str(AUTH_DB),
        "REDIS_CART_DB": str(CART_DB),
        "RECONCILER_ENABLED": "false",
        "PORT": str(port),
        "WORKERS": "1",
    }
    wrong = start(["sh", str(ROOT / "entrypoint.sh")], {**env, "APP_MODULE": "app:no_such_app"})
    wrong.wait(120)
    _, output = stop(wrong)
    # Hypercorn names the target it was given (and serves nothing).
    assert "Cannot load application from 'app:no_such_app'" in output

    process = start(["sh", str(ROOT / "entrypoint.sh")], {**env, "APP_MODULE": "app:create_app()"})
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/readyz", process) == 200
    finally:
        stop(process)
    assert {"orders", "cart_items", "products", "alembic_version"} <= asyncio.run(migrated_tables())
