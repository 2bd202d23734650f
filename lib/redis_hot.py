"""The Redis commands every browser request makes, on one pipelined connection of their own.

A page, an add or a quantity change reads the shopper's session (GET, in the shared sign-in
index) and counts the request against its limits (EVALSHA, in the cart's index). Through
redis-py each command costs a worker about 105 µs of CPU (its client, pool, retry and
connection layers, a timeout object per read and per write); here it costs 40 to 65
(benchmarks/RESULTS.md, step 46). So these commands, and only these, go through `HotRedis`:
every request's command is written at once on one connection per index, and the replies,
which Redis sends in the order of the commands, are handed back in that order.

It keeps what redis-py's client is configured with (lib/redis.open_redis): the server, the
index, the credentials, the connect and read timeouts, and the client's own `Retry` (a
command that meets a broken connection is sent again on a fresh one, after the same
backoff). Its errors are redis-py's: `ConnectionError` and `TimeoutError` for a server that
is down or silent, `NoScriptError` and `ResponseError` for Redis's refusals. A read that
times out leaves the connection out of step, so the connection is dropped and every command
waiting on it fails too. A client whose pool connects otherwise than by plain TCP or a unix
socket (TLS, say) is used as it is.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import (
    BusyLoadingError,
    NoScriptError,
    ReadOnlyError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CRLF = b"\r\n"
# Redis's error replies that redis-py raises as errors of their own (redis._parsers.base).
ERROR_PREFIXES: tuple[tuple[str, type[RedisError]], ...] = (
    ("NOSCRIPT", NoScriptError),
    ("LOADING", BusyLoadingError),
    ("READONLY", ReadOnlyError),
)


class _Incomplete(Exception):
    """The buffer ends before the reply does."""


def pack(args: tuple[str | int | float, ...]) -> bytes:
    """A command in RESP: each argument as redis-py's encoder writes it (a float by repr)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else repr(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def error_of(message: str) -> RedisError:
    """Redis's error reply as the error redis-py raises for it."""
    for prefix, error in ERROR_PREFIXES:
        if message.startswith(prefix + " "):
            return error(message[len(prefix) + 1 :])
    return ResponseError(message[4:] if message.startswith("ERR ") else message)


def parse(buffer: bytearray | bytes, start: int) -> tuple[Any, int]:
    """One RESP2 reply from `start`: its value (text decoded; an error reply as its error,
    not raised) and where the next begins. _Incomplete when the buffer ends first."""
    end = buffer.find(CRLF, start)
    if end < 0:
        raise _Incomplete
    kind, line = buffer[start], bytes(buffer[start + 1 : end])
    after = end + 2
    if kind == 0x24:  # $ bulk string
        size = int(line)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            raise _Incomplete
        return bytes(buffer[after : after + size]).decode(), after + size + 2
    if kind == 0x2B:  # + simple string
        return line.decode(), after
    if kind == 0x3A:  # : integer
        return int(line), after
    if kind == 0x2D:  # - error
        return error_of(line.decode()), after
    if kind == 0x2A:  # * array
        count = int(line)
        if count < 0:
            return None, after
        items = []
        for _ in range(count):
            item, after = parse(buffer, after)
            items.append(item)
        return items, after
    raise RedisConnectionError(f"Protocol error: unexpected reply type {chr(kind)!r}")


class _Protocol(asyncio.Protocol):
    """One connection: the commands waiting for their replies, in the order they were sent."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.buffer = bytearray()
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport's subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        try:
            while self.waiting and start < len(buffer):
                try:
                    value, start = parse(buffer, start)
                except _Incomplete:
                    break
                waiter = self.waiting.popleft()
                if not waiter.done():
                    if isinstance(value, RedisError):
                        waiter.set_exception(value)
                    else:
                        waiter.set_result(value)
        except (ValueError, RedisError) as error:
            self.drop(RedisConnectionError(f"Protocol error: {error}"))
            return
        del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisConnectionError("Connection closed by server."))

    def fail(self, error: Exception) -> None:
        """End the connection's use: every command waiting fails with `error`."""
        self.lost = self.lost or error
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                # An error of its own for each command (each is raised in its own request).
                waiter.set_exception(type(error)(*error.args))

    def expire(self, waiter: asyncio.Future[Any]) -> None:
        """A command's read timed out: the connection is out of step with its replies, so it
        is closed, and every command waiting on it fails with the timeout."""
        if not waiter.done():
            self.drop(RedisTimeoutError("Timeout reading from socket"))

    def drop(self, error: Exception) -> None:
        """Close the connection (its replies can no longer be matched to commands)."""
        self.fail(error)
        if self.transport is not None:
            self.transport.abort()


class HotRedis:
    """GET, EVALSHA and EVAL for `client`, pipelined on one connection of their own."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        pool = client.connection_pool
        options = pool.connection_kwargs
        self._plain = pool.connection_class in (Connection, UnixDomainSocketConnection)
        self._path: str | None = options.get("path") if self._plain else None
        self._host = str(options.get("host", "localhost"))
        self._port = int(options.get("port", 6379))
        self._timeout: float | None = options.get("socket_timeout")
        self._connect_timeout: float | None = options.get("socket_connect_timeout")
        self._retry = client.get_retry()
        self._hello: list[tuple[str | int | float, ...]] = []
        password, username = options.get("password"), options.get("username")
        if password is not None:
            self._hello.append(("AUTH", username, password) if username else ("AUTH", password))
        if int(options.get("db", 0)):
            self._hello.append(("SELECT", int(options["db"])))
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None

    async def get(self, key: str) -> str | None:
        if not self._plain:
            found = await self.client.get(key)
            return found.decode() if isinstance(found, bytes) else found
        answer: str | None = await self._command(("GET", key))
        return answer

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: str | float) -> Any:
        if not self._plain:
            return await self.client.evalsha(sha, numkeys, *keys_and_args)
        return await self._command(("EVALSHA", sha, numkeys, *keys_and_args))

    async def eval(self, script: str, numkeys: int, *keys_and_args: str | float) -> Any:
        if not self._plain:
            return await self.client.eval(script, numkeys, *keys_and_args)
        return await self._command(("EVAL", script, numkeys, *keys_and_args))

    async def aclose(self) -> None:
        """Close the connection (a later command opens another)."""
        if self._protocol is not None:
            self._protocol.drop(RedisConnectionError("Connection closed."))
            self._protocol = None

    async def _command(self, args: tuple[str | int | float, ...]) -> Any:
        packed = pack(args)
        if self._retry is None:
            return await self._send(packed)
        return await self._retry.call_with_retry(lambda: self._send(packed), self._forget)

    async def _forget(self, _error: Exception) -> None:
        """After a command failed with its connection (lost, or dropped when its read timed
        out): the next attempt opens a fresh one. A connection another command has opened
        since is left alone."""
        if self._protocol is not None and self._protocol.lost is not None:
            self._protocol = None

    async def _send(self, packed: bytes) -> Any:
        loop = asyncio.get_running_loop()
        protocol = self._protocol
        if protocol is None or protocol.lost is not None or protocol.loop is not loop:
            protocol = await self._connected()
        waiter: asyncio.Future[Any] = loop.create_future()
        protocol.waiting.append(waiter)
        assert protocol.transport is not None
        protocol.transport.write(packed)
        if self._timeout is None:
            return await waiter
        # A timer, not asyncio.timeout(): that costs a command more than its round trip. A
        # command given up (its request cancelled) leaves its waiter in the queue, done: its
        # reply, when it comes, is read and dropped, and the order holds.
        timer = loop.call_later(self._timeout, protocol.expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    async def _connected(self) -> _Protocol:
        """A live connection: the one being opened, or a new one (opened once, however many
        commands wait for it; a command cancelled meanwhile does not cancel the opening)."""
        connecting = self._connecting
        if (
            connecting is None
            or connecting.get_loop() is not asyncio.get_running_loop()
            or (connecting.done() and not _opened(connecting))
        ):
            connecting = self._connecting = asyncio.ensure_future(self._open())
        return await asyncio.shield(connecting)

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        protocol: _Protocol | None = None
        waiters: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self._connect_timeout):
                if self._path is not None:
                    _, protocol = await loop.create_unix_connection(_Protocol, self._path)
                else:
                    _, protocol = await loop.create_connection(_Protocol, self._host, self._port)
                # The credentials and the index, before any command.
                for command in self._hello:
                    waiter: asyncio.Future[Any] = loop.create_future()
                    protocol.waiting.append(waiter)
                    waiters.append(waiter)
                    assert protocol.transport is not None
                    protocol.transport.write(pack(command))
                for waiter in waiters:
                    await waiter
        except BaseException as error:
            if protocol is not None:
                protocol.drop(RedisConnectionError("Connection not opened."))
            for waiter in waiters:  # the answers nobody will read now
                if waiter.done() and not waiter.cancelled():
                    waiter.exception()
            if isinstance(error, TimeoutError):
                raise RedisTimeoutError("Timeout connecting to server") from None
            if isinstance(error, OSError):
                raise RedisConnectionError(f"Error connecting to Redis: {error}") from error
            raise
        self._protocol = protocol
        return protocol


def _opened(connecting: asyncio.Future[_Protocol]) -> bool:
    """Whether a finished opening gave a connection that is still live (and of this loop: a
    client outlives the loop of a command-line run or of a test)."""
    if connecting.cancelled() or connecting.exception() is not None:
        return False
    protocol = connecting.result()
    return protocol.lost is None and protocol.loop is asyncio.get_running_loop()
