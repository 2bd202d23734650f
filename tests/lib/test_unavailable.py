"""A server we need that is down is a 503 "please try again in a moment", in the caller's form
(page, HTMX fragment, JSON), never a 500: refused and lost database connections, the pool's
wait running out, Redis unreachable. Each failure here is a real one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from quart import Blueprint, Quart
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from app import create_app
from bp.runtime import current_runtime
from lib.csrf import csrf_exempt
from lib.db import make_engine, normalise_database_url
from lib.errors import database_unavailable, unavailable_dependency
from lib.redis import url_with_db

NOWHERE_DATABASE = "postgresql://root@127.0.0.1:9/none"
NOWHERE_REDIS = "redis://127.0.0.1:9/0"

probe = Blueprint("unavailable_probe", __name__)


@probe.get("/probe/database-refused")
@probe.get("/internal/cart/probe/database-refused")
async def database_refused() -> str:
    engine = make_engine(NOWHERE_DATABASE, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    return "unreachable"


@probe.get("/probe/connection-lost")
async def connection_lost() -> str:
    """The server ends this request's connection (as a restart does) before its query."""
    engine = current_runtime().databases.engine
    async with engine.connect() as victim, engine.connect() as admin:
        pid = await victim.scalar(text("SELECT pg_backend_pid()"))
        await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await victim.execute(text("SELECT 1"))
    return "unreachable"


@probe.get("/probe/pool-exhausted")
async def pool_exhausted() -> str:
    url = normalise_database_url(str(current_runtime().settings.database_url))
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    try:
        async with engine.connect(), engine.connect():
            pass
    finally:
        await engine.dispose()
    return "unreachable"


@probe.get("/probe/redis-refused")
async def redis_refused() -> str:
    from lib.redis import open_redis

    settings = current_runtime().settings.model_copy(update={"redis_url": NOWHERE_REDIS})
    clients = open_redis(settings)
    try:
        await clients.cart.get("anything")
    finally:
        await clients.close()
    return "unreachable"


@probe.get("/probe/duplicate")
async def duplicate() -> str:
    """A real constraint violation: a bug, not an outage."""
    async with current_runtime().databases.engine.begin() as connection:
        await connection.execute(text("SELECT 1/0"))
    return "unreachable"


@probe.get("/probe/deadlock")
@probe.post("/checkout/webhook/probe-deadlock")
@csrf_exempt
async def deadlock() -> str:
    """Two transactions each wait for the other's lock: PostgreSQL rolls one back."""
    engine = current_runtime().databases.engine
    async with engine.begin() as first, engine.begin() as second:
        await first.execute(text("SELECT pg_advisory_xact_lock(424201)"))
        await second.execute(text("SELECT pg_advisory_xact_lock(424202)"))
        await asyncio.gather(
            first.execute(text("SELECT pg_advisory_xact_lock(424202)")),
            second.execute(text("SELECT pg_advisory_xact_lock(424201)")),
        )
    return "unreachable"


@pytest.fixture
async def probe_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app(app_config)
    application.register_blueprint(probe)
    async with application.test_app():
        yield application


@pytest.mark.parametrize(
    "path",
    ["/probe/database-refused", "/probe/connection-lost", "/probe/pool-exhausted"],
)
async def test_an_unreachable_database_is_a_503_page(probe_app: Quart, path: str) -> None:
    response = await probe_app.test_client().get(path)
    body = await response.get_data(as_text=True)

    assert response.status_code == 503, body
    assert "<html" in body and "please try again in a moment" in body.lower()
    assert 'data-error-code="DATABASE_UNAVAILABLE"' in body
    assert response.headers["Retry-After"] == "5"


async def test_an_htmx_request_gets_the_503_as_a_fragment(probe_app: Quart) -> None:
    response = await probe_app.test_client().get(
        "/probe/database-refused", headers={"HX-Request": "true"}
    )
    body = await response.get_data(as_text=True)

    assert response.status_code == 503
    assert "<html" not in body and "please try again in a moment" in body.lower()
    assert response.headers["HX-Retarget"] == "#alerts"


async def test_an_internal_caller_gets_the_503_as_json(probe_app: Quart) -> None:
    response = await probe_app.test_client().get("/internal/cart/probe/database-refused")

    assert response.status_code == 503
    error = (await response.get_json())["error"]
    assert error["code"] == "DATABASE_UNAVAILABLE"
    assert "try again in a moment" in error["message"]


async def test_an_unreachable_redis_is_a_503(probe_app: Quart) -> None:
    response = await probe_app.test_client().get("/probe/redis-refused")

    assert response.status_code == 503
    assert 'data-error-code="SESSION_STORE_UNAVAILABLE"' in await response.get_data(as_text=True)


async def test_a_deadlock_is_a_409_saying_nothing_was_saved_and_to_try_again(
    probe_app: Quart,
) -> None:
    response = await probe_app.test_client().get("/probe/deadlock")
    body = await response.get_data(as_text=True)

    assert response.status_code == 409, body
    assert 'data-error-code="CONFLICT_TRY_AGAIN"' in body
    assert "nothing was saved. Please try again." in body
    assert response.headers["Retry-After"] == "1"


async def test_a_deadlock_in_the_webhook_is_a_503_so_that_sumup_sends_it_again(
    probe_app: Quart,
) -> None:
    response = await probe_app.test_client().post("/checkout/webhook/probe-deadlock")

    assert response.status_code == 503
    assert (await response.get_json())["error"]["code"] == "CONFLICT_TRY_AGAIN"


async def test_a_database_error_that_is_no_outage_stays_a_500(probe_app: Quart) -> None:
    response = await probe_app.test_client().get("/probe/duplicate")

    assert response.status_code == 500


async def test_the_pool_recovers_after_its_connections_were_ended(
    probe_app: Quart, database_url: str
) -> None:
    """Every pooled connection ended by the server (as a restart does): the next requests
    take fresh ones, without a failure."""
    engine = current_runtime_engine(probe_app)
    async with engine.connect() as a, engine.connect() as b:
        await a.execute(text("SELECT 1"))
        await b.execute(text("SELECT 1"))
    admin = make_engine(database_url, pool_size=1)
    try:
        async with admin.connect() as connection:
            await connection.execute(
                text(
                    # Waits (up to 5 s) until each backend is gone, as after a restart.
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    # The pooled connections' sockets are closed now; a restart leaves the event loop time to
    # read that before the next request, which this gives it too (otherwise the first request
    # may race the server's goodbye on its socket).
    await asyncio.sleep(0.1)

    statuses = [(await probe_app.test_client().get("/readyz")).status_code for _ in range(4)]

    assert statuses == [200] * 4


def current_runtime_engine(app: Quart) -> Any:
    from bp.runtime import runtime

    return runtime(app).databases.engine


async def test_what_counts_as_unavailable() -> None:
    engine = make_engine(NOWHERE_DATABASE, pool_size=1)
    try:
        with pytest.raises(OSError) as refused:
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    client = Redis.from_url(url_with_db(NOWHERE_REDIS, 0))
    try:
        with pytest.raises(Exception) as redis_down:
            await client.get("x")
    finally:
        await client.aclose()

    assert database_unavailable(refused.value)
    assert unavailable_dependency(redis_down.value) == "redis"
    assert unavailable_dependency(ValueError("a bug")) is None
    assert not database_unavailable(IntegrityError("INSERT", {}, Exception("duplicate key")))


def test_a_driver_left_out_of_step_by_a_lost_connection_counts_as_unavailable() -> None:
    """asyncpg raises InternalClientError when PostgreSQL goes away mid-query (seen under a
    restart): wrapped by SQLAlchemy or not, the shopper gets the 503 "try again", not a 500."""
    lost = asyncpg.exceptions._base.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"
    )
    wrapped = DBAPIError("SELECT 1", {}, lost)
    assert database_unavailable(lost)
    assert database_unavailable(wrapped)
