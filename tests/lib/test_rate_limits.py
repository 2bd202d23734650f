"""Rate limits per client: 429 with Retry-After and a message a person understands."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from quart import Quart
from quart_rate_limiter import RateLimit
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.runtime import runtime
from config.settings import Settings, parse_rate
from lib.rate_limits import CartIndexStore
from tests.support import factories as f
from tests.support.checkout import served
from tests.support.http import sign_in, token_from_page
from tests.support.standin import free_port
from tests.support.statements import counting

LIMITS = {
    "rate_limit_enabled": True,
    "rate_limit_pages": "5/minute",
    "rate_limit_writes": "3/minute",
    "rate_limit_checkout": "2/minute",
    "rate_limit_webhook": "3/minute",
    "rate_limit_webhook_per_order": "2/minute",
    "rate_limit_failed_tokens": "3/minute",
}
ERROR_CODE = 'data-error-code="TOO_MANY_REQUESTS"'


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **LIMITS}


async def product_id(db: AsyncSession) -> int:
    return (await f.product(db, await f.page(db))).id


def assert_polite_429(response: Any, body: str) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many requests" in body
    assert "try again" in body


async def test_shopper_posts_over_the_limit_get_a_page_saying_so(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await product_id(db)
    token = await token_from_page(client)
    answers = [await client.post(f"/add/{product}/", form={"csrf_token": token}) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [303, 303, 303]
    body = await answers[3].get_data(as_text=True)
    assert_polite_429(answers[3], body)
    assert ERROR_CODE in body and "<html" in body


async def test_htmx_posts_over_the_limit_get_the_message_fragment(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await product_id(db)
    headers = {"HX-Request": "true", "X-CSRF-Token": await token_from_page(client)}
    for _ in range(3):
        await client.post(f"/add/{product}/", headers=headers)

    refused = await client.post(f"/add/{product}/", headers=headers)

    body = await refused.get_data(as_text=True)
    assert_polite_429(refused, body)
    assert refused.headers["HX-Retarget"] == "#alerts"
    assert "<html" not in body


async def test_checkout_has_its_own_stricter_limit(app: Quart, client: Any) -> None:
    token = await token_from_page(client)
    answers = [await client.post("/checkout/", form={"csrf_token": token}) for _ in range(3)]

    assert all(a.status_code != 429 for a in answers[:2])
    assert_polite_429(answers[2], await answers[2].get_data(as_text=True))


async def test_the_webhook_over_the_limit_gets_json(app: Quart, client: Any) -> None:
    answers = [
        await client.post(f"/checkout/webhook/{order}/", json={"event_type": "OTHER"})
        for order in range(1, 5)
    ]

    assert [a.status_code for a in answers[:3]] == [204, 204, 204]
    refused = answers[3]
    body = await refused.get_json()
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert body["error"]["code"] == "TOO_MANY_REQUESTS"


async def test_pages_are_limited_too(app: Quart, client: Any) -> None:
    answers = [await client.get("/") for _ in range(6)]

    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert_polite_429(answers[5], await answers[5].get_data(as_text=True))


async def test_x_forwarded_for_is_not_trusted_by_default(app: Quart, client: Any) -> None:
    answers = [
        await client.get("/", headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(6)
    ]
    assert answers[5].status_code == 429


async def test_health_probes_are_never_limited(app: Quart, client: Any) -> None:
    for _ in range(20):
        assert (await client.get("/healthz")).status_code == 200


async def test_the_counters_live_in_the_cart_index_and_expire(app: Quart, client: Any) -> None:
    await client.get("/")

    cart_keys = await runtime(app).redis.cart.keys("*")
    assert cart_keys
    ttls = [await runtime(app).redis.cart.ttl(key) for key in cart_keys]
    assert all(0 < ttl <= 60 for ttl in ttls), ttls
    assert not [k for k in await runtime(app).redis.auth.keys("*") if "rate" in k.lower()]


@pytest.fixture
async def unlimited_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app({**app_config, "rate_limit_enabled": False})
    async with application.test_app():
        yield application


async def test_rate_limits_can_be_switched_off_for_benchmarks(unlimited_app: Quart) -> None:
    client = unlimited_app.test_client()
    for _ in range(12):
        assert (await client.get("/")).status_code == 200


@pytest.mark.parametrize("trusted", [False, True])
async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(
    app_config: dict[str, Any], clean_state: None, trusted: bool
) -> None:
    proxies = ["127.0.0.0/8"] if trusted else []
    application = create_app({**app_config, "trusted_proxies": proxies})
    port = free_port()
    async with (
        application.test_app(),
        served(application, port) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        # One client behind the proxy uses up its allowance ...
        for _ in range(5):
            await http.get("/", headers={"X-Forwarded-For": "203.0.113.7"})
        same = await http.get("/", headers={"X-Forwarded-For": "203.0.113.7"})
        # ... and another one, behind the same proxy, comes along.
        other = await http.get("/", headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.250"})
        spoofed = await http.get("/", headers={"X-Forwarded-For": "192.0.2.1"})

    assert same.status_code == 429
    if trusted:
        assert other.status_code == 200
        assert spoofed.status_code == 200
    else:
        assert other.status_code == 429
        assert spoofed.status_code == 429


async def test_a_proxy_that_adds_its_own_forwarded_line_is_believed_over_the_clients_line(
    app_config: dict[str, Any], clean_state: None
) -> None:
    """HAProxy's `option forwardfor` adds a header line of its own after whatever the client
    sent: every line counts, so a client cannot pick its count by sending a line first."""
    application = create_app({**app_config, "trusted_proxies": ["127.0.0.0/8"]})
    port = free_port()
    async with (
        application.test_app(),
        served(application, port) as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        statuses = [
            (
                await http.get(
                    "/",
                    headers=[
                        ("X-Forwarded-For", f"192.0.2.{n}"),  # the client's own claim
                        ("X-Forwarded-For", "203.0.113.7"),  # what the proxy saw
                    ],
                )
            ).status_code
            for n in range(7)
        ]

    assert statuses == [200] * 5 + [429] * 2


async def test_paths_that_match_no_route_are_limited_too(app: Quart, client: Any) -> None:
    statuses = [(await client.get(f"/no/such/page{n}")).status_code for n in range(7)]
    assert statuses == [404] * 5 + [429] * 2


async def test_a_path_that_matches_no_route_costs_no_database_statement(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    # A shopper with a cart and a name to look up: a page of the shop would read both.
    await f.cart_item(db, await f.product(db, await f.page(db)), user_id=1)
    await sign_in(app, client, 1)
    with counting(app) as statements:
        response = await client.get("/no/such/page")
    body = await response.get_data(as_text=True)

    assert response.status_code == 404
    assert statements == []
    assert 'data-testid="ways-back"' in body


# 3,000 paid orders a minute; each order's checkout may change status twice (a failed
# attempt, then paid) and SumUp may deliver each change twice, all from one of its addresses.
PAID_ORDERS_A_MINUTE = 3_000
DELIVERIES_PER_ORDER = 4


async def test_the_webhooks_default_limit_admits_the_target_from_one_address(app: Quart) -> None:
    count, period = parse_rate(Settings.model_fields["rate_limit_webhook"].default)
    limit = RateLimit(count, period)
    store = CartIndexStore(lambda: runtime(app).redis.cart)
    deliveries = PAID_ORDERS_A_MINUTE * DELIVERIES_PER_ORDER
    start = time.time()

    refused = []
    for n in range(deliveries):
        at = start + n * period.total_seconds() / deliveries
        checked = await store.check_all(["webhook-from-sumup"], [limit], at=at)
        assert checked is not None
        if checked[0] is not None:
            refused.append(n)

    assert refused == []
