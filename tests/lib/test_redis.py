"""Redis URLs with a database index, for TCP and for the embedded server's unix socket."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from lib.embedded import start_redis
from lib.redis import url_with_db


def test_a_tcp_url_gets_the_index_as_its_path() -> None:
    assert url_with_db("redis://127.0.0.1:6379/0", 2) == "redis://127.0.0.1:6379/2"
    assert url_with_db("redis://:pw@cache:6380", 15) == "redis://:pw@cache:6380/15"


def test_a_unix_url_keeps_its_slashes_and_gets_the_index_as_a_query() -> None:
    assert url_with_db("unix:///run/redis.sock", 2) == "unix:///run/redis.sock?db=2"
    assert url_with_db("unix:///run/redis.sock?db=0", 15) == "unix:///run/redis.sock?db=15"


@pytest.mark.slow
async def test_the_embedded_redis_on_its_unix_socket_is_reached_in_each_index(
    tmp_path: Path,
) -> None:
    server, url = start_redis(tmp_path)
    try:
        first = Redis.from_url(url_with_db(url, 2), decode_responses=True)
        second = Redis.from_url(url_with_db(url, 15), decode_responses=True)
        try:
            await first.set("where", "index 2")
            assert await first.get("where") == "index 2"
            assert await second.get("where") is None
        finally:
            await first.aclose()
            await second.aclose()
    finally:
        server.shutdown(save=False)
