"""The throwaway-server fixtures, for the fault tests."""

from collections.abc import Iterator

import pytest

from tests.support.servers import RedisServer
from tests.support.servers.fixtures import (  # noqa: F401  (fixtures, used by name)
    migrated_postgres,
    throwaway_postgres,
    throwaway_redis,
)


@pytest.fixture
def persistent_redis() -> Iterator[RedisServer]:
    """A throwaway Redis that keeps its data over a restart, as the shared session store does
    (a signed-in shopper stays signed in)."""
    with RedisServer(persistent=True) as server:
        yield server
