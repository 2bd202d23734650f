"""The worker's SIGTERM handler is only for a worker of Hypercorn's master (tests/faults has
the service end to end)."""

from __future__ import annotations

from lib.graceful_stop import stop_gracefully_on_sigterm


async def test_outside_a_worker_process_signals_are_left_to_the_server() -> None:
    assert stop_gracefully_on_sigterm(lambda: None) is False
