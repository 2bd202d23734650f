"""The request pipeline: the shopper's session is read only by routes that use it, and a
route's limits cost one round trip to Redis, their headers included."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from quart import Quart

from bp.runtime import runtime
from tests.support.http import internal_headers, sign_in

SESSIONLESS = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/internal/cart/summary?user_id=7"),
    ("GET", "/internal/fragments/cart-mini?user_id=7"),
    ("GET", "/internal/openapi.json"),
    ("GET", "/static/no-such-file.css"),
    ("POST", "/checkout/webhook/no-such-order/"),
]


def count_session_reads(app: Quart, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys the app reads from the shared session index from now on, through its client
    or through that client's hot commands' connection (lib/redis_hot.py)."""
    redis = runtime(app).redis
    read: list[str] = []
    for reader in (redis.auth, redis.auth_hot):
        get: Callable[..., Awaitable[Any]] = reader.get

        async def counting_get(
            name: str, *args: Any, _get: Callable[..., Awaitable[Any]] = get, **kwargs: Any
        ) -> Any:
            read.append(name)
            return await _get(name, *args, **kwargs)

        monkeypatch.setattr(reader, "get", counting_get)
    return read


@pytest.mark.parametrize(("method", "path"), SESSIONLESS)
async def test_routes_that_use_no_session_never_read_it(
    app: Quart, client: Any, monkeypatch: pytest.MonkeyPatch, method: str, path: str
) -> None:
    await sign_in(app, client, 7)
    reads = count_session_reads(app, monkeypatch)

    response = await client.open(path, method=method, headers=internal_headers(app))

    assert response.status_code < 500
    assert [key for key in reads if key.startswith("session:")] == []


async def test_the_shoppers_own_badge_and_pages_still_read_it(
    app: Quart, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(app, client, 7)
    reads = count_session_reads(app, monkeypatch)

    badge = await client.get("/internal/fragments/cart-mini")
    page = await client.get("/")

    assert badge.status_code == 200 and page.status_code == 200
    assert len([key for key in reads if key.startswith("session:")]) == 2


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "rate_limit_enabled": True, "rate_limit_pages": "100/minute"}


async def test_a_limited_request_costs_one_round_trip_with_its_headers(
    app: Quart, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis = runtime(app).redis
    sent: list[str] = []
    execute: Callable[..., Awaitable[Any]] = redis.cart.execute_command
    command: Callable[..., Awaitable[Any]] = redis.cart_hot._command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await execute(*args, **options)

    async def counting_hot(args: tuple[Any, ...]) -> Any:
        sent.append(str(args[0]))
        return await command(args)

    # The first request loads the limiter's script into Redis.
    await client.get("/internal/openapi.json")
    # Every command to the cart's index, through its client or its hot commands' connection.
    monkeypatch.setattr(redis.cart, "execute_command", counting)
    monkeypatch.setattr(redis.cart_hot, "_command", counting_hot)

    response = await client.get("/internal/openapi.json")

    # Without the token it is a caller like any other: refused, and counted.
    assert response.status_code == 401
    assert sent == ["EVALSHA"]
    assert response.headers["RateLimit-Limit"] == "100"
    assert response.headers["RateLimit-Remaining"] == "98"
    assert 0 < int(response.headers["RateLimit-Reset"]) <= 2
