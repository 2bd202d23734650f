"""The stand-in's clock: a base time source plus an offset tests can move forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def system_now() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


class Clock:
    """Tells the time the stand-in believes it is; `advance` lets a session expire on demand."""

    def __init__(self, base: Callable[[], datetime] | None = None) -> None:
        self._base = base or system_now
        self._offset = timedelta()

    def now(self) -> datetime:
        """The current time, moved forward by every `advance` since the last reset."""
        return self._base().astimezone(UTC) + self._offset

    def advance(self, *, minutes: float) -> datetime:
        """Move time forward (never back) and answer the new now."""
        if minutes < 0:
            raise ValueError("the clock only moves forward")
        self._offset += timedelta(minutes=minutes)
        return self.now()

    def reset(self) -> None:
        """Forget every `advance`."""
        self._offset = timedelta()
