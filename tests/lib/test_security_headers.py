"""Every answer carries a strict Content-Security-Policy and the other protective headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from app import create_app
from bp.runtime import runtime
from tests.support import factories as f
from tests.support.http import internal_headers, sign_in

PAGES = ["/", "/orders/", "/bakery/", "/no-such-page/x", "/healthz"]


def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", PAGES)
async def test_pages_carry_a_strict_content_security_policy(client: Any, path: str) -> None:
    response = await client.get(path)
    policy = directives(response.headers["Content-Security-Policy"])

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


async def test_plain_http_gets_no_hsts(client: Any) -> None:
    response = await client.get("/")
    assert "Strict-Transport-Security" not in response.headers


async def forms_may_post_to(app_config: dict[str, Any], **extra: Any) -> list[str]:
    application = create_app({**app_config, **extra})
    async with application.test_app():
        response = await application.test_client().get("/")
    return directives(response.headers["Content-Security-Policy"])["form-action"]


async def test_forms_may_go_only_here_and_to_sumup_s_hosted_page(
    app_config: dict[str, Any], clean_state: None
) -> None:
    # A checkout form posts here and is redirected (303) to SumUp's hosted page, which
    # Chromium checks against form-action too.
    real = await forms_may_post_to(app_config, sumup_api_base="https://api.sumup.com")
    standin = await forms_may_post_to(app_config, sumup_api_base="http://127.0.0.1:8010/")
    chosen = await forms_may_post_to(
        app_config, sumup_hosted_checkout_origin="https://pay.example.test"
    )

    assert real == ["'self'", "https://checkout.sumup.com"]
    assert standin == ["'self'", "http://127.0.0.1:8010"]
    assert chosen == ["'self'", "https://pay.example.test"]


@pytest.fixture
async def secure_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app({**app_config, "session_cookie_secure": True})
    async with application.test_app():
        yield application


async def test_https_gets_hsts(secure_app: Quart) -> None:
    response = await secure_app.test_client().get("/")
    hsts = response.headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts


async def test_the_shoppers_pages_may_not_be_cached(app: Quart, client: Any) -> None:
    # They hold the shopper's cart, orders and CSRF token: no shared cache may keep them, and
    # the browser must not show them again from its history cache after a sign-out.
    async with runtime(app).databases.sessionmaker() as db:
        page = await f.page(db, "bakery")
        await f.product(db, page)
        order = await f.order(db, user_id=1)
    await sign_in(app, client, 1)
    personal = [
        "/",
        "/bakery/",
        "/orders/",
        f"/orders/{order.id}/",
        "/no-such-page/x",
        "/internal/fragments/cart-mini",
    ]
    for path in personal:
        response = await client.get(path)
        assert response.headers.get("Cache-Control") == "private, no-store", path
    summary = await client.get("/internal/cart/summary?user_id=1", headers=internal_headers(app))
    assert summary.headers.get("Cache-Control") == "private, no-store"


async def test_static_files_stay_cacheable(client: Any) -> None:
    response = await client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    assert "no-store" not in response.headers["Cache-Control"]
