"""A tiny HTTP server that stands in for our webhook route: records requests, answers a script."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any

HOST = "127.0.0.1"
MAX_HEADER_LINES = 100


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class WebhookReceiver:
    """Answers each request with the next status of `statuses`, then with `then`."""

    def __init__(self, statuses: Iterable[int] = (), *, then: int = 204) -> None:
        self.requests: list[ReceivedRequest] = []
        self._statuses = list(statuses)
        self._then = then
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._arrived = asyncio.Condition()
        self.port = 0

    @property
    def url(self) -> str:
        """The webhook URL to give a checkout as its `return_url`."""
        return f"http://{HOST}:{self.port}/webhook"

    async def __aenter__(self) -> WebhookReceiver:
        self._server = await asyncio.start_server(self._handle, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def wait_for(self, count: int, *, wait_seconds: float = 5.0) -> list[ReceivedRequest]:
        """Wait until `count` requests arrived; fail the test after `wait_seconds`."""
        try:
            async with asyncio.timeout(wait_seconds), self._arrived:
                await self._arrived.wait_for(lambda: len(self.requests) >= count)
        except TimeoutError:
            raise AssertionError(f"got {len(self.requests)} of {count} requests") from None
        return list(self.requests)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read one HTTP/1.1 request, record it, answer, close the connection."""
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            request_line = (await reader.readline()).decode("latin-1").strip()
            if not request_line:
                return
            method, path, _ = request_line.split(" ", 2)
            headers: dict[str, str] = {}
            for _ in range(MAX_HEADER_LINES):
                line = (await reader.readline()).decode("latin-1").strip()
                if not line:
                    break
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            async with self._arrived:
                self.requests.append(ReceivedRequest(method, path, headers, body))
                self._arrived.notify_all()
            status = self._statuses.pop(0) if self._statuses else self._then
            writer.write(
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._handlers.discard(task)
