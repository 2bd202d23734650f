"""register_domain_services(): SQL implementations, or stubs for the domains left out; one set
per deployment's settings."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from quart import Quart

from app import create_app
from bp.runtime import runtime
from config.settings import load_settings
from services.contracts.protocols import BlogService, CalendarService, CartService, MarketService
from services.registry import register_domain_services
from services.sql.blog_impl import SqlBlogService
from services.sql.calendar_impl import SqlCalendarService
from services.sql.cart_impl import SqlCartService
from services.sql.market_impl import SqlMarketService
from services.stubs import StubBlogService, StubCalendarService, StubCartService, StubMarketService
from tests.bp.cart.helpers import badge_counts
from tests.support import factories as f
from tests.support.http import sign_in


def test_all_domains_are_sql_by_default() -> None:
    services = register_domain_services(load_settings({"app_env": "test"}))

    assert isinstance(services.blog, SqlBlogService)
    assert isinstance(services.market, SqlMarketService)
    assert isinstance(services.calendar, SqlCalendarService)
    assert isinstance(services.cart, SqlCartService)


def test_domains_left_out_get_their_stub() -> None:
    services = register_domain_services(
        load_settings({"app_env": "test", "domains": ["blog", "cart"]})
    )

    assert isinstance(services.blog, SqlBlogService)
    assert isinstance(services.market, StubMarketService)
    assert isinstance(services.calendar, StubCalendarService)
    assert isinstance(services.cart, SqlCartService)

    services = register_domain_services(load_settings({"app_env": "test", "domains": []}))
    assert isinstance(services.blog, StubBlogService)
    assert isinstance(services.cart, StubCartService)


async def test_an_app_without_the_events_domain_still_serves_the_cart(
    app_config: dict[str, Any], clean_state: None
) -> None:
    application: Quart = create_app({**app_config, "domains": ["blog", "market", "cart"]})
    async with application.test_app():
        async with runtime(application).databases.sessionmaker() as db:
            page = await f.page(db)
            await f.cart_item(db, await f.product(db, page), user_id=1, quantity=2)
            await f.booking(db, await f.calendar(db, page), user_id=1)
        client = application.test_client()
        await sign_in(application, client, 1)
        overview = await client.get("/")
        page_cart = await client.get(f"/{page.slug}/")

    assert overview.status_code == page_cart.status_code == 200
    html = await page_cart.get_data(as_text=True)
    assert "Taster session" not in html
    assert badge_counts(html) == [2]


PROTOCOLS = [
    (BlogService, SqlBlogService, StubBlogService),
    (MarketService, SqlMarketService, StubMarketService),
    (CalendarService, SqlCalendarService, StubCalendarService),
    (CartService, SqlCartService, StubCartService),
]


@pytest.mark.parametrize(("protocol", "sql", "stub"), PROTOCOLS)
def test_sql_and_stub_implement_every_method_with_the_same_signature(
    protocol: type, sql: type, stub: type
) -> None:
    methods = [
        name
        for name, value in vars(protocol).items()
        if inspect.iscoroutinefunction(value) and not name.startswith("_")
    ]
    assert methods
    for implementation in (sql, stub):
        for name in methods:
            method = getattr(implementation, name)
            assert inspect.iscoroutinefunction(method), f"{implementation.__name__}.{name}"
            assert inspect.signature(method) == inspect.signature(getattr(protocol, name)), (
                f"{implementation.__name__}.{name}"
            )
