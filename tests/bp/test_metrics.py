"""GET /metrics: the service's counters and histograms in Prometheus' text format, next to the
database's gauges; requests labelled by the URL rule they matched, never by their raw path."""

from __future__ import annotations

import uuid
from typing import Any

from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from models.sent_message import SentMessage
from tests.support.http import internal_headers
from tests.support.metrics import sample, samples

REQUESTS = "http_request_duration_seconds_count"


async def scrape(app: Quart) -> str:
    response = await app.test_client().get("/metrics", headers=internal_headers(app))
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return await response.get_data(as_text=True)


async def test_requests_are_counted_by_their_url_rule_never_the_raw_path(
    app: Quart, client: Any
) -> None:
    for _ in range(3):
        await client.get("/orders/48213/")
    await client.get("/healthz")
    await client.get("/a/path/that/matches/nothing-7731")
    await client.post("/healthz")

    body = await scrape(app)

    order_page = [
        (labels, count)
        for labels, count in samples(body, REQUESTS)
        if labels["route"].startswith("/orders/<int") and labels["route"].endswith(":order_id>/")
    ]
    assert len(order_page) == 1 and order_page[0][1] == 3
    assert order_page[0][0]["method"] == "GET"
    assert sample(body, REQUESTS, route="/healthz", method="GET", status="200") == 1
    assert sample(body, REQUESTS, route="unmatched", method="GET", status="404") == 1
    assert sample(body, REQUESTS, route="unmatched", method="POST", status="405") == 1
    # The durations are a histogram: buckets and a sum beside the count.
    assert (
        sample(
            body,
            "http_request_duration_seconds_bucket",
            route="/healthz",
            method="GET",
            status="200",
            le="+Inf",
        )
        == 1
    )
    assert "48213" not in body and "nothing-7731" not in body


async def test_the_database_gauges_and_the_services_metrics_share_one_scrape(app: Quart) -> None:
    body = await scrape(app)

    assert sample(body, "cart_open_orders", status="pending") == 0
    assert sample(body, "cart_outbox_dead_lettered") == 0
    for family in (
        "http_request_duration_seconds histogram",
        "cart_sumup_request_duration_seconds histogram",
        "cart_settlements_total counter",
        "cart_reconciler_passes_total counter",
        "cart_orders_expired_total counter",
        "cart_refunds_made_total counter",
        "cart_rate_limited_requests_total counter",
    ):
        assert f"# TYPE {family}\n" in body, family


async def test_rate_limited_requests_are_counted_by_route(
    app_config: dict[str, Any], clean_state: None
) -> None:
    app = create_app({**app_config, "rate_limit_enabled": True, "rate_limit_pages": "2/minute"})
    async with app.test_app():
        client = app.test_client()
        statuses = [(await client.get("/orders/")).status_code for _ in range(4)]
        body = await scrape(app)

    assert statuses.count(429) == 2
    assert sample(body, "cart_rate_limited_requests_total", route="/orders/") == 2
    assert sample(body, REQUESTS, route="/orders/", method="GET", status="429") == 2


async def test_two_apps_in_one_process_count_apart(
    app_config: dict[str, Any], clean_state: None
) -> None:
    first, second = create_app(app_config), create_app(app_config)
    async with first.test_app(), second.test_app():
        await first.test_client().get("/healthz")
        await first.test_client().get("/healthz")
        await second.test_client().get("/healthz")
        counts = [
            sample(await scrape(app), REQUESTS, route="/healthz", method="GET", status="200")
            for app in (first, second)
        ]

    assert counts == [2, 1]


async def test_a_scrape_says_the_database_is_unreachable_and_keeps_the_counters(
    app_config: dict[str, Any], clean_state: None
) -> None:
    # Port 9 on loopback refuses connections: an unreachable database. The scrape still
    # answers, so that the alert can say what is down rather than only that a scrape failed.
    app = create_app({**app_config, "database_url": "postgresql://root@127.0.0.1:9/none"})
    async with app.test_app():
        await app.test_client().get("/healthz")
        body = await scrape(app)

    assert sample(body, "cart_dependency_up", dependency="database") == 0
    assert sample(body, "cart_dependency_up", dependency="redis") == 1
    assert sample(body, REQUESTS, route="/healthz", method="GET", status="200") == 1
    # The database's gauges are unknown, not zero: an alert on them must not read "all clear".
    assert sample(body, "cart_open_orders", status="pending") is None


async def test_a_scrape_says_both_dependencies_are_up(app: Quart) -> None:
    body = await scrape(app)

    assert sample(body, "cart_dependency_up", dependency="database") == 1
    assert sample(body, "cart_dependency_up", dependency="redis") == 1


async def test_dead_mail_is_counted(app: Quart, db: AsyncSession) -> None:
    for status in ("dead", "dead", "sent", "pending"):
        db.add(SentMessage(activity_id=uuid.uuid4(), kind="order_paid", order_id=7, status=status))
    await db.commit()

    body = await scrape(app)

    assert sample(body, "cart_mail_dead") == 2


async def test_a_scrape_says_redis_is_unreachable(
    app_config: dict[str, Any], clean_state: None
) -> None:
    # Rate limits on, as in production: their counters live in the Redis that is down.
    app = create_app(
        {**app_config, "redis_url": "redis://127.0.0.1:9/0", "rate_limit_enabled": True}
    )
    async with app.test_app():
        body = await scrape(app)

    assert sample(body, "cart_dependency_up", dependency="redis") == 0
    assert sample(body, "cart_dependency_up", dependency="database") == 1
    assert sample(body, "cart_open_orders", status="pending") == 0
