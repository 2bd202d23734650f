"""Background jobs that run while the service serves, and stop cleanly when it stops.

Each job is told to stop through one shared `asyncio.Event`, which it checks between passes:
a pass in progress finishes (its transaction commits or rolls back as it would) and the job
returns. Only a job still running after the grace period is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from typing import Any

log = logging.getLogger(__name__)


async def run_every(
    seconds: float,
    one_pass: Callable[[], Awaitable[object]],
    *,
    stop: asyncio.Event,
    name: str,
) -> None:
    """Run `one_pass`, then wait `seconds` (or until `stop`), until `stop` is set.

    A pass that fails is logged and the next one runs on time: a job that died would never
    run again.
    """
    while not stop.is_set():
        try:
            await one_pass()
        except Exception:
            log.exception("%s pass failed", name)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


class BackgroundJobs:
    """Running job tasks and the event that tells them to stop."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, job: Coroutine[Any, Any, None]) -> None:
        """Run `job` (which must return once `self.stop` is set) as a task."""
        self._tasks.append(asyncio.create_task(job, name=name))

    @property
    def running(self) -> list[str]:
        """The names of the jobs still running."""
        return [task.get_name() for task in self._tasks if not task.done()]

    async def stop_all(self, *, grace_seconds: float) -> None:
        """Ask every job to stop, wait up to `grace_seconds`, then cancel what still runs."""
        self.stop.set()
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in late:
            log.warning(
                "background job %s did not stop in %ss; cancelled", task.get_name(), grace_seconds
            )
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        failed = False
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                failed = True
                log.error(
                    "background job %s ended with an error",
                    task.get_name(),
                    exc_info=task.exception(),
                )
        if not late and not failed:
            log.info(
                "background jobs stopped between passes: %s",
                ", ".join(task.get_name() for task in tasks),
            )
