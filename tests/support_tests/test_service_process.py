"""The service under Hypercorn with two workers, on a migrated throwaway PostgreSQL and Redis."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import (
    PostgresServer,
    RedisServer,
    ServerError,
    ServiceProcess,
    service_environment,
)

WORKERS = 2


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@pytest.mark.slow
def test_two_workers_serve_health_and_readiness_and_stop_cleanly_on_sigterm(
    migrated_postgres: PostgresServer, throwaway_redis: RedisServer
) -> None:
    env = service_environment(migrated_postgres.url, throwaway_redis.url)
    with ServiceProcess(env, workers=WORKERS) as service:
        workers = service.worker_pids()
        assert len(workers) == WORKERS
        assert service.pid not in workers
        assert httpx.get(f"{service.url}/healthz", timeout=10).status_code == 200
        ready = httpx.get(f"{service.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text

        assert service.stop() == 0

        assert not service.running
        assert not any(alive(pid) for pid in workers)
        assert "Traceback" not in service.log_text()


@pytest.mark.slow
def test_a_worker_that_dies_takes_the_whole_service_down(
    migrated_postgres: PostgresServer, throwaway_redis: RedisServer
) -> None:
    """What a fault test meets: Hypercorn stops every worker when one dies, it restarts none."""
    env = service_environment(migrated_postgres.url, throwaway_redis.url)
    with ServiceProcess(env, workers=WORKERS) as service:
        first, second = service.worker_pids()
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while service.running and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not service.running
        assert not alive(second)


def test_a_service_that_cannot_start_says_why_with_its_log(
    throwaway_postgres: PostgresServer, throwaway_redis: RedisServer
) -> None:
    env = service_environment(throwaway_postgres.url, throwaway_redis.url)
    with pytest.raises(ServerError) as failure:  # noqa: SIM117  (the inner `with` must raise)
        with ServiceProcess(env, app="no_such_module:app", workers=1):
            pass
    assert "exited" in str(failure.value)
    assert "no_such_module" in str(failure.value)
