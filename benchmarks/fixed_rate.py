"""An open-loop load generator: requests arrive at a fixed rate, whatever the server does.

wrk (and wrk with a Lua `delay()`) is closed-loop: a connection sends its next request only when
the last one answered, so a slow answer delays the requests behind it and their wait is never
measured (coordinated omission). Here arrivals are scheduled at `start + i / rate`; a request
waits for a free connection if all are busy, and its latency runs from its scheduled arrival to
the end of its answer, so queueing counts as it does for a shopper. Connections are plain
HTTP/1.1 keep-alive sockets on asyncio streams: cheap enough for a few thousand requests a second
on one core, without an HTTP library's overhead in the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

CONNECT_TIMEOUT_SECONDS = 5.0
ANSWER_TIMEOUT_SECONDS = 30.0
DRAIN_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class FixedRateResult:
    rate: float
    duration_s: float
    sent: int
    answered: int
    latencies_ms: list[float] = field(repr=False)
    statuses: dict[int, int]
    errors: int

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    @property
    def achieved_rps(self) -> float:
        return self.answered / self.duration_s if self.duration_s else 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0


class HttpConnection:
    """One keep-alive HTTP/1.1 connection that reads Content-Length or chunked answers."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), CONNECT_TIMEOUT_SECONDS
            )
            self._reader, self._writer = reader, writer
            return reader, writer
        return self._reader, self._writer

    async def request(self, raw: bytes) -> int:
        """Send one request; the answer's status once its whole body has arrived."""
        reader, writer = await self._connect()
        writer.write(raw)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


async def run_fixed_rate(
    host: str,
    port: int,
    build: Callable[[], bytes],
    *,
    rate: float,
    duration_s: float,
    connections: int,
) -> FixedRateResult:
    """Send `rate` requests a second for `duration_s` over at most `connections` sockets."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0

    async def worker() -> None:
        nonlocal errors
        connection = HttpConnection(host, port)
        try:
            while (item := await queue.get()) is not None:
                due, raw = item
                try:
                    status = await asyncio.wait_for(connection.request(raw), ANSWER_TIMEOUT_SECONDS)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    errors += 1
                    await connection.close()
                    continue
                latencies.append((loop.time() - due) * 1000)
                statuses[status] += 1
        finally:
            await connection.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    total = max(1, int(rate * duration_s))
    started = loop.time() + 0.05
    wall_start = time.perf_counter()
    try:
        for n in range(total):
            due = started + n / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((due, build()))
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.wait_for(asyncio.gather(*workers), DRAIN_TIMEOUT_SECONDS + duration_s)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    elapsed = time.perf_counter() - wall_start
    return FixedRateResult(
        rate=rate,
        duration_s=elapsed,
        sent=total,
        answered=len(latencies),
        latencies_ms=latencies,
        statuses=dict(statuses),
        errors=errors,
    )
