"""Pages whose slug is one of the cart's own routes: named at start, refused with a reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from quart import Quart

from app import create_app
from bp.cart.reserved_slugs import reserved_slugs
from bp.runtime import runtime
from tests.support import factories as f
from tests.support.checkout import text
from tests.support.http import csrf_token, sign_in

EVERY_PREFIX = {
    "orders",
    "checkout",
    "internal",
    "static",
    "add",
    "items",
    "entries",
    "tickets",
    "healthz",
    "readyz",
    "metrics",
    "dev",
}


async def test_the_reserved_slugs_come_from_the_url_map(
    app_config: dict[str, Any], clean_state: None
) -> None:
    development = create_app({**app_config, "app_env": "development"})
    production_like = create_app(app_config)

    assert reserved_slugs(development) >= EVERY_PREFIX
    # Without the development blueprint, `dev` is an ordinary page again.
    assert "dev" not in reserved_slugs(production_like)
    assert EVERY_PREFIX - {"dev"} <= reserved_slugs(production_like)


async def test_unreachable_pages_are_named_once_at_start(
    app_config: dict[str, Any], clean_state: None, caplog: pytest.LogCaptureFixture
) -> None:
    application = create_app(app_config)
    async with application.test_app(), runtime(application).databases.sessionmaker() as db:
        for slug in ("orders", "checkout", "bakery"):
            await f.page(db, slug, slug.title())
    with caplog.at_level(logging.WARNING, logger="bp.cart.reserved_slugs"):
        async with application.test_app():
            pass

    warnings = [r.getMessage() for r in caplog.records if r.name == "bp.cart.reserved_slugs"]
    assert len(warnings) == 2
    assert any("'orders'" in w and "/orders/" in w for w in warnings)
    assert any("'checkout'" in w and "/checkout/" in w for w in warnings)
    assert not any("bakery" in w for w in warnings)


async def test_a_reserved_slug_never_shows_a_cart_and_says_why(
    app: Quart, client: Any, db: Any
) -> None:
    for slug in ("orders", "checkout", "add", "items"):
        page = await f.page(db, slug, f"The {slug} shop")
        await f.cart_item(db, await f.product(db, page, f"{slug} loaf"), user_id=7)
    await sign_in(app, client, 7)

    for slug in ("orders", "checkout", "add", "items"):
        response = await client.get(f"/{slug}/")
        body = await text(response)
        assert f"{slug} loaf" not in body, slug
        if response.status_code == 404:
            assert "cannot have its cart" in body, slug
            assert 'data-error-code="PAGE_SLUG_RESERVED"' in body, slug

    # The page-cart view and the page checkout are reached for these, and say why.
    for path in ("/checkout/", "/add/", "/items/"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "cannot have its cart" in await text(response), path
    checkout = await client.post("/orders/checkout/", form={"csrf_token": csrf_token(app, client)})
    assert checkout.status_code == 404
    assert "cannot have its cart" in await text(checkout)
