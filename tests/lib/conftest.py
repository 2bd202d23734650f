"""The throwaway-server fixtures, for the tests of the glue that runs behind PgBouncer."""

from tests.support.servers.fixtures import (  # noqa: F401  (fixtures, used by name)
    throwaway_pgbouncer,
    throwaway_postgres,
)
