"""A shopper's cart pages (`/` and `/<page_slug>/`) and orders (`/orders/`) are answered before
the framework when nothing is special about the request (bp/page_lanes.py): the same status,
headers and page as the views give, logged, counted and limited alike; every other shape is the
framework's, and a page that does not exist is looked for once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

import lib.db
from bp.runtime import runtime
from tests.support import factories
from tests.support.http import internal_headers, write_shared_session
from tests.support.lanes import framework_requests, get, without_lanes
from tests.support.metrics import sample

PAGES = ["/bakery/", "/"]
PAGE_RULE = "/<page_slug>/"


async def carts(db: AsyncSession, *, user_id: int, sid: str | None = None) -> None:
    """On the bakery's page: two loaves, a booking and a ticket in the user's cart; two
    loaves and a booking in the anonymous cart `sid`."""
    shop = await factories.page(db, "bakery", "Bakery")
    loaf = await factories.product(db, shop, "Loaf", "3.10")
    workshop = await factories.calendar(db, shop)
    kinds = await factories.ticket_type(db, await factories.event(db, workshop), cost="8.00")
    await factories.ticket(db, kinds, user_id=user_id)
    for owner in [{"user_id": user_id}, {"session_id": sid}] if sid else [{"user_id": user_id}]:
        await factories.cart_item(db, loaf, **owner, quantity=2)  # type: ignore[arg-type]
        await factories.booking(db, workshop, **owner, cost="12.50")  # type: ignore[arg-type]
    await db.commit()


def cookie(app: Quart, sid: str) -> dict[str, str]:
    return {"Cookie": f"theme=dark; {runtime(app).settings.session_cookie_name}={sid}"}


async def test_a_cart_page_in_its_lane_answers_byte_for_byte_as_the_view(
    app: Quart, db: AsyncSession
) -> None:
    await carts(db, user_id=41, sid="anon-cart-7")
    browsers = {
        "signed in, named by the session": await write_shared_session(
            app, {"user_id": 41, "user_name": "Ada"}
        ),
        "an anonymous cart": await write_shared_session(app, {"cart_sid": "anon-cart-7"}),
    }
    for kind, sid in browsers.items():
        for path in PAGES:
            with framework_requests(app) as handled:
                in_lane = await get(app, path, cookie(app, sid))
            with without_lanes(app), framework_requests(app) as handled_by_view:
                by_view = await get(app, path, cookie(app, sid))

            assert (handled, handled_by_view) == ([], [path]), (kind, path)
            assert in_lane == by_view, (kind, path)
            status, headers, body = in_lane
            page = body.decode()
            assert status == 200
            assert headers["content-type"] == "text/html; charset=utf-8"
            assert "Loaf" in page and "£" in page
            signed_in = kind.startswith("signed in")
            # The badge: two loaves and a booking, and the signed-in shopper's ticket.
            assert f'data-count="{4 if signed_in else 3}"' in page
            assert ("Ada" in page) == signed_in


async def test_a_shoppers_name_read_from_the_account_domain_once_lets_the_lane_answer(
    app: Quart, db: AsyncSession
) -> None:
    await factories.user(db, user_id=43, name="Grace Hopper")
    await carts(db, user_id=43)
    sid = await write_shared_session(app, {"user_id": 43})

    with framework_requests(app) as handled:
        first = await get(app, "/bakery/", cookie(app, sid))
        second = await get(app, "/bakery/", cookie(app, sid))

    # The first asks the account domain (the framework's view does), the second knows.
    assert handled == ["/bakery/"]
    assert first == second
    assert "Grace Hopper" in second[2].decode()


async def test_pages_of_any_other_shape_are_the_frameworks(app: Quart, db: AsyncSession) -> None:
    await carts(db, user_id=41, sid="anon-cart-8")
    signed_in = await write_shared_session(app, {"user_id": 41, "user_name": "Ada"})
    adopting = await write_shared_session(
        app, {"user_id": 41, "user_name": "Ada", "cart_sid": "anon-cart-8"}
    )
    settings = runtime(app).settings
    shapes: dict[str, tuple[str, dict[str, str]]] = {
        "a new visitor": ("/bakery/", {}),
        "a session the store does not have": ("/bakery/", cookie(app, "gone-" + "x" * 30)),
        "a query": ("/bakery/?from=shop", cookie(app, signed_in)),
        "HTMX": ("/bakery/", {**cookie(app, signed_in), "HX-Request": "true"}),
        "a bearer token": ("/", {**cookie(app, signed_in), "Authorization": "Bearer x"}),
        "something waiting": (
            "/bakery/",
            {"Cookie": f"cart_waiting=1; {settings.session_cookie_name}={signed_in}"},
        ),
        "an anonymous cart to adopt": ("/", cookie(app, adopting)),
    }
    for kind, (url, headers) in shapes.items():
        with framework_requests(app) as handled:
            status, _, _ = await get(app, url, headers)
        assert handled == [url.split("?")[0]], kind
        assert status in (200, 401), kind


@pytest.mark.parametrize("path", ["/nowhere/", "/checkout/"])
async def test_a_page_that_is_not_there_is_looked_for_once_and_answered_as_by_the_view(
    app: Quart, db: AsyncSession, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    await carts(db, user_id=41)
    sid = await write_shared_session(app, {"user_id": 41, "user_name": "Ada"})
    statements: list[str] = []
    fetch = lib.db.fetch_on_driver

    async def counted(*args: Any, **kwargs: Any) -> Any:
        statements.append(path)
        return await fetch(*args, **kwargs)

    monkeypatch.setattr(lib.db, "fetch_on_driver", counted)

    with framework_requests(app) as handled:
        in_lane = await get(app, path, cookie(app, sid))
    looked_for = len(statements)
    with without_lanes(app):
        by_view = await get(app, path, cookie(app, sid))

    assert handled == [path]
    assert in_lane == by_view
    assert in_lane[0] in (200, 404)
    # /nowhere/ is looked for by the lane and answered from its error; /checkout/ is a slug
    # the cart's routes reserve: the lane leaves it before any statement.
    assert looked_for == len(statements) - looked_for


async def test_a_page_in_its_lane_is_logged_and_counted_under_its_route(
    json_app: Quart, capsys: pytest.CaptureFixture[str]
) -> None:
    app = json_app
    # Written through this app's own database (the `db` fixture would make another app, and
    # the last app made decides how the process logs).
    async with runtime(app).databases.sessionmaker() as db:
        await carts(db, user_id=41)
    sid = await write_shared_session(app, {"user_id": 41, "user_name": "Ada"})
    capsys.readouterr()

    with framework_requests(app) as handled:
        response = await app.test_client().get(
            "/bakery/", headers={**cookie(app, sid), "X-Request-ID": "page-lane-1"}
        )
    metrics = await app.test_client().get("/metrics", headers=internal_headers(app))
    scrape = await metrics.get_data(as_text=True)

    assert handled == []
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "page-lane-1"
    assert response.headers["Content-Security-Policy"]
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    logged = [line for line in lines if line.get("request_id") == "page-lane-1"]
    assert [line["route"] for line in logged] == [PAGE_RULE]
    assert logged[0]["path"] == "/bakery/" and logged[0]["status"] == 200
    labels = {"route": PAGE_RULE, "method": "GET", "status": "200"}
    assert sample(scrape, "http_request_duration_seconds_count", **labels) == 1


async def test_a_page_in_its_lane_is_counted_once_and_refused_by_the_framework(
    limited_app: Quart, db: AsyncSession
) -> None:
    app = limited_app
    await carts(db, user_id=41)
    sid = await write_shared_session(app, {"user_id": 41, "user_name": "Ada"})

    with framework_requests(app) as handled:
        answers = [await get(app, "/bakery/", cookie(app, sid)) for _ in range(4)]
    await runtime(app).redis.cart.flushdb()
    with without_lanes(app):
        by_view = [await get(app, "/bakery/", cookie(app, sid)) for _ in range(4)]

    assert [status for status, _, _ in answers] == [200, 200, 200, 429]
    assert [headers["ratelimit-remaining"] for _, headers, _ in answers] == ["2", "1", "0", "0"]
    assert handled == ["/bakery/"]
    assert answers[:3] == by_view[:3]
    assert 'data-error-code="TOO_MANY_REQUESTS"' in answers[3][2].decode()


async def test_the_orders_list_in_its_lane_answers_byte_for_byte_as_the_view(
    app: Quart, db: AsyncSession
) -> None:
    await carts(db, user_id=41, sid="anon-cart-9")
    for n in range(3):
        await factories.order(db, user_id=41, status="paid", items=[(f"Loaf {n}", 1, "3.10")])
    await factories.order(db, session_id="anon-cart-9", items=[("Rye", 2, "2.40")])
    await db.commit()
    browsers = {
        "signed in": await write_shared_session(app, {"user_id": 41, "user_name": "Ada"}),
        "an anonymous cart": await write_shared_session(app, {"cart_sid": "anon-cart-9"}),
    }
    for kind, sid in browsers.items():
        with framework_requests(app) as handled:
            in_lane = await get(app, "/orders/", cookie(app, sid))
        with without_lanes(app), framework_requests(app) as handled_by_view:
            by_view = await get(app, "/orders/", cookie(app, sid))

        assert (handled, handled_by_view) == ([], ["/orders/"]), kind
        assert in_lane == by_view, kind
        status, headers, body = in_lane
        page = body.decode()
        assert status == 200
        assert headers["vary"] == "HX-Request"
        if kind == "signed in":
            assert all(f"Loaf {n}" in page for n in range(3)) and "Rye" not in page
            assert 'data-count="4"' in page
        else:
            assert "Rye" in page and "Loaf 0" not in page
            assert 'data-count="3"' in page


async def test_the_orders_list_of_any_other_shape_is_the_frameworks(
    app: Quart, db: AsyncSession
) -> None:
    await carts(db, user_id=41)
    await factories.order(db, user_id=41, status="paid")
    await db.commit()
    sid = await write_shared_session(app, {"user_id": 41, "user_name": "Ada"})
    shapes: dict[str, tuple[str, dict[str, str]]] = {
        "a search": ("/orders/?q=loaf", cookie(app, sid)),
        "a later page": ("/orders/?page=2", cookie(app, sid)),
        "HTMX, for the list alone": ("/orders/", {**cookie(app, sid), "HX-Request": "true"}),
        "a new visitor": ("/orders/", {}),
    }
    for kind, (url, headers) in shapes.items():
        with framework_requests(app) as handled:
            status, _, _ = await get(app, url, headers)
        assert handled == ["/orders/"], kind
        assert status == 200, kind
