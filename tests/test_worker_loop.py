"""Production's workers (hypercorn_config.py) run on uvloop, the locked dependency."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_AUTH_DB, TEST_CART_DB, redis_url
from tests.support.servers import PRODUCTION_SETTINGS, ServiceProcess, service_environment


@pytest.mark.slow
async def test_the_production_workers_serve_on_uvloop(database_url: str, clean_state: None) -> None:
    env = service_environment(
        database_url,
        redis_url(),
        REDIS_AUTH_DB=str(TEST_AUTH_DB),
        REDIS_CART_DB=str(TEST_CART_DB),
        BACKGROUND_JOBS_ENABLED="false",
    )
    with ServiceProcess(env, workers=2, args=PRODUCTION_SETTINGS) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200
        workers = service.worker_pids()
        assert len(workers) == 2
        # The loop's extension is mapped into every worker that serves.
        for pid in workers:
            assert "uvloop/loop." in mapped_files(pid), f"worker {pid} runs without uvloop"


def mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()
