"""Who is staff is the account domain's answer, asked on every request (tests/test_route_policy.py
proves that everyone else gets a 404 on every staff route)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from app import create_app
from bp.runtime import runtime
from tests.support import factories as f
from tests.support.http import sign_in

STAFF = 30


async def test_staff_is_asked_on_every_request(app: Quart) -> None:
    async with runtime(app).databases.sessionmaker() as db:
        member = await f.user(db, STAFF, is_staff=True)
        await db.commit()
        client = app.test_client()
        await sign_in(app, client, STAFF)
        assert (await client.get("/staff/orders/")).status_code == 200
        member.is_staff = False
        await db.commit()
        assert (await client.get("/staff/orders/")).status_code == 404


async def test_a_user_the_account_domain_does_not_know_is_not_staff(app: Quart) -> None:
    client = app.test_client()
    await sign_in(app, client, 12345)
    assert (await client.get("/staff/")).status_code == 404


@pytest.fixture
async def app_without_accounts(
    app_config: dict[str, Any], clean_state: None
) -> AsyncIterator[Quart]:
    # Port 9 on loopback refuses connections: an account database that is down.
    application = create_app(
        {**app_config, "database_url_account": "postgresql://root@127.0.0.1:9/accounts"}
    )
    async with application.test_app():
        yield application


@pytest.fixture
async def app_without_redis(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app({**app_config, "redis_url": "redis://127.0.0.1:9/0"})
    async with application.test_app():
        yield application


async def test_the_account_domain_down_is_a_503_not_a_404(app_without_accounts: Quart) -> None:
    client = app_without_accounts.test_client()
    await sign_in(app_without_accounts, client, STAFF)
    response = await client.get("/staff/orders/")
    assert response.status_code == 503
    assert "try again in a moment" in (await response.get_data(as_text=True)).lower()


async def test_the_session_store_down_is_a_503_not_a_404(app_without_redis: Quart) -> None:
    client = app_without_redis.test_client()
    client.set_cookie("cart.test", "coop_session", "x" * 64)
    response = await client.get("/staff/orders/")
    assert response.status_code == 503
    assert 'data-error-code="SESSION_STORE_UNAVAILABLE"' in await response.get_data(as_text=True)
