"""entrypoint.sh outside Docker: waits, migrates, flushes only the cart's Redis index, serves."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
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


def production_env(port: int) -> dict[str, str]:
    return {
        "PATH": venv_path(),
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "INTERNAL_API_TOKEN": "entrypoint-test-token-of-32-characters",
        "PAGE_CONFIG_ENCRYPTION_KEY": "a2V5LWZvci1zZWFsaW5nLXBhZ2UtYXBpLWtleXMtMzI=",
        "DATABASE_URL": database_url_for(DATABASE),
        "REDIS_URL": redis_url(),
        "REDIS_AUTH_DB": str(AUTH_DB),
        "REDIS_CART_DB": str(CART_DB),
        "BACKGROUND_JOBS_ENABLED": "false",
        "PORT": str(port),
        "WORKERS": "1",
    }


@pytest.mark.slow
def test_entrypoint_migrates_flushes_the_cart_index_and_serves(fresh_database: None) -> None:
    port = free_port()
    process = start(["sh", str(ROOT / "entrypoint.sh")], production_env(port))
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
        "INTERNAL_API_TOKEN": "entrypoint-test-token-of-32-characters",
        "PAGE_CONFIG_ENCRYPTION_KEY": "a2V5LWZvci1zZWFsaW5nLXBhZ2UtYXBpLWtleXMtMzI=",
        "DATABASE_URL_ASYNC": database_url_for(DATABASE).replace(
            "postgresql://", "postgresql+asyncpg://", 1
        ),
        "REDIS_URL": redis_url(),
        "REDIS_AUTH_DB": str(AUTH_DB),
        "REDIS_CART_DB": str(CART_DB),
        "BACKGROUND_JOBS_ENABLED": "false",
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


# Half-sent requests, as a slow or hostile client leaves them: headers never finished, a body
# that stops, a body trickled one byte a second. Hypercorn's keep-alive timer runs until the
# headers are complete, its read timeout ends a silent body, the app's body timeout a trickle.
HALF_SENT = {
    "headers": (b"GET /healthz HTTP/1.1\r\nHost: cart\r\nX-Slow: ", False),
    "stalled body": (
        b"POST /checkout/webhook/1/ HTTP/1.1\r\nHost: cart\r\n"
        b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{",
        False,
    ),
    "trickled body": (
        b"POST /checkout/webhook/1/ HTTP/1.1\r\nHost: cart\r\n"
        b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{",
        True,
    ),
}
CONNECTIONS_EACH = 20
# Longest the service may hold any of them (the body timeout, 15 s, plus slack).
HOLD_LIMIT_SECONDS = 25.0


async def held_for(port: int, opening: bytes, trickle: bool) -> float:
    """Seconds until the server closed a connection left half-sent (or the limit, if it never)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(opening)
    await writer.drain()
    try:
        while time.monotonic() - started < HOLD_LIMIT_SECONDS + 5:
            try:
                if not await asyncio.wait_for(reader.read(4096), 1.0):
                    return time.monotonic() - started
            except TimeoutError:
                if trickle:
                    writer.write(b" ")
                    await writer.drain()
            except ConnectionError:
                return time.monotonic() - started
        return time.monotonic() - started
    finally:
        writer.close()


async def half_sent_flood(port: int) -> tuple[dict[str, float], int]:
    """The longest hold per kind, and the status of /healthz asked during the flood."""
    kinds = [(name, opening, trickle) for name, (opening, trickle) in HALF_SENT.items()]
    tasks = {
        (name, n): asyncio.create_task(held_for(port, opening, trickle))
        for name, opening, trickle in kinds
        for n in range(CONNECTIONS_EACH)
    }
    await asyncio.sleep(1)
    status, _ = await asyncio.to_thread(get, f"http://127.0.0.1:{port}/healthz")
    held = await asyncio.gather(*tasks.values())
    longest: dict[str, float] = {}
    for (name, _), seconds in zip(tasks, held, strict=True):
        longest[name] = max(longest.get(name, 0.0), seconds)
    return longest, status


@pytest.mark.slow
def test_the_entrypoint_s_server_drops_half_sent_requests_and_logs_no_secrets(
    fresh_database: None,
) -> None:
    port = free_port()
    process = start(["sh", str(ROOT / "entrypoint.sh")], production_env(port))
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/readyz", process) == 200
        longest, status_during = asyncio.run(half_sent_flood(port))
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz?session_id=query-secret&token=query-token",
            headers={"Referer": "https://cart.test/checkout/return/1/?session_id=referer-secret"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            assert response.status == 200
    finally:
        _code, output = stop(process)

    assert status_during == 200
    assert all(seconds < HOLD_LIMIT_SECONDS for seconds in longest.values()), longest
    logged = [line for line in output.splitlines() if "GET /healthz" in line]
    assert logged, output[-2000:]
    assert "query-secret" not in output and "query-token" not in output
    assert "referer-secret" not in output


@pytest.mark.slow
def test_entrypoint_empties_the_metrics_folder_it_is_given_and_the_workers_count_there(
    fresh_database: None, tmp_path: Path
) -> None:
    port = free_port()
    folder = tmp_path / "metrics"
    folder.mkdir()
    # A previous run's counts (here unreadable as counts): left in place they would be summed.
    (folder / "counter_999999.db").write_bytes(b"a previous run")
    env = {**production_env(port), "PROMETHEUS_MULTIPROC_DIR": str(folder), "WORKERS": "2"}
    process = start(["sh", str(ROOT / "entrypoint.sh")], env)
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/readyz", process) == 200
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": f"Bearer {env['INTERNAL_API_TOKEN']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            scrape = response.read().decode()
    finally:
        stop(process)
    assert not (folder / "counter_999999.db").exists()
    assert list(folder.glob("histogram_*.db"))
    readyz = 'http_request_duration_seconds_count{method="GET",route="/readyz",status="200"}'
    assert readyz in scrape


def migrate_now() -> None:
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "heads"],
        cwd=ROOT,
        env={"PATH": venv_path(), "DATABASE_URL": database_url_for(DATABASE)},
        capture_output=True,
        check=True,
        timeout=120,
    )


@pytest.mark.slow
def test_an_instance_of_a_rolling_restart_neither_migrates_nor_flushes(
    fresh_database: None,
) -> None:
    # The rollout migrated and flushed once, before the first instance; the other instances
    # still serve, with their idempotency keys and rate-limit counts in the cart's index.
    migrate_now()
    port = free_port()
    env = {
        **production_env(port),
        "MIGRATE_ON_START": "false",
        "FLUSH_CART_REDIS_ON_START": "false",
    }
    process = start(["sh", str(ROOT / "entrypoint.sh")], env)
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/readyz", process) == 200
    finally:
        _, output = stop(process)
    kept, cart_key = asyncio.run(redis_keys())
    assert kept == b'{"user_id": 1}'
    assert cart_key == b"1"
    assert "alembic" not in output and "flushed Redis index" not in output
