"""A whole checkout on the service as production runs it (Hypercorn, JSON logs), its log read
afterwards: every line is structured and carries its request's id, SumUp's calls among them,
and no line holds a secret, a token, the session id, the CSRF token, SumUp's API key or the
secret of the order's link (opened, and guessed at, after paying)."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from lib.db import make_engine
from tests.conftest import TEST_AUTH_DB, TEST_CART_DB, redis_url
from tests.support import factories as f
from tests.support.checkout import pay_on_hosted_page
from tests.support.http import token_in
from tests.support.servers import (
    PRODUCTION_SETTINGS,
    ServiceProcess,
    free_port,
    service_environment,
)
from tests.support.standin import StandinControl

COOKIE = "coop_session"
ORDER_LINK = re.compile(r'id="order-link"[^>]*href="(/orders/(?:\d+)/([0-9a-f]{64})/)"')


async def bakery_loaf(database_url: str) -> int:
    """A page with one product; answers the product's id."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            page = await f.page(session, "bakery", "The Bakery")
            return (await f.product(session, page, "Sourdough loaf", "4.50")).id
    finally:
        await engine.dispose()


def log_events(text: str) -> list[dict[str, Any]]:
    """The app's JSON lines (Hypercorn's own error and access lines are plain text)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.slow
async def test_a_whole_checkout_logs_no_secret(
    database_url: str, clean_state: None, sumup_standin: str, sumup_standin_control: StandinControl
) -> None:
    product_id = await bakery_loaf(database_url)
    secret_key = "sk-" + secrets.token_urlsafe(32)
    internal_token = "it-" + secrets.token_urlsafe(32)
    sumup_key = "sup_sk_" + secrets.token_urlsafe(24)
    port = free_port()
    env = service_environment(
        database_url,
        redis_url(),
        REDIS_AUTH_DB=str(TEST_AUTH_DB),
        REDIS_CART_DB=str(TEST_CART_DB),
        SECRET_KEY=secret_key,
        INTERNAL_API_TOKEN=internal_token,
        SUMUP_API_BASE=sumup_standin,
        SUMUP_API_KEY=sumup_key,
        SUMUP_MERCHANT_CODE="MTEST001",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        BACKGROUND_JOBS_ENABLED="false",
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
    )
    bearer = {"Authorization": f"Bearer {internal_token}"}
    # Hypercorn's production settings, its access log among them.
    with ServiceProcess(env, workers=1, port=port, args=PRODUCTION_SETTINGS) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as shopper:
            token = token_in((await shopper.get("/bakery/")).text)
            added = await shopper.post(
                f"/add/{product_id}/", data={"csrf_token": token, "quantity": "2"}
            )
            assert added.status_code == 303, added.text
            session_id = shopper.cookies[COOKIE]
            checkout = await shopper.post(
                "/bakery/checkout/",
                data={"csrf_token": token, "email": "guest@example.org"},
                headers={"X-Request-ID": "checkout-request-1"},
            )
            assert checkout.status_code == 303, checkout.text
            hosted_url = checkout.headers["location"]
            await pay_on_hosted_page(hosted_url)
            [delivery] = await sumup_standin_control.wait_for_webhooks(1)
            assert delivery["ok"], delivery
            order_id = int(delivery["url"].rstrip("/").rsplit("/", 1)[1])
            thanks = await shopper.get(f"/checkout/return/{order_id}/")
            assert thanks.status_code == 200 and "Thank you" in thanks.text
            link = ORDER_LINK.search(thanks.text)
            assert link is not None, thanks.text
            link_secret = link.group(2)
            # Opened from another device (no cookies), and guessed at with a wrong secret.
            async with httpx.AsyncClient(base_url=service.url, timeout=30) as elsewhere:
                opened = await elsewhere.get(link.group(1))
                assert opened.status_code == 200 and f"Order #{order_id}" in opened.text
                wrong = link.group(1).replace(link_secret, link_secret[::-1])
                assert (await elsewhere.get(wrong)).status_code == 404
            # Other apps' calls, with the token and the session id in the query string.
            summary = await shopper.get(
                "/internal/cart/summary", params={"session_id": session_id}, headers=bearer
            )
            assert summary.status_code == 200
            assert (await shopper.get("/metrics", headers=bearer)).status_code == 200
            assert (await shopper.get("/internal/cart/summary")).status_code == 401
        service.stop()
        log = service.log_text()

    for name, value in (
        ("SECRET_KEY", secret_key),
        ("INTERNAL_API_TOKEN", internal_token),
        ("SUMUP_API_KEY", sumup_key),
        ("the session id", session_id),
        ("the CSRF token", token),
        ("the order link's secret", link_secret),
        ("the secret guessed at", link_secret[::-1]),
    ):
        assert value not in log, f"{name} is in the log"
    events = log_events(log)
    requests = [e for e in events if e["event"] == "request"]
    seen = {(e["method"], e["route"], e["status"]) for e in requests}
    for method, start, end, status in (
        ("GET", "/<page_slug>/", "", 200),
        ("POST", "/add/<", ":product_id>/", 303),
        ("POST", "/<page_slug>/checkout/", "", 303),
        ("POST", "/checkout/webhook/<order_ref>/", "", 204),
        ("GET", "/checkout/return/<", ":order_id>/", 200),
        ("GET", "/internal/cart/summary", "", 200),
        ("GET", "/orders/<", ":secret>/", 200),
        ("GET", "/orders/<", ":secret>/", 404),
    ):
        assert any(
            m == method and r.startswith(start) and r.endswith(end) and s == status
            for m, r, s in seen
        ), (method, start, status, seen)
    assert all(e["request_id"] for e in requests)
    # The checkout's call to SumUp is logged with the checkout request's id.
    of_checkout = [e for e in events if e.get("request_id") == "checkout-request-1"]
    assert any(e["logger"] == "services.sumup.client" for e in of_checkout), of_checkout
