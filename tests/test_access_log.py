"""Hypercorn's access log as production writes it (hypercorn_config.py): a client cannot forge a
line of it, or end one of its quoted fields, with what it puts in the path."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TEST_AUTH_DB, TEST_CART_DB, redis_url
from tests.support.servers import PRODUCTION_SETTINGS, ServiceProcess, service_environment

HOSTILE_PATHS = {
    "/orders/x%0AFORGED-LINE": "/orders/x\\nFORGED-LINE",
    "/orders/x%0D%0AFORGED-CR": "/orders/x\\r\\nFORGED-CR",
    "/orders/x%22%20200%20-%20%22forged": '/orders/x\\" 200 - \\"forged',
    "/orders/x%1B%5B31mRED": "/orders/x\\x1b[31mRED",
    "/orders/x%E2%80%AEdesrever": "/orders/x\\u202edesrever",
}


@pytest.mark.slow
async def test_the_access_log_escapes_what_the_client_sent(
    database_url: str, clean_state: None
) -> None:
    env = service_environment(
        database_url,
        redis_url(),
        REDIS_AUTH_DB=str(TEST_AUTH_DB),
        REDIS_CART_DB=str(TEST_CART_DB),
        BACKGROUND_JOBS_ENABLED="false",
        LOG_FORMAT="json",
    )
    with ServiceProcess(env, workers=1, args=PRODUCTION_SETTINGS) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:
            for path in HOSTILE_PATHS:
                assert (await http.get(path)).status_code == 404
        # Read once the server has stopped: an access line is written after its answer is
        # sent, so the last one may not be in the file yet while the server runs.
        assert await service.astop() == 0
        log = service.log_text()

    lines = log.splitlines()
    assert not [line for line in lines if line.startswith(("FORGED", "desrever", " 200 - "))]
    assert "\x1b" not in log and "\u202e" not in log
    for written in HOSTILE_PATHS.values():
        access = [line for line in lines if f'"GET {written} 1.1" 404' in line]
        assert len(access) == 1, f"no access line for {written!r} in:\n{log[-3000:]}"
