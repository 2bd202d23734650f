"""The webhook dispatcher: tells a checkout's `return_url` that its status changed."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import aiohttp

from sumup_standin.faults import Faults

EVENT_TYPE = "CHECKOUT_STATUS_CHANGED"
# SumUp retries after 1 min, 5 min, 20 min and 2 h (reference §5a); tests scale these down.
RETRY_DELAYS_SECONDS = (60.0, 300.0, 1200.0, 7200.0)
# SumUp does not document its timeout; a slow answer counts as a failure.
WEBHOOK_TIMEOUT_SECONDS = 10.0
USER_AGENT = "sumup-standin-webhooks"

logger = logging.getLogger(__name__)


class WebhookDispatcher:
    """Delivers status-change webhooks in background tasks and logs every attempt."""

    def __init__(self, *, faults: Faults, delay_scale: float = 1.0) -> None:
        self.delay_scale = delay_scale
        self.deliveries: list[dict[str, Any]] = []
        self._faults = faults
        self._client: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_seq = 1

    def notify(self, *, checkout_id: str, url: str | None, status: str) -> None:
        """Start delivering one status change (with faults applied); returns at once."""
        if not url:
            return
        event_at = time.monotonic()
        if self._faults.take("drop_webhook"):
            self._record(
                checkout_id,
                status,
                url,
                copy=1,
                attempt=0,
                event_at=event_at,
                status_code=None,
                error="dropped by the drop_webhook switch",
            )
            return
        delay = float(self._faults.take("delay_webhook_seconds") or 0.0)
        copies = 2 if self._faults.take("duplicate_webhook") else 1
        for copy in range(1, copies + 1):
            self._spawn(self._deliver(checkout_id, status, url, copy, delay, event_at))

    async def reset(self) -> None:
        """Stop every delivery under way and forget the log."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.deliveries.clear()
        self._next_seq = 1

    async def close(self) -> None:
        """Stop deliveries and close the HTTP client (at shutdown)."""
        await self.reset()
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a delivery in the background, keeping a reference so it is not collected."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, checkout_id: str, status: str, url: str, copy: int, delay: float, event_at: float
    ) -> None:
        """Deliver one webhook, retrying on SumUp's schedule until a 2xx or the last retry."""
        if delay:
            await asyncio.sleep(delay)
        waits = (0.0, *RETRY_DELAYS_SECONDS)
        for attempt, wait in enumerate(waits, start=1):
            if wait:
                await asyncio.sleep(wait * self.delay_scale)
            if await self._attempt(checkout_id, status, url, copy, attempt, event_at):
                return
        logger.warning(
            "webhook for %s to %s given up after %d attempts", checkout_id, url, len(waits)
        )

    async def _attempt(
        self, checkout_id: str, status: str, url: str, copy: int, attempt: int, event_at: float
    ) -> bool:
        """POST the event once; True when the receiver answered 2xx."""
        body = json.dumps({"event_type": EVENT_TYPE, "id": checkout_id}, separators=(",", ":"))
        status_code: int | None = None
        error: str | None = None
        try:
            async with self._http().post(
                url,
                data=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_SECONDS),
                allow_redirects=False,
            ) as response:
                await response.read()
                status_code = response.status
        except TimeoutError:
            error = "timeout"
        except Exception as exc:  # a test double must survive any receiver or URL
            error = f"{type(exc).__name__}: {exc}"
        self._record(
            checkout_id,
            status,
            url,
            copy=copy,
            attempt=attempt,
            event_at=event_at,
            status_code=status_code,
            error=error,
        )
        return status_code is not None and 200 <= status_code < 300

    def _http(self) -> aiohttp.ClientSession:
        """The dispatcher's session, opened on first use in the serving loop.

        aiohttp, as the service's SumUp client: the stand-in shares the machine's cores with
        the service in the benchmarks, and a request through it costs a seventh of httpx's CPU.
        """
        if self._client is None:
            self._client = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self._client

    def _record(
        self,
        checkout_id: str,
        status: str,
        url: str,
        *,
        copy: int,
        attempt: int,
        event_at: float,
        status_code: int | None,
        error: str | None,
    ) -> None:
        """Log one delivery attempt (attempt 0 is a dropped delivery)."""
        ok = status_code is not None and 200 <= status_code < 300
        self.deliveries.append(
            {
                "seq": self._next_seq,
                "checkout_id": checkout_id,
                "checkout_status": status,
                "url": url,
                "copy": copy,
                "attempt": attempt,
                "at": datetime.now(UTC).isoformat(),
                "seconds_after_event": round(time.monotonic() - event_at, 4),
                "status_code": status_code,
                "error": error,
                "ok": ok,
                "dropped": attempt == 0,
            }
        )
        self._next_seq += 1
        logger.info(
            "webhook %s (%s) to %s attempt %d -> %s",
            checkout_id,
            status,
            url,
            attempt,
            status_code if status_code is not None else error,
        )
