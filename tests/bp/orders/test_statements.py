"""The order list costs a fixed number of statements, however many orders and lines it shows,
and opens no transaction: it only reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from tests.support import factories
from tests.support.http import sign_in, write_shared_session
from tests.support.statements import counting, transactions_begun

PAGE_SIZE = 5
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}
# The page of orders with their lines and the badge's summary: one statement.
PAGE_STATEMENTS = 1
# The HTMX list: the page of orders alone.
LIST_STATEMENTS = 1


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "orders_page_size": PAGE_SIZE}


async def place(db: AsyncSession, count: int, *, lines: int, **owner: Any) -> None:
    for day in range(count):
        await factories.order(
            db,
            status="paid",
            items=[(f"Loaf {n}", 1 + n, "2.00") for n in range(lines)],
            created_at=START + timedelta(days=day),
            **owner,
        )


async def test_the_list_costs_the_same_statements_however_long(
    app: Quart, db: AsyncSession
) -> None:
    await place(db, 1, lines=1, user_id=1)
    await place(db, PAGE_SIZE + 3, lines=6, user_id=2)
    short, long = app.test_client(), app.test_client()
    await sign_in(app, short, 1, user_name="Alice")
    await sign_in(app, long, 2, user_name="Ben")

    for headers, expected in (({}, PAGE_STATEMENTS), (HTMX, LIST_STATEMENTS)):
        with counting(app) as one, transactions_begun(app) as begun:
            first = await short.get("/orders/", headers=headers)
        with counting(app) as many, transactions_begun(app) as begun_too:
            second = await long.get("/orders/?page=2&q=loaf&status=paid", headers=headers)

        assert first.status_code == second.status_code == 200
        assert (await first.get_data(as_text=True)).count("data-order-id=") == 1
        assert (await second.get_data(as_text=True)).count("data-order-id=") == 3
        assert len(one) == len(many) == expected
        assert begun == begun_too == []


async def test_an_anonymous_list_opens_no_transaction(app: Quart, db: AsyncSession) -> None:
    await place(db, 2, lines=2, session_id="cart-abc")
    client = app.test_client()
    sid = await write_shared_session(app, {"cart_sid": "cart-abc"})
    client.set_cookie("localhost", runtime(app).settings.session_cookie_name, sid)

    with counting(app) as statements, transactions_begun(app) as begun:
        response = await client.get("/orders/")

    assert response.status_code == 200
    assert (await response.get_data(as_text=True)).count("data-order-id=") == 2
    assert begun == []
    assert len(statements) == PAGE_STATEMENTS


def badge_count(page: str) -> int:
    found = re.search(r'id="cart-mini"[^>]*data-count="(\d+)"', page)
    assert found is not None, "the page shows the cart badge"
    return int(found.group(1))


@pytest.mark.parametrize(
    ("orders", "path"),
    [(3, "/orders/"), (0, "/orders/"), (3, "/orders/?page=9"), (3, "/orders/?q=nothing-like")],
    ids=["with-orders", "no-orders", "past-the-end", "nothing-found"],
)
async def test_the_badge_read_with_the_list_counts_the_whole_cart(
    app: Quart, db: AsyncSession, orders: int, path: str
) -> None:
    shop = await factories.page(db)
    loaf = await factories.product(db, shop, "Loaf", "3.00")
    jam = await factories.product(db, shop, "Jam", "2.50")
    await factories.cart_item(db, loaf, user_id=7, quantity=2)
    await factories.cart_item(db, jam, user_id=7, quantity=1)
    # Another shopper's cart and a removed line are not counted.
    await factories.cart_item(db, loaf, user_id=8, quantity=5)
    honey = await factories.product(db, shop, "Honey", "6.00")
    removed = await factories.cart_item(db, honey, user_id=7, quantity=4)
    removed.deleted_at = START
    workshop = await factories.calendar(db, shop)
    await factories.booking(db, workshop, user_id=7)
    kinds = await factories.ticket_type(db, await factories.event(db, workshop))
    await factories.ticket(db, kinds, user_id=7)
    await place(db, orders, lines=2, user_id=7)
    await db.commit()
    client = app.test_client()
    await sign_in(app, client, 7, user_name="Alice")

    with counting(app) as statements:
        response = await client.get(path)
    badge = await client.get("/internal/fragments/cart-mini")

    assert response.status_code == 200
    page = await response.get_data(as_text=True)
    # 3 loaves and jars, 1 booking, 1 ticket: what the badge alone shows.
    assert badge_count(page) == badge_count(await badge.get_data(as_text=True)) == 5
    assert page.count("data-order-id=") == (orders if path == "/orders/" else 0)
    assert len(statements) == PAGE_STATEMENTS
