"""The throwaway-server fixtures, for the tests of the harness itself."""

from tests.support.servers.fixtures import (  # noqa: F401  (fixtures, used by name)
    migrated_postgres,
    throwaway_pgbouncer,
    throwaway_postgres,
    throwaway_redis,
)
