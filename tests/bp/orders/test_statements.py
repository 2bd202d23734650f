"""The order list costs a fixed number of statements, however many orders and lines it shows,
and opens no transaction: it only reads."""

from __future__ import annotations

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
# The page of orders with their lines (one statement), and the badge's summary.
PAGE_STATEMENTS = 2
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
