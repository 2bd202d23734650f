"""A signed-in shopper's HTMX add-to-cart is answered before the framework (bp/add_lane.py):
the same status, headers and answer as the view gives, the same line in the cart, logged and
counted alike; every other shape is the framework's, given the body the lane read; a refused
quantity or a product that is gone is answered as the view's error is."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.csrf import sign
from tests.support import factories
from tests.support.http import internal_headers, secret_key_of, write_shared_session
from tests.support.lanes import framework_requests, without_lanes
from tests.support.metrics import sample

ADD_RULE = "/add/<int(max=9223372036854775807):product_id>/"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def a_loaf(db: AsyncSession, *, in_cart_of: int | None = None) -> int:
    """A loaf's product id; two of them in the cart of the user `in_cart_of`, if given."""
    loaf = await factories.product(db, await factories.page(db, "bakery"), "Loaf", "3.10")
    if in_cart_of is not None:
        await factories.cart_item(db, loaf, user_id=in_cart_of, quantity=2)
    await db.commit()
    return loaf.id


def browser(app: Quart, sid: str, **extra: str) -> dict[str, str]:
    """What HTMX sends from a page of the session `sid`."""
    return {
        "Cookie": f"{runtime(app).settings.session_cookie_name}={sid}",
        "HX-Request": "true",
        "X-CSRF-Token": sign(secret_key_of(app), sid),
        "X-Request-ID": "trace",
        **FORM,
        **extra,
    }


async def post(
    app: Quart, url: str, headers: dict[str, str], body: str
) -> tuple[int, dict[str, str], bytes]:
    response = await app.test_client().post(url, headers=headers, data=body)
    kept = {name.lower(): value for name, value in response.headers.items()}
    kept.pop("x-request-id")
    return response.status_code, kept, await response.get_data(as_text=False)


async def lines_of(db: AsyncSession, user_id: int) -> list[tuple[int, int]]:
    rows = await db.execute(
        text(
            "SELECT product_id, quantity FROM cart_items"
            " WHERE user_id = :user AND deleted_at IS NULL ORDER BY id"
        ),
        {"user": user_id},
    )
    await db.commit()
    return [(row[0], row[1]) for row in rows]


async def empty_cart(db: AsyncSession) -> None:
    await db.execute(text("DELETE FROM cart_items"))
    await db.commit()


@pytest.mark.parametrize("query", ["", "?next=/bakery/", "?next=https://elsewhere.example/"])
@pytest.mark.parametrize("body", ["quantity=1", "quantity=3&csrf_token=ignored", ""])
async def test_an_add_in_its_lane_answers_and_adds_as_the_view(
    app: Quart, db: AsyncSession, query: str, body: str
) -> None:
    product_id = await a_loaf(db)
    sid = await write_shared_session(app, {"user_id": 41, "user_name": "Ada"})
    url = f"/add/{product_id}/{query}"

    with framework_requests(app) as handled:
        in_lane = await post(app, url, browser(app, sid), body)
    added_in_lane = await lines_of(db, 41)
    await empty_cart(db)
    with without_lanes(app), framework_requests(app) as handled_by_view:
        by_view = await post(app, url, browser(app, sid), body)

    assert (handled, handled_by_view) == ([], [f"/add/{product_id}/"])
    assert in_lane == by_view
    quantity = 3 if "quantity=3" in body else 1
    assert added_in_lane == [(product_id, quantity)] == await lines_of(db, 41)
    status, headers, answer = in_lane
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    page = answer.decode()
    assert "Added " + ("Loaf" if quantity == 1 else "3 of Loaf") + " to your cart." in page
    assert f'data-count="{quantity}"' in page
    back = "/bakery/" if "bakery" in query else "/"
    assert f'hx-post="/add/{product_id}/?next={back}"' in page


async def test_adds_racing_in_their_lanes_all_count(app: Quart, db: AsyncSession) -> None:
    product_id = await a_loaf(db)
    sid = await write_shared_session(app, {"user_id": 41})

    with framework_requests(app) as handled:
        answers = await asyncio.gather(
            *(post(app, f"/add/{product_id}/", browser(app, sid), "quantity=2") for _ in range(8))
        )

    assert handled == []
    assert [status for status, _, _ in answers] == [200] * 8
    assert await lines_of(db, 41) == [(product_id, 16)]


async def test_adds_of_any_other_shape_are_the_frameworks_with_their_body(
    app: Quart, db: AsyncSession
) -> None:
    product_id = await a_loaf(db)
    url = f"/add/{product_id}/"
    signed_in = await write_shared_session(app, {"user_id": 41})
    adopting = await write_shared_session(app, {"user_id": 41, "cart_sid": "anon-cart-9"})
    anonymous = await write_shared_session(app, {"cart_sid": "anon-cart-10"})
    not_htmx = {k: v for k, v in browser(app, signed_in).items() if k != "HX-Request"}
    shapes: dict[str, tuple[str, dict[str, str], int, int]] = {
        # kind: (url, headers, status, quantity the signed-in shopper's line has after)
        "a page's form, without HTMX": (url, not_htmx, 303, 2),
        "boosted": (url, browser(app, signed_in, **{"HX-Boosted": "true"}), 303, 4),
        "another query": (f"{url}?next=/&x=1", browser(app, signed_in), 200, 6),
        # Not a form: no quantity is read, and the add's default is one.
        "JSON": (url, browser(app, signed_in, **{"Content-Type": "application/json"}), 200, 7),
        "a wrong token": (url, browser(app, signed_in, **{"X-CSRF-Token": "0" * 64}), 403, 7),
        "a bearer token": (url, browser(app, signed_in, Authorization="Bearer x"), 200, 9),
        "an anonymous cart to adopt": (url, browser(app, adopting), 200, 11),
        "an anonymous cart": (url, browser(app, anonymous), 200, 11),
        "a new visitor": (url, browser(app, "never-stored-" + "x" * 20), 403, 11),
    }
    for kind, (address, headers, status, quantity) in shapes.items():
        with framework_requests(app) as handled:
            answered, _, _ = await post(app, address, headers, "quantity=2")
        assert handled == [url], kind
        assert answered == status, kind
        assert await lines_of(db, 41) == [(product_id, quantity)], kind


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("quantity=abc", "QUANTITY_NOT_WHOLE"),
        ("quantity=0", "INVALID_QUANTITY"),
        ("quantity=98", "QUANTITY_LIMIT"),
        ("quantity=1", "PRODUCT_UNAVAILABLE"),
    ],
)
async def test_a_refused_add_is_answered_as_the_views_error(
    app: Quart, db: AsyncSession, body: str, code: str
) -> None:
    product_id = await a_loaf(db, in_cart_of=41)
    sid = await write_shared_session(app, {"user_id": 41})
    url = f"/add/{product_id if code != 'PRODUCT_UNAVAILABLE' else 9_000_000}/"

    with framework_requests(app) as handled:
        in_lane = await post(app, url, browser(app, sid), body)
    with without_lanes(app):
        by_view = await post(app, url, browser(app, sid), body)

    assert handled == [url]
    assert in_lane == by_view
    assert in_lane[0] in (400, 404, 409)
    assert code in in_lane[2].decode()
    assert await lines_of(db, 41) == [(product_id, 2)]


async def test_an_add_in_its_lane_is_logged_and_counted_under_its_route(
    json_app: Quart, capsys: pytest.CaptureFixture[str]
) -> None:
    app = json_app
    # Written through this app's own database (the `db` fixture would make another app, and
    # the last app made decides how the process logs).
    async with runtime(app).databases.sessionmaker() as db:
        product_id = await a_loaf(db)
    sid = await write_shared_session(app, {"user_id": 41})
    capsys.readouterr()

    with framework_requests(app) as handled:
        response = await app.test_client().post(
            f"/add/{product_id}/",
            headers={**browser(app, sid), "X-Request-ID": "add-lane-1"},
            data="quantity=1",
        )
    metrics = await app.test_client().get("/metrics", headers=internal_headers(app))
    scrape = await metrics.get_data(as_text=True)

    assert handled == []
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "add-lane-1"
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    logged = [line for line in lines if line.get("request_id") == "add-lane-1"]
    assert [(line["route"], line["path"], line["status"]) for line in logged] == [
        (ADD_RULE, f"/add/{product_id}/", 200)
    ]
    labels = {"route": ADD_RULE, "method": "POST", "status": "200"}
    assert sample(scrape, "http_request_duration_seconds_count", **labels) == 1


def test_the_lane_names_the_views_route(app: Quart) -> None:
    assert [rule.rule for rule in app.url_map.iter_rules("cart.add_to_cart")] == [ADD_RULE]


async def test_an_add_limited_in_its_lane_is_refused_by_the_framework(
    app_config: dict[str, Any], clean_state: None
) -> None:
    from app import create_app

    app = create_app({**app_config, "rate_limit_enabled": True, "rate_limit_writes": "2/minute"})
    async with app.test_app():
        async with runtime(app).databases.sessionmaker() as db:
            product_id = await a_loaf(db)
        sid = await write_shared_session(app, {"user_id": 41})
        with framework_requests(app) as handled:
            answers = [
                await post(app, f"/add/{product_id}/", browser(app, sid), "quantity=1")
                for _ in range(3)
            ]
        async with runtime(app).databases.sessionmaker() as db:
            assert await lines_of(db, 41) == [(product_id, 2)]
    assert [status for status, _, _ in answers] == [200, 200, 429]
    assert [headers["ratelimit-remaining"] for _, headers, _ in answers] == ["1", "0", "0"]
    assert handled == [f"/add/{product_id}/"]
