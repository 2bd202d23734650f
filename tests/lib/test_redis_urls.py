"""Redis URLs with another database index, for a server on TCP and on a socket."""

from __future__ import annotations

from redis.asyncio import Redis

from lib.redis import url_with_db


def test_a_tcp_url_takes_the_index_as_its_path() -> None:
    assert url_with_db("redis://127.0.0.1:6379/0", 2) == "redis://127.0.0.1:6379/2"


async def test_a_socket_url_keeps_its_scheme_and_takes_the_index_as_a_query() -> None:
    url = url_with_db("unix:///tmp/cart/redis.socket", 2)

    assert url == "unix:///tmp/cart/redis.socket?db=2"
    client = Redis.from_url(url)
    assert client.connection_pool.connection_kwargs["path"] == "/tmp/cart/redis.socket"
    assert client.connection_pool.connection_kwargs["db"] == 2
    await client.aclose()
