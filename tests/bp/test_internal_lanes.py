"""The badge and the summary that other apps ask for with the token and a user id are answered
before the framework (bp/internal_lanes.py): the same status, headers and body as the views
give, logged and counted alike; every other shape of those requests, and a database that is
down, is the framework's to answer, and a failed statement is met once."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

import lib.db
import services.sql.cart_impl
from app import create_app
from bp.runtime import runtime
from tests.support import factories
from tests.support.http import internal_headers, write_shared_session
from tests.support.lanes import framework_requests, get, without_lanes
from tests.support.metrics import sample

BADGE = "/internal/fragments/cart-mini"
SUMMARY = "/internal/cart/summary"
NOWHERE_DATABASE = "postgresql://root@127.0.0.1:9/none"
CSRF_TOKEN = re.compile(rb"[0-9a-f]{64}")


async def answer(app: Quart, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """`get` as another coop app asks, with the internal token."""
    return await get(app, path, {**internal_headers(app), **headers})


async def a_full_cart(db: AsyncSession, user_id: int) -> None:
    shop = await factories.page(db)
    await factories.cart_item(
        db, await factories.product(db, shop, "Loaf", "3.10"), user_id=user_id, quantity=2
    )
    workshop = await factories.calendar(db, shop)
    await factories.booking(db, workshop, user_id=user_id, cost="12.50")
    kinds = await factories.ticket_type(db, await factories.event(db, workshop), cost="8.00")
    await factories.ticket(db, kinds, user_id=user_id)
    await db.commit()


@pytest.mark.parametrize("path", [BADGE, SUMMARY])
@pytest.mark.parametrize("user_id", [41, 42, 9223372036854775807])
async def test_a_lane_answers_byte_for_byte_as_the_view(
    app: Quart, db: AsyncSession, path: str, user_id: int
) -> None:
    await a_full_cart(db, 41)
    url = f"{path}?user_id={user_id}"

    with framework_requests(app) as handled:
        in_lane = await answer(app, url)
    with without_lanes(app), framework_requests(app) as handled_without:
        by_view = await answer(app, url)

    assert handled == [] and handled_without == [path]
    assert in_lane == by_view
    assert in_lane[0] == 200
    if path == SUMMARY:
        summary = json.loads(in_lane[2])
        expected = {"count": 2, "calendar_count": 1, "ticket_count": 1} if user_id == 41 else {}
        assert {key: summary[key] for key in expected} == expected
    elif user_id == 41:
        assert 'data-count="4"' in in_lane[2].decode()


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        (f"{BADGE}?user_id=5", {"Authorization": ""}, 401),
        (f"{BADGE}?user_id=5", {"Authorization": "Bearer wrong"}, 401),
        (f"{SUMMARY}?user_id=5", {"Authorization": "Basic Zm9vOmJhcg=="}, 401),
        (f"{SUMMARY}?user_id=007", {}, 200),
        (f"{SUMMARY}?user_id=0", {}, 400),
        (f"{SUMMARY}?user_id=9223372036854775808", {}, 400),
        (f"{BADGE}?user_id=5&user_id=6", {}, 200),
        (f"{BADGE}?user_id=5&session_id=abc", {}, 400),
        (f"{BADGE}?session_id=" + "s" * 32, {}, 200),
        (f"{SUMMARY}?user_id=-5", {}, 400),
        (f"{SUMMARY}?user_id=5%00", {}, 400),
    ],
)
async def test_every_other_shape_is_the_frameworks(
    app: Quart, url: str, headers: dict[str, str], status: int
) -> None:
    with framework_requests(app) as handled:
        got = await answer(app, url, **headers)
    with without_lanes(app):
        by_view = await answer(app, url, **headers)

    assert handled == [url.split("?")[0]]
    assert got[0] == by_view[0] == status
    # An error page carries a CSRF token for the session it mints, another each time.
    assert CSRF_TOKEN.sub(b"token", got[2]) == CSRF_TOKEN.sub(b"token", by_view[2])


async def test_a_head_request_is_the_frameworks(app: Quart) -> None:
    with framework_requests(app) as handled:
        response = await app.test_client().head(f"{BADGE}?user_id=5", headers=internal_headers(app))
    assert response.status_code == 200
    assert handled == [BADGE]


async def test_a_lane_request_is_logged_and_counted_as_any(
    json_app: Quart, capsys: pytest.CaptureFixture[str]
) -> None:
    client = json_app.test_client()
    capsys.readouterr()
    token = internal_headers(json_app)

    response = await client.get(f"{BADGE}?user_id=5", headers={**token, "X-Request-ID": "lane-1"})
    scrape = await (await client.get("/metrics", headers=token)).get_data(as_text=True)

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lane-1"
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    logged = [line for line in lines if line.get("request_id") == "lane-1"]
    assert len(logged) == 1
    assert logged[0] | {"duration_ms": 0, "timestamp": ""} == {
        "logger": "cart.request",
        "event": "request",
        "level": "info",
        "method": "GET",
        "route": BADGE,
        "path": BADGE,
        "status": 200,
        "request_id": "lane-1",
        "duration_ms": 0,
        "timestamp": "",
    }
    counted = sample(
        scrape,
        "http_request_duration_seconds_count",
        route=BADGE,
        method="GET",
        status="200",
    )
    assert counted == 1


@pytest.fixture
async def app_without_database(
    app_config: dict[str, Any], clean_state: None
) -> AsyncIterator[Quart]:
    application = create_app({**app_config, "database_url": NOWHERE_DATABASE})
    async with application.test_app():
        yield application


@pytest.mark.parametrize("path", [BADGE, SUMMARY])
async def test_a_database_that_is_down_is_met_once_and_answered_503(
    app_without_database: Quart, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    app = app_without_database
    tried: list[str] = []
    fetch = lib.db.fetch_on_driver

    async def counted(*args: Any, **kwargs: Any) -> Any:
        tried.append("fetch")
        return await fetch(*args, **kwargs)

    monkeypatch.setattr(lib.db, "fetch_on_driver", counted)
    monkeypatch.setattr(services.sql.cart_impl, "fetch_on_driver", counted)

    response = await app.test_client().get(f"{path}?user_id=5", headers=internal_headers(app))
    body = await response.get_data(as_text=True)

    assert response.status_code == 503, body
    assert "DATABASE_UNAVAILABLE" in body
    assert response.headers["Retry-After"] == "5"
    assert tried == ["fetch"]


# The shopper's own badge, from the browser's session cookie.


async def own_badge(app: Quart, cookie: str | None) -> tuple[int, dict[str, str], bytes]:
    """`get` of the badge as a browser asks, with this Cookie header (None: no cookie)."""
    return await get(app, BADGE, {"Cookie": cookie} if cookie is not None else {})


async def browsers(app: Quart, db: AsyncSession) -> dict[str, str | None]:
    """Cookie headers of browsers of every kind, by what they are."""
    await a_full_cart(db, 41)
    shop = await factories.page(db, "dairy")
    await factories.cart_item(db, await factories.product(db, shop, "Milk"), session_id="anon-7")
    await db.commit()
    name = runtime(app).settings.session_cookie_name
    signed_in = await write_shared_session(app, {"user_id": 41, "user_name": "Ada"})
    anonymous = await write_shared_session(app, {"cart_sid": "anon-7"})
    empty = await write_shared_session(app, {"user_name": "Nobody"})
    return {
        "signed in": f"{name}={signed_in}",
        "signed in, among other cookies": f"theme=dark; {name}={signed_in}; lang=en",
        "anonymous cart": f"{name}={anonymous}",
        "session without a cart": f"{name}={empty}",
        "unknown session": f"{name}=never-stored",
        "too long a cookie": f"{name}={'x' * 200}",
        "no cookie": None,
    }


async def test_the_browsers_own_badge_is_answered_as_the_view_does(
    limited_app: Quart, db: AsyncSession
) -> None:
    app = limited_app
    cookies = await browsers(app, db)
    for kind, cookie in cookies.items():
        await runtime(app).redis.cart.flushdb()
        with framework_requests(app) as handled:
            in_lane = await own_badge(app, cookie)
        await runtime(app).redis.cart.flushdb()
        with without_lanes(app), framework_requests(app) as handled_without:
            by_view = await own_badge(app, cookie)

        assert handled == [] and handled_without == [BADGE], kind
        assert in_lane == by_view, kind
        assert in_lane[1]["ratelimit-remaining"] == "2", kind
    counts = {}
    for kind, cookie in cookies.items():
        await runtime(app).redis.cart.flushdb()
        status, _, body = await own_badge(app, cookie)
        found = re.fullmatch(rb'<a id="cart-mini".*data-count="(\d+)".*</a>', body, re.DOTALL)
        assert status == 200 and found is not None, kind
        counts[kind] = int(found.group(1))
    assert counts == {
        "signed in": 4,
        "signed in, among other cookies": 4,
        "anonymous cart": 1,
        "session without a cart": 0,
        "unknown session": 0,
        "too long a cookie": 0,
        "no cookie": 0,
    }


async def test_the_browsers_own_badge_is_counted_once_and_refused_by_the_framework(
    limited_app: Quart, db: AsyncSession
) -> None:
    app = limited_app
    cookie = (await browsers(app, db))["signed in"]

    with framework_requests(app) as handled:
        answers = [await own_badge(app, cookie) for _ in range(4)]

    assert [status for status, _, _ in answers] == [200, 200, 200, 429]
    assert [headers["ratelimit-remaining"] for _, headers, _ in answers] == ["2", "1", "0", "0"]
    # The refusal is the framework's answer, with its headers and page.
    assert handled == [BADGE]
    refused_headers, refused_body = answers[3][1], answers[3][2].decode()
    assert int(refused_headers["retry-after"]) >= 1
    assert 'data-error-code="TOO_MANY_REQUESTS"' in refused_body

    await runtime(app).redis.cart.flushdb()
    with without_lanes(app):
        by_view = [await own_badge(app, cookie) for _ in range(4)]
    assert [status for status, _, _ in by_view] == [200, 200, 200, 429]
    assert CSRF_TOKEN.sub(b"token", by_view[3][2]) == CSRF_TOKEN.sub(b"token", answers[3][2])
    assert {**by_view[3][1], "retry-after": ""} == {**refused_headers, "retry-after": ""}


async def test_a_badge_asked_with_a_token_and_no_shopper_is_the_frameworks(app: Quart) -> None:
    with framework_requests(app) as handled:
        response = await app.test_client().get(BADGE, headers=internal_headers(app))
    assert handled == [BADGE]
    assert response.status_code == 200
