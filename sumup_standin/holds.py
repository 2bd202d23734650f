"""Calls held open at the stand-in until a test releases them, to order two requests exactly.

`hold_create` stops a checkout create before the checkout exists; `hold_list` stops a listing
after its answer was read, so that what happens meanwhile is not in it. A test waits until the
call is held (`GET /_standin/holds`), does what must come in between, then releases it.
"""

from __future__ import annotations

import asyncio

# Where each hold switch stops its call.
CREATE = "create"
LIST = "list"


class Holds:
    """The calls held right now, by where they are held."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Event]] = {}

    async def wait(self, name: str) -> None:
        """Hold the calling request here until `release(name)` (or `release_all`)."""
        event = asyncio.Event()
        self._waiting.setdefault(name, []).append(event)
        try:
            await event.wait()
        finally:
            waiting = self._waiting.get(name, [])
            if event in waiting:
                waiting.remove(event)

    def waiting(self) -> dict[str, int]:
        """How many calls are held, by name (names with none left out)."""
        return {name: len(events) for name, events in sorted(self._waiting.items()) if events}

    def release(self, name: str) -> int:
        """Let every call held at `name` go on; answers how many there were."""
        events = self._waiting.pop(name, [])
        for event in events:
            event.set()
        return len(events)

    def release_all(self) -> None:
        """Let every held call go on (a reset never leaves a request hanging)."""
        for name in list(self._waiting):
            self.release(name)
