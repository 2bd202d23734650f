"""The throwaway Redis: restarts on the same URL, empty unless persistent, clean exit."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.support.servers import RedisServer

MACHINE_PORT = 6379


async def get_and_ping(url: str, key: str) -> tuple[object, bool]:
    """A new client's view: the key's value and whether the server answers."""
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        return await client.get(key), bool(await client.ping())
    finally:
        await client.aclose()


async def set_key(url: str, key: str, value: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.set(key, value)
    finally:
        await client.aclose()


async def test_a_client_connects_again_through_the_same_url_after_a_restart(
    throwaway_redis: RedisServer,
) -> None:
    assert throwaway_redis.port != MACHINE_PORT
    url = throwaway_redis.url
    await set_key(url, "cart:1", "x")
    assert await get_and_ping(url, "cart:1") == (b"x", True)

    await throwaway_redis.arestart(down_seconds=0.2)

    # Without persistence it comes back empty, as a cache-only Redis after a crash.
    assert throwaway_redis.url == url
    assert await get_and_ping(url, "cart:1") == (None, True)


async def test_a_stopped_redis_refuses_clients_until_it_starts(
    throwaway_redis: RedisServer,
) -> None:
    client = Redis.from_url(throwaway_redis.url, socket_connect_timeout=1)
    try:
        await throwaway_redis.akill()
        with pytest.raises(RedisConnectionError):
            await client.ping()
        await throwaway_redis.astart()
        assert await client.ping()
    finally:
        await client.aclose()


async def test_a_persistent_redis_keeps_its_keys_across_a_stop() -> None:
    with RedisServer(persistent=True) as server:
        await set_key(server.url_for(2), "session:kept", "1")
        await server.arestart()
        assert await get_and_ping(server.url_for(2), "session:kept") == (b"1", True)


def test_a_failing_test_gets_the_log_tail_and_the_folder_goes() -> None:
    with pytest.raises(AssertionError) as failure:  # noqa: SIM117  (the inner `with` must raise)
        with RedisServer() as server:
            folder = server.folder
            raise AssertionError("the test failed")
    notes = "\n".join(getattr(failure.value, "__notes__", []))
    assert "Redis log" in notes
    assert "Ready to accept connections" in notes
    assert not server.running
    assert not folder.exists()
