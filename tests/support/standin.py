"""The SumUp stand-in for tests: a real `python -m sumup_standin` process, and its control API.

Register with `pytest_plugins = ["tests.support.standin"]` (or `-p tests.support.standin`).
Fixtures: `sumup_standin_server` (one process per run), `sumup_standin` (its base URL, reset
before each test) and `sumup_standin_control` (a StandinControl for it).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
import pytest

HOST = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 20.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.05
PORT_ATTEMPTS = 3  # a free port can be taken between our probe and the server's bind
DEFAULT_TEST_DELAY_SCALE = 0.01  # webhook retries after 0.6, 3, 12 and 72 s


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class StandinProcess:
    """A stand-in running in a subprocess; a context manager that starts and stops it."""

    def __init__(self, *, port: int | None, webhook_delay_scale: float) -> None:
        self._wanted_port = port
        self.webhook_delay_scale = webhook_delay_scale
        self.port = 0
        self._log: IO[bytes] | None = None
        self._resources = ExitStack()

    @property
    def base_url(self) -> str:
        """Where the stand-in answers, e.g. http://127.0.0.1:54321."""
        if not self.port:
            raise RuntimeError("the stand-in is not running")
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> StandinProcess:
        attempts = 1 if self._wanted_port else PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                self._start(self._wanted_port or free_port())
                return self
            except RuntimeError:
                self.stop()
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def read_log(self) -> str:
        """What the stand-in printed so far (its request and webhook log)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        """Terminate the process and close its log."""
        self._resources.close()
        self._log = None
        self.port = 0

    def _start(self, port: int) -> None:
        """Launch the process on `port` and wait until it answers."""
        # The log outlives this method; `_resources` closes it when the process stops.
        log = tempfile.TemporaryFile(prefix="sumup-standin-")  # noqa: SIM115
        self._log = self._resources.enter_context(log)
        command = [
            sys.executable,
            "-m",
            "sumup_standin",
            "--host",
            HOST,
            "--port",
            str(port),
            "--webhook-delay-scale",
            str(self.webhook_delay_scale),
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._resources.callback(_terminate, process)
        self.port = port
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"the stand-in exited at start:\n{self.read_log()}")
                try:
                    if client.get(f"{self.base_url}/_standin/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(POLL_SECONDS)
        raise RuntimeError(f"the stand-in did not answer in time:\n{self.read_log()}")


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the stand-in shuts down cleanly on it), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(SHUTDOWN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_standin_process(
    *, port: int | None = None, webhook_delay_scale: float = DEFAULT_TEST_DELAY_SCALE
) -> StandinProcess:
    """A stand-in subprocess on 127.0.0.1 (a free port unless given); use it with `with`."""
    return StandinProcess(port=port, webhook_delay_scale=webhook_delay_scale)


class StandinControl:
    """The stand-in's control API (/_standin/), for arranging and checking tests."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def reset(self) -> None:
        """Forget all checkouts, faults, deliveries and clock moves."""
        await self._call("POST", "/reset")

    async def pay(self, checkout_id: str) -> dict[str, Any]:
        """Pay a checkout as the shopper would; answers the checkout (stand-in view)."""
        result: dict[str, Any] = await self._call("POST", f"/checkouts/{checkout_id}/pay")
        return result

    async def fail(self, checkout_id: str) -> dict[str, Any]:
        """Fail a payment attempt."""
        result: dict[str, Any] = await self._call("POST", f"/checkouts/{checkout_id}/fail")
        return result

    async def expire(self, checkout_id: str) -> dict[str, Any]:
        """Expire a checkout (status EXPIRED, webhook)."""
        result: dict[str, Any] = await self._call("POST", f"/checkouts/{checkout_id}/expire")
        return result

    async def faults(self, **switches: Any) -> dict[str, Any]:
        """Set fault switches, e.g. `faults(drop_webhook=True, fail_get_5xx=2)`.

        The refund switches (sumup_standin.faults): `fail_refund_5xx` (answered 5xx, not
        made), `fail_refund_5xx_after_apply` (made, then answered 5xx), `slow_refund_seconds`
        (made, then answered late) and `drop_refund_answer` (made, then the connection
        breaks), `refund_after_5xx_seconds` (answered 5xx, made later); `fail_transaction_get_5xx`,
        `slow_transaction_get_seconds` and `transaction_lag` for the lookup; `hold_create` and
        `hold_list` hold a call until `release`.
        """
        result: dict[str, Any] = await self._call("POST", "/faults", json=switches)
        return result

    async def holds(self) -> dict[str, int]:
        """How many calls the hold_* switches hold right now, by where (`create`, `list`)."""
        result: dict[str, int] = await self._call("GET", "/holds")
        return result

    async def wait_for_hold(self, name: str, *, wait_seconds: float = 10.0) -> None:
        """Poll until a call is held at `name`; fail after `wait_seconds`."""
        deadline = time.monotonic() + wait_seconds
        while not (await self.holds()).get(name):
            assert time.monotonic() < deadline, f"no call was held at {name!r}"
            await asyncio.sleep(POLL_SECONDS)

    async def release(self, name: str) -> int:
        """Let the calls held at `name` go on; answers how many there were."""
        result = await self._call("POST", f"/holds/{name}/release")
        return int(result["released"])

    async def checkouts(self) -> list[dict[str, Any]]:
        """Every checkout, with the stand-in's own fields."""
        result: list[dict[str, Any]] = await self._call("GET", "/checkouts")
        return result

    async def checkout(self, checkout_id: str) -> dict[str, Any]:
        """One checkout, with the stand-in's own fields."""
        result: dict[str, Any] = await self._call("GET", f"/checkouts/{checkout_id}")
        return result

    async def transaction(self, transaction_id: str) -> dict[str, Any]:
        """One transaction as SumUp's lookup shows it, plus `standin`: its checkout_id,
        refunded_amount, refundable_amount and refunds (id, amount, timestamp, status)."""
        result: dict[str, Any] = await self._call("GET", f"/transactions/{transaction_id}")
        return result

    async def refunds(self, transaction_id: str) -> list[dict[str, Any]]:
        """The refunds made on a transaction, oldest first."""
        refunds: list[dict[str, Any]] = (await self.transaction(transaction_id))["standin"][
            "refunds"
        ]
        return refunds

    async def webhooks(self, checkout_id: str | None = None) -> list[dict[str, Any]]:
        """Webhook delivery attempts so far, oldest first."""
        params = {"checkout_id": checkout_id} if checkout_id else None
        result: list[dict[str, Any]] = await self._call("GET", "/webhooks", params=params)
        return result

    async def wait_for_webhooks(
        self,
        count: int,
        *,
        checkout_id: str | None = None,
        wait_seconds: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Poll until at least `count` delivery attempts are logged; fail after `wait_seconds`."""
        deadline = time.monotonic() + wait_seconds
        while True:
            deliveries = await self.webhooks(checkout_id)
            if len(deliveries) >= count or time.monotonic() > deadline:
                assert len(deliveries) >= count, f"{len(deliveries)} deliveries: {deliveries}"
                return deliveries
            await asyncio.sleep(POLL_SECONDS)

    async def advance_clock(self, minutes: float) -> str:
        """Move the stand-in's clock forward; answers its new time."""
        result = await self._call("POST", "/clock", json={"advance_minutes": minutes})
        return str(result["now"])

    async def disable_merchant(self, merchant_code: str) -> None:
        """Make the merchant's new checkouts answer 403 FORBIDDEN."""
        await self._call("POST", f"/merchants/{merchant_code}/disable")

    async def enable_merchant(self, merchant_code: str) -> None:
        """Undo `disable_merchant`."""
        await self._call("POST", f"/merchants/{merchant_code}/enable")

    async def set_merchant(
        self, merchant_code: str, *, name: str | None = None, country: str | None = None
    ) -> None:
        """Set the merchant name and country the API and hosted page show."""
        body = {k: v for k, v in (("name", name), ("country", country)) if v is not None}
        await self._call("POST", f"/merchants/{merchant_code}", json=body)

    async def revoke_key(self, api_key: str) -> None:
        """Make every call with this key answer 401."""
        await self._call("POST", "/keys/revoke", json={"api_key": api_key})

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        """One control call; a refusal fails the test with the stand-in's message."""
        async with httpx.AsyncClient(base_url=f"{self.base_url}/_standin", timeout=10) as http:
            response = await http.request(method, path, json=json, params=params)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture(scope="session")
def sumup_standin_server() -> Iterator[StandinProcess]:
    """One stand-in process for the whole run (webhook retries scaled by 0.01)."""
    with start_standin_process() as standin:
        yield standin


@pytest.fixture
def sumup_standin(sumup_standin_server: StandinProcess) -> str:
    """The stand-in's base URL, reset to empty for this test."""
    response = httpx.post(f"{sumup_standin_server.base_url}/_standin/reset", timeout=10)
    response.raise_for_status()
    return sumup_standin_server.base_url


@pytest.fixture
def sumup_standin_control(sumup_standin: str) -> StandinControl:
    """The control API of the (reset) stand-in."""
    return StandinControl(sumup_standin)
