"""Redis URLs with another database index, for a TCP server and for a unix socket."""

from __future__ import annotations

from redis.asyncio.connection import parse_url

from lib.redis import url_with_db


def test_a_tcp_url_gets_the_index_as_its_path() -> None:
    assert url_with_db("redis://127.0.0.1:6379/0", 15) == "redis://127.0.0.1:6379/15"


def test_a_socket_url_keeps_its_slashes_and_gets_the_index_as_a_query() -> None:
    url = url_with_db("unix:///tmp/redis/redis.socket?db=1", 2)

    assert url == "unix:///tmp/redis/redis.socket?db=2"
    assert parse_url(url)["path"] == "/tmp/redis/redis.socket"
    assert parse_url(url)["db"] == 2
