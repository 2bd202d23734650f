"""Worker processes that race: spawned, each with its own engine, held at a start line.

`racing_processes(target, args)` spawns one process per tuple of `args`, running
`target(*args, ready, start, results)`: the target readies itself (connections, caches),
waits at `ready` and then at `start`, does its part and puts what it found on `results`.
The test waits for them all to be ready, may set the scene, lets them go at once, and reads
one result from each; whatever happens, every process is joined (or killed) at the end.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

START_TIMEOUT_SECONDS = 60
RESULT_TIMEOUT_SECONDS = 60
JOIN_TIMEOUT_SECONDS = 30


@dataclass
class Race:
    """The start line of spawned processes, and what they report."""

    ready_line: Any
    start_line: Any
    queue: Any
    workers: list[Any]

    async def ready(self) -> None:
        """Until every process waits at the start line."""
        await asyncio.to_thread(self.ready_line.wait, START_TIMEOUT_SECONDS)

    async def go(self) -> None:
        """Let them all go at once."""
        await asyncio.to_thread(self.start_line.wait, START_TIMEOUT_SECONDS)

    async def results(self) -> list[Any]:
        """One result from each process, in the order they came."""
        return [
            await asyncio.to_thread(self.queue.get, True, RESULT_TIMEOUT_SECONDS)
            for _ in self.workers
        ]

    def exit_codes(self) -> list[int | None]:
        return [worker.exitcode for worker in self.workers]


@asynccontextmanager
async def racing_processes(
    target: Callable[..., None], args: list[tuple[Any, ...]]
) -> AsyncIterator[Race]:
    """One spawned process per tuple of `args` at a shared start line (see the module)."""
    context = multiprocessing.get_context("spawn")
    ready, start = context.Barrier(len(args) + 1), context.Barrier(len(args) + 1)
    results = context.Queue()
    workers = [
        context.Process(target=target, args=(*arguments, ready, start, results))
        for arguments in args
    ]
    for worker in workers:
        worker.start()
    try:
        yield Race(ready, start, results, workers)
    finally:
        for worker in workers:
            await asyncio.to_thread(worker.join, JOIN_TIMEOUT_SECONDS)
            if worker.is_alive():
                worker.kill()
