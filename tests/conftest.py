"""Test harness: a fresh, migrated database for the run; every test starts from empty tables."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from quart import Quart
from quart.typing import TestClientProtocol
from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.embedded import migrate
from lib.redis import url_with_db
from models import CartBase, SharedBase

pytest_plugins = ["tests.support.standin", "tests.support.mail"]

# The tests run as `test`, never as production, which is what a bare start gets; set before
# any test module imports app.py (which builds an app at import).
os.environ["APP_ENV"] = "test"

# Overridable so that several test runs can share one PostgreSQL and one Redis.
TEST_DATABASE = os.environ.get("TEST_DATABASE_NAME", "cart_test")
# Separate indexes from a development run on the same Redis.
TEST_AUTH_DB = int(os.environ.get("TEST_REDIS_AUTH_DB", "14"))
TEST_CART_DB = int(os.environ.get("TEST_REDIS_CART_DB", "13"))
TABLES = [t.name for t in (*SharedBase.metadata.sorted_tables, *CartBase.metadata.sorted_tables)]


def admin_database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")


def database_url_for(name: str) -> str:
    """The test server's URL with another database name, for asyncpg-style libraries."""
    url = make_url(admin_database_url()).set(drivername="postgresql", database=name)
    return url.render_as_string(hide_password=False)


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def recreate_database(name: str) -> None:
    """Drop and create a database on the test server."""
    connection = await asyncpg.connect(
        database_url_for(make_url(admin_database_url()).database or "postgres")
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A new database migrated with alembic, as production is: the schema only from migrations."""
    asyncio.run(recreate_database(TEST_DATABASE))
    url = database_url_for(TEST_DATABASE)
    migrate(url)
    yield url


@pytest.fixture
async def clean_state(database_url: str) -> AsyncIterator[None]:
    """Empty every table and both Redis test indexes before the test."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE"
        )
    finally:
        await connection.close()
    for db in (TEST_AUTH_DB, TEST_CART_DB):
        client = Redis.from_url(url_with_db(redis_url(), db))
        await client.flushdb()
        await client.aclose()
    yield


@pytest.fixture
def app_config(database_url: str) -> dict[str, Any]:
    """Settings of the app under test; tests add to it before `app` is built."""
    return {
        "app_env": "test",
        "database_url": database_url,
        "redis_url": redis_url(),
        "redis_auth_db": TEST_AUTH_DB,
        "redis_cart_db": TEST_CART_DB,
        "database_pool_size": 5,
        "background_jobs_enabled": False,
        # Tests send many requests from one client; the limits' own tests switch them on.
        "rate_limit_enabled": False,
        "public_base_url": "http://cart.test",
        "sumup_api_base": "http://127.0.0.1:9",
        "sumup_api_key": "sup_sk_test",
        "sumup_merchant_code": "MTEST001",
    }


@pytest.fixture
async def app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    """The app, serving (its before_serving hooks ran), on empty tables."""
    from app import create_app  # imported once APP_ENV says `test` (see above)

    application = create_app(app_config)
    async with application.test_app():
        yield application


@pytest.fixture
async def json_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    """The app writing its logs as JSON lines, as production does; plain logs again after."""
    import structlog

    from app import create_app
    from lib.structured_logs import configure_logging

    application = create_app({**app_config, "log_format": "json"})
    async with application.test_app():
        yield application
    structlog.contextvars.clear_contextvars()
    configure_logging(json=False)


@pytest.fixture
def client(app: Quart) -> TestClientProtocol:
    return app.test_client()


@pytest.fixture
async def db(app: Quart) -> AsyncIterator[AsyncSession]:
    """A session on the app's database, for arranging data and checking what was written."""
    async with runtime(app).databases.sessionmaker() as session:
        yield session
