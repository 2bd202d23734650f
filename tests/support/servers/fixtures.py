"""Pytest fixtures for throwaway servers, one set per test (a fault test may break them).

Import the ones a test module or conftest.py uses, e.g.
`from tests.support.servers.fixtures import throwaway_postgres, throwaway_redis`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers.pgbouncer import NOT_INSTALLED, PgBouncer, pgbouncer_binary
from tests.support.servers.postgres import PostgresServer
from tests.support.servers.redis import RedisServer
from tests.support.servers.service import migrate


def require_pgbouncer() -> None:
    """Skip the test, saying why, on a machine without pgbouncer."""
    if pgbouncer_binary() is None:
        pytest.skip(NOT_INSTALLED)


@pytest.fixture
def throwaway_postgres() -> Iterator[PostgresServer]:
    """An empty PostgreSQL of this test's own (database `test`, superuser `root`)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def migrated_postgres(throwaway_postgres: PostgresServer) -> PostgresServer:
    """The throwaway PostgreSQL with the service's schema, migrated with alembic."""
    migrate(throwaway_postgres.url)
    return throwaway_postgres


@pytest.fixture
def throwaway_redis() -> Iterator[RedisServer]:
    """An empty Redis of this test's own, without persistence."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def throwaway_pgbouncer(request: pytest.FixtureRequest) -> Iterator[PgBouncer]:
    """PgBouncer (transaction pooling, 5 server connections) in front of throwaway_postgres.

    Skips, saying why, without pgbouncer, before starting any server.
    """
    require_pgbouncer()
    postgres: PostgresServer = request.getfixturevalue("throwaway_postgres")
    with PgBouncer(postgres) as bouncer:
        yield bouncer
