"""/metrics on the service as production runs it, several Hypercorn workers: whichever worker
answers the scrape, it counts the requests every worker served (prometheus-client's
multiprocess mode, over the folder the throwaway service sets up as entrypoint.sh does)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.conftest import TEST_AUTH_DB, TEST_CART_DB, redis_url
from tests.support.metrics import sample
from tests.support.servers import ServiceProcess, service_environment

WORKERS = 2
TOKEN = "metrics-across-workers-internal-token"
ROUTE = "/internal/cart/summary"
BURST = 20
MOST_REQUESTS = 400
REQUESTS = "http_request_duration_seconds_count"
COUNTED_WITHIN_SECONDS = 5.0


def served_by(metrics_dir: Path, pid: int) -> float:
    """The summary requests one worker counted, read from that worker's own file."""
    path = metrics_dir / f"histogram_{pid}.db"
    if not path.exists():
        return 0
    for family in MultiProcessCollector.merge([str(path)]):  # type: ignore[no-untyped-call]
        for found in family.samples:
            if found.name == REQUESTS and found.labels.get("route") == ROUTE:
                return float(found.value)
    return 0


async def burst(http: httpx.AsyncClient) -> None:
    """BURST summary requests at once, each on a connection of its own, so that the workers
    (which take turns accepting connections) share them."""
    answers = await asyncio.gather(
        *(
            http.get(ROUTE, params={"user_id": "1"}, headers={"Connection": "close"})
            for _ in range(BURST)
        )
    )
    assert [a.status_code for a in answers] == [200] * BURST


async def counted_by_each(metrics_dir: Path, workers: list[int], sent: int) -> list[float]:
    """What each worker counted, once they count `sent` between them or after a few seconds.

    A worker counts a request when it has answered it, which may be a moment after the client
    read the answer: on a busy machine the last of a burst is not always counted yet.
    """
    deadline = asyncio.get_running_loop().time() + COUNTED_WITHIN_SECONDS
    while True:
        per_worker = [served_by(metrics_dir, pid) for pid in workers]
        if sum(per_worker) >= sent or asyncio.get_running_loop().time() > deadline:
            return per_worker
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_a_scrape_counts_the_requests_of_every_worker(
    database_url: str, clean_state: None
) -> None:
    env = service_environment(
        database_url,
        redis_url(),
        REDIS_AUTH_DB=str(TEST_AUTH_DB),
        REDIS_CART_DB=str(TEST_CART_DB),
        INTERNAL_API_TOKEN=TOKEN,
        BACKGROUND_JOBS_ENABLED="false",
    )
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with ServiceProcess(env, workers=WORKERS) as service:
        workers = service.worker_pids()
        assert len(workers) == WORKERS
        sent = 0
        async with httpx.AsyncClient(
            base_url=service.url,
            headers=bearer,
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as http:
            # Until each worker has served some (the kernel decides who accepts a connection).
            while sent < MOST_REQUESTS and not all(
                served_by(service.metrics_dir, pid) for pid in workers
            ):
                await burst(http)
                sent += BURST
            per_worker = await counted_by_each(service.metrics_dir, workers, sent)
            scrapes = [(await http.get("/metrics")).text for _ in range(4)]

    assert all(count > 0 for count in per_worker), per_worker
    assert sum(per_worker) == sent
    # Every scrape, whichever worker answered it, counts all of them.
    for scrape in scrapes:
        assert sample(scrape, REQUESTS, route=ROUTE, method="GET", status="200") == sent
