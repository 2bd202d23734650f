"""The runtime: one per app, made with no I/O, opened and closed with serving; jobs stop cleanly."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from quart import render_template_string
from sqlalchemy import text

from app import BACKGROUND_JOBS, create_app
from bp.runtime import runtime
from config.settings import load_settings
from services.runtime import Runtime, RuntimeNotOpen, open_runtime
from services.sql.market_impl import SqlMarketService
from services.stubs import StubMarketService


async def test_two_apps_in_one_process_share_nothing(
    app_config: dict[str, Any], clean_state: None
) -> None:
    first = create_app({**app_config, "currency": "EUR", "domains": ["blog", "cart"]})
    second = create_app({**app_config, "currency": "GBP"})
    one, two = runtime(first), runtime(second)

    assert (one.settings.currency, two.settings.currency) == ("EUR", "GBP")
    assert one.domains is not two.domains
    assert isinstance(one.domains.market, StubMarketService)
    assert isinstance(two.domains.market, SqlMarketService)
    async with first.test_app(), second.test_app():
        assert one.databases.engine is not two.databases.engine
        assert one.redis.auth is not two.redis.auth and one.redis.cart is not two.redis.cart
        assert one.gateway is not two.gateway
        # One SumUp client per app, whoever asks for it.
        assert one.gateway is runtime(first).gateway
        # A request reaches its own app's settings.
        async with first.test_request_context("/"):
            euros = await render_template_string("{{ x | money }}", x=Decimal("2.5"))
        async with second.test_request_context("/"):
            pounds = await render_template_string("{{ x | money }}", x=Decimal("2.5"))
    assert (euros, pounds) == ("€2.50", "£2.50")
    assert not one.is_open and not two.is_open


async def test_making_an_app_opens_nothing_and_serving_opens_and_closes_it(
    app_config: dict[str, Any], clean_state: None
) -> None:
    app = create_app(app_config)
    made = runtime(app)
    with pytest.raises(RuntimeNotOpen, match="not open"):
        made.databases  # noqa: B018  (the property is the point)

    async with app.test_app():
        async with made.databases.engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        assert await made.redis.cart.ping()

    assert not made.is_open
    with pytest.raises(RuntimeNotOpen):
        made.gateway  # noqa: B018


async def test_the_jobs_are_the_apps_own_list_and_stop_with_it(
    app_config: dict[str, Any], clean_state: None
) -> None:
    quiet = create_app(app_config)
    busy = create_app(
        {
            **app_config,
            "background_jobs_enabled": True,
            "reconciler_interval_seconds": 60,
            "relay_interval_seconds": 60,
        }
    )
    assert runtime(quiet).jobs == ()
    assert runtime(busy).jobs == BACKGROUND_JOBS

    async with busy.test_app():
        await asyncio.sleep(0.1)
        assert sorted(runtime(busy).running_jobs) == ["purge_job", "reconciler_job", "relay_job"]
    assert runtime(busy).running_jobs == []


async def test_a_job_told_to_stop_finishes_its_pass(database_url: str) -> None:
    settings_config = {"app_env": "test", "database_url": database_url}
    passes: list[str] = []

    async def slow_job(runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            passes.append("started")
            async with runtime.databases.engine.connect() as connection:
                await connection.execute(text("SELECT pg_sleep(0.3)"))
            passes.append("finished")

    async with open_runtime(load_settings(settings_config), jobs=[slow_job]) as opened:
        opened.start_jobs()
        await asyncio.sleep(0.1)
        await opened.stop_jobs(grace_seconds=5)

        assert passes == ["started", "finished"]
        assert opened.running_jobs == []
