"""Background jobs: passes on a schedule, a failed pass survived, a clean stop, a stuck job cut."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lib.jobs import BackgroundJobs, run_every


async def test_a_failing_pass_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    calls: list[int] = []

    async def one_pass() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database down")
        if len(calls) == 3:
            stop.set()

    with caplog.at_level(logging.ERROR, logger="lib.jobs"):
        await asyncio.wait_for(run_every(0.01, one_pass, stop=stop, name="probe"), 5)

    assert calls == [0, 1, 2]
    assert "probe pass failed" in caplog.text


async def test_stopping_lets_the_pass_in_hand_finish_and_waits_no_longer() -> None:
    jobs = BackgroundJobs()
    finished: list[str] = []

    async def one_pass() -> None:
        await asyncio.sleep(0.2)
        finished.append("pass")

    jobs.start("slow", run_every(3600, one_pass, stop=jobs.stop, name="slow"))
    await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()
    await jobs.stop_all(grace_seconds=5)

    assert finished == ["pass"]
    assert asyncio.get_running_loop().time() - started < 1
    assert jobs.running == []


async def test_a_job_that_ignores_the_stop_is_cancelled_after_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = BackgroundJobs()
    cancelled = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    jobs.start("stubborn", stubborn())
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="lib.jobs"):
        await jobs.stop_all(grace_seconds=0.1)

    assert cancelled.is_set()
    assert "stubborn did not stop" in caplog.text
    assert jobs.running == []
