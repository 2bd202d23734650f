"""The hot commands' connection (lib/redis_hot.py): the answers redis-py gives, for many
commands in flight at once, through a restart of Redis and a Redis that stops answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvloop
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from lib.embedded import start_redis
from lib.redis import RETRIES, url_with_db
from lib.redis_hot import HotRedis, pack, parse
from lib.redis_hot import _Incomplete as Incomplete
from tests.conftest import redis_url
from tests.support.servers import RedisServer

SCRIPT = "return {KEYS[1], ARGV[1], tonumber(ARGV[2]) * 2, redis.call('GET', KEYS[1])}"
DB = 9


def client_for(url: str, *, timeout: float = 5) -> Redis:
    """A client configured as lib/redis.open_redis configures the service's."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=3,
        retry=Retry(ExponentialWithJitterBackoff(cap=0.5, base=0.05), RETRIES),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


@pytest.fixture
async def client() -> AsyncIterator[Redis]:
    made = client_for(url_with_db(redis_url(), DB))
    await made.flushdb()
    yield made
    await made.flushdb()
    await made.aclose()


@pytest.fixture
def throwaway_redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


async def test_answers_are_redis_pys_in_the_clients_own_index(client: Redis) -> None:
    hot = HotRedis(client)
    await client.set("session:a", '{"user_id": 7, "name": "Zoë <&>"}')
    sha = await client.script_load(SCRIPT)
    try:
        assert await hot.get("session:a") == await client.get("session:a")
        assert await hot.get("session:missing") is None
        # Keys, numbers as redis-py writes them, a nested reply and nil inside it.
        assert await hot.evalsha(sha, 1, "session:a", 1.5, 21) == await client.evalsha(
            sha, 1, "session:a", 1.5, 21
        )
        assert await hot.eval(SCRIPT, 1, "nothing", "x", 2) == ["nothing", "x", 4, None]
        # Redis's refusals are redis-py's errors.
        with pytest.raises(NoScriptError):
            await hot.evalsha("0" * 40, 0)
        with pytest.raises(ResponseError, match=r"compil"):
            await hot.eval("return nonsense(", 0)
        # The connection still serves after a refusal.
        assert await hot.get("session:a") is not None
    finally:
        await hot.aclose()
    # Another index of the same server does not see the key.
    other = client_for(url_with_db(redis_url(), DB + 1))
    other_hot = HotRedis(other)
    try:
        assert await other_hot.get("session:a") is None
    finally:
        await other_hot.aclose()
        await other.aclose()


async def test_many_commands_in_flight_each_get_their_own_answer(client: Redis) -> None:
    hot = HotRedis(client)
    values = {f"key:{n}": f"value {n} " + "x" * (n * 37 % 5000) for n in range(300)}
    await client.mset(values)
    try:
        keys = [*values, "key:absent"] * 3
        answers = await asyncio.gather(*(hot.get(key) for key in keys))
        assert answers == [values.get(key) for key in keys]
    finally:
        await hot.aclose()


def test_replies_split_anywhere_are_read_whole() -> None:
    reply = b"*3\r\n$6\r\nh\xc3\xa9llo\r\n:-12\r\n*2\r\n$-1\r\n+OK\r\n"
    for cut in range(1, len(reply)):
        with pytest.raises(Incomplete):
            parse(reply[:cut], 0)
    assert parse(reply, 0) == (["héllo", -12, [None, "OK"]], len(reply))
    assert pack(("EVALSHA", "ab", 1, "k", 0.25)) == (
        b"*5\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$1\r\nk\r\n$4\r\n0.25\r\n"
    )


async def test_a_restart_costs_errors_only_while_redis_is_down(
    throwaway_redis: RedisServer,
) -> None:
    client = client_for(throwaway_redis.url_for(3))
    hot = HotRedis(client)
    try:
        await client.set("k", "before")
        assert await hot.get("k") == "before"

        await throwaway_redis.astop()
        started = time.monotonic()
        with pytest.raises(RedisConnectionError):
            await hot.get("k")
        # Its retries (about a second of backoff) ran out, no more.
        assert time.monotonic() - started < 3

        await throwaway_redis.astart()
        # The first command after Redis is back is answered, on a fresh connection.
        await client.set("k", "after")
        assert await hot.get("k") == "after"
    finally:
        await hot.aclose()
        await client.aclose()


async def test_a_restart_between_commands_is_not_seen(throwaway_redis: RedisServer) -> None:
    client = client_for(throwaway_redis.url_for(0))
    hot = HotRedis(client)
    try:
        assert await hot.get("k") is None
        # The connection it held is cut; the next command is sent again on a new one.
        await asyncio.to_thread(throwaway_redis.restart, 0.0, kill=True)
        assert await hot.get("k") is None
    finally:
        await hot.aclose()
        await client.aclose()


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A server that takes connections and reads, and never answers."""
    connections: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in connections:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_silent_redis_is_a_timeout_for_every_command_waiting(silent_server: int) -> None:
    client = client_for(f"redis://127.0.0.1:{silent_server}/0", timeout=0.2)
    hot = HotRedis(client)
    try:
        started = time.monotonic()
        answers = await asyncio.gather(
            *(hot.get(f"k{n}") for n in range(5)), return_exceptions=True
        )
        assert answers and all(isinstance(answer, RedisTimeoutError) for answer in answers)
        # Each attempt waited its timeout; with the retries' backoff, a few seconds at most.
        assert time.monotonic() - started < 5
    finally:
        await hot.aclose()
        await client.aclose()


@pytest.mark.slow
async def test_the_embedded_redis_is_reached_on_its_unix_socket(tmp_path: Path) -> None:
    server, url = start_redis(tmp_path)
    client = client_for(url_with_db(url, 2))
    hot = HotRedis(client)
    try:
        await client.set("where", "index 2")
        assert await hot.get("where") == "index 2"
    finally:
        await hot.aclose()
        await client.aclose()
        server.shutdown(save=False)


def test_it_runs_on_the_workers_loop() -> None:
    # Hypercorn's workers run on uvloop (hypercorn_config.py), whose transports are its own.
    async def exchange() -> tuple[str | None, object]:
        client = client_for(url_with_db(redis_url(), DB))
        hot = HotRedis(client)
        try:
            await client.set("on-uvloop", "yes")
            return await hot.get("on-uvloop"), await hot.eval(SCRIPT, 1, "on-uvloop", "a", 3)
        finally:
            await client.delete("on-uvloop")
            await hot.aclose()
            await client.aclose()

    assert uvloop.run(exchange()) == ("yes", ["on-uvloop", "a", 6, "yes"])


def test_a_client_serves_one_loop_after_another() -> None:
    # A command-line run or a test runs its own loop, and closes the connection it opened.
    hot = HotRedis(client_for(url_with_db(redis_url(), DB)))

    async def read(value: str) -> str | None:
        writer = client_for(url_with_db(redis_url(), DB))
        try:
            await writer.set("loops", value)
            return await hot.get("loops")
        finally:
            await hot.aclose()
            await writer.aclose()

    assert asyncio.run(read("first")) == "first"
    assert uvloop.run(read("second")) == "second"
    assert asyncio.run(read("third")) == "third"
