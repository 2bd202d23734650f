"""Throwaway servers for tests that break them: PostgreSQL, Redis, PgBouncer, the service.

Each starts from the machine's binaries on a free port of 127.0.0.1, keeps its files in a
temporary folder, and never touches the machine's own servers. Use them with `with` (or the
fixtures in `tests.support.servers.fixtures`); `stop()`/`start()`/`restart()`/`kill()` keep the
port and data, so clients reconnect to the same URL.
"""

from tests.support.servers.base import ServerError, free_port
from tests.support.servers.pgbouncer import PgBouncer, pgbouncer_binary
from tests.support.servers.postgres import PostgresServer
from tests.support.servers.redis import RedisServer
from tests.support.servers.service import (
    PRODUCTION_SETTINGS,
    ServiceProcess,
    migrate,
    service_environment,
)

__all__ = [
    "PRODUCTION_SETTINGS",
    "PgBouncer",
    "PostgresServer",
    "RedisServer",
    "ServerError",
    "ServiceProcess",
    "free_port",
    "migrate",
    "pgbouncer_binary",
    "service_environment",
]
