"""GET /internal/cart/summary: the fixed JSON shape, the token, and bad identities."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import factories as f
from tests.support.http import internal_headers

EMPTY = {
    "count": 0,
    "total": "0.00",
    "calendar_count": 0,
    "calendar_total": "0.00",
    "ticket_count": 0,
    "ticket_total": "0.00",
    "grand_total": "0.00",
    "currency": "GBP",
}


async def test_summary_of_a_user_counts_products_bookings_and_tickets(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db)
    await f.cart_item(db, await f.product(db, page, "Loaf", "4.50"), user_id=5, quantity=3)
    await f.cart_item(db, await f.product(db, page, "Rye", "3.80"), user_id=5)
    cal = await f.calendar(db, page)
    await f.booking(db, cal, user_id=5, cost="12.00")
    await f.booking(db, cal, user_id=5, cost="0.50", state="cancelled")
    event = await f.event(db, cal)
    await f.ticket(db, await f.ticket_type(db, event, cost="8.25"), user_id=5)
    await f.ticket(db, await f.ticket_type(db, event, cost=None), user_id=5)
    await f.cart_item(db, await f.product(db, page, "Other", "1.00"), user_id=6)

    response = await client.get("/internal/cart/summary?user_id=5", headers=internal_headers(app))

    assert response.status_code == 200
    assert await response.get_json() == {
        "count": 4,
        "total": "17.30",
        "calendar_count": 1,
        "calendar_total": "12.00",
        "ticket_count": 2,
        "ticket_total": "18.25",
        "grand_total": "47.55",
        "currency": "GBP",
    }


async def test_summary_of_an_anonymous_session(app: Quart, client: Any, db: AsyncSession) -> None:
    page = await f.page(db)
    await f.cart_item(
        db, await f.product(db, page, "Loaf", "4.50"), session_id="abc_DEF-1", quantity=2
    )

    response = await client.get(
        "/internal/cart/summary?session_id=abc_DEF-1", headers=internal_headers(app)
    )
    unknown = await client.get(
        "/internal/cart/summary?session_id=nobody", headers=internal_headers(app)
    )

    body = await response.get_json()
    assert (body["count"], body["total"], body["grand_total"]) == (2, "9.00", "9.00")
    assert await unknown.get_json() == EMPTY


async def test_summary_requires_the_token(client: Any) -> None:
    response = await client.get("/internal/cart/summary?user_id=1")
    assert response.status_code == 401
    assert (await response.get_json())["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "MISSING_IDENTITY"),
        ("user_id=1&session_id=abc", "AMBIGUOUS_IDENTITY"),
        ("user_id=", "INVALID_USER_ID"),
        ("user_id=abc", "INVALID_USER_ID"),
        ("user_id=0", "INVALID_USER_ID"),
        ("user_id=-1", "INVALID_USER_ID"),
        ("user_id=1.5", "INVALID_USER_ID"),
        ("user_id=9223372036854775808", "INVALID_USER_ID"),
        ("user_id=99999999999999999999999999", "INVALID_USER_ID"),
        ("session_id=", "INVALID_SESSION_ID"),
        ("session_id=" + "a" * 65, "INVALID_SESSION_ID"),
        ("session_id=a%20b", "INVALID_SESSION_ID"),
        ("session_id=%00", "INVALID_SESSION_ID"),
    ],
)
async def test_summary_refuses_a_missing_or_malformed_identity(
    app: Quart, client: Any, query: str, code: str
) -> None:
    response = await client.get(f"/internal/cart/summary?{query}", headers=internal_headers(app))
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["code"] == code and error["message"]
