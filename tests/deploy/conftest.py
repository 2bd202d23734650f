"""The throwaway-server fixtures, for the deployment test."""

from tests.support.servers.fixtures import (  # noqa: F401  (fixtures, used by name)
    migrated_postgres,
    throwaway_postgres,
    throwaway_redis,
)
