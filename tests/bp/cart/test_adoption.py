"""Signing in keeps the anonymous cart: on the next request, or when the account app asks."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import pytest
from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.sessions import session_key
from models import CalendarEntry, Order, Ticket
from tests.bp.cart.helpers import anonymous_cart, badge_counts, lines_of, text
from tests.support import factories as f
from tests.support.http import internal_headers, read_shared_session

SID = "anon-cart-1"


async def sign_in_keeping_session(app: Quart, session_id: str, user_id: int) -> None:
    """What the account app does on sign-in: the same session gains the user."""
    data = await read_shared_session(app, session_id) or {}
    data["user_id"] = user_id
    await runtime(app).redis.auth.set(session_key(session_id), json.dumps(data), ex=3600)


async def anonymous_basket(db: AsyncSession, sid: str = SID) -> dict[str, Any]:
    """Two loaves and a rye bread, a booking, a ticket and an unpaid order, all anonymous."""
    page = await f.page(db, "bakery", "The Bakery")
    loaf = await f.product(db, page, "Sourdough loaf", "4.50")
    rye = await f.product(db, page, "Seeded rye", "3.80")
    await f.cart_item(db, loaf, session_id=sid, quantity=2)
    await f.cart_item(db, rye, session_id=sid, quantity=1)
    cal = await f.calendar(db, page)
    entry = await f.booking(db, cal, session_id=sid)
    event = await f.event(db, cal)
    ticket = Ticket(
        entry_id=event.id,
        ticket_type_id=(await f.ticket_type(db, event)).id,
        session_id=sid,
        state="pending",
        code=secrets.token_hex(8),
    )
    db.add(ticket)
    await db.commit()
    order = await f.order(db, session_id=sid)
    return {"loaf": loaf, "rye": rye, "entry": entry, "ticket": ticket, "order": order}


async def test_the_sign_in_message_says_what_became_of_each_line(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    basket = await anonymous_basket(db)
    await f.cart_item(db, basket["loaf"], user_id=1, quantity=1)
    session_id = await anonymous_cart(app, client)
    await sign_in_keeping_session(app, session_id, 1)

    html = await text(await client.get("/"))

    assert "Added to your cart: Seeded rye (1)." in html
    assert (
        "Sourdough loaf was already in your cart: the 2 from before you signed in were added "
        "to that line, which now has 3."
    ) in html


async def owners(db: AsyncSession, model: Any, row_id: int) -> tuple[Any, Any]:
    row = (
        await db.execute(select(model.user_id, model.session_id).where(model.id == row_id))
    ).one()
    return row[0], row[1]


async def test_signing_in_adopts_everything_and_says_so(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    basket = await anonymous_basket(db)
    await f.cart_item(db, basket["loaf"], user_id=1, quantity=1)
    session_id = await anonymous_cart(app, client)
    await sign_in_keeping_session(app, session_id, 1)

    html = await text(await client.get("/"))

    assert await lines_of(db, user_id=1) == {basket["loaf"].id: 3, basket["rye"].id: 1}
    assert await lines_of(db, session_id=SID) == {}
    assert await owners(db, CalendarEntry, basket["entry"].id) == (1, None)
    assert await owners(db, Ticket, basket["ticket"].id) == (1, None)
    assert (await owners(db, Order, basket["order"].id))[0] == 1
    assert "We kept the 5 items from before you signed in." in html
    assert badge_counts(html) == [6]
    stored = await read_shared_session(app, session_id)
    assert stored is not None and "cart_sid" not in stored and stored["user_id"] == 1
    # Told once only.
    assert "We kept" not in await text(await client.get("/"))


async def test_merged_quantities_stop_at_the_limit_and_the_shopper_is_told(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db)
    loaf = await f.product(db, page, "Sourdough loaf")
    await f.cart_item(db, loaf, user_id=1, quantity=97)
    await f.cart_item(db, loaf, session_id=SID, quantity=5)
    session_id = await anonymous_cart(app, client)
    await sign_in_keeping_session(app, session_id, 1)

    html = await text(await client.get(f"/{page.slug}/"))

    assert await lines_of(db, user_id=1) == {loaf.id: 99}
    assert "You can have at most 99 of Sourdough loaf in your cart, so we kept 99." in html


async def test_two_requests_at_sign_in_adopt_once(app: Quart, db: AsyncSession) -> None:
    basket = await anonymous_basket(db)
    clients = [app.test_client() for _ in range(4)]
    session_id = await anonymous_cart(app, clients[0])
    for client in clients[1:]:
        client.set_cookie("localhost", runtime(app).settings.session_cookie_name, session_id)
    await sign_in_keeping_session(app, session_id, 1)

    responses = await asyncio.gather(*(client.get("/") for client in clients))

    assert {r.status_code for r in responses} == {200}
    assert await lines_of(db, user_id=1) == {basket["loaf"].id: 2, basket["rye"].id: 1}
    kept = [html for html in [await text(r) for r in responses] if "We kept" in html]
    assert len(kept) == 1


async def test_internal_adopt_is_idempotent(app: Quart, client: Any, db: AsyncSession) -> None:
    basket = await anonymous_basket(db)
    body = {"user_id": 1, "session_id": SID}

    first = await client.post("/internal/cart/adopt", json=body, headers=internal_headers(app))
    second = await client.post("/internal/cart/adopt", json=body, headers=internal_headers(app))

    assert first.status_code == 200
    assert await first.get_json() == {"items": 3, "entries": 1, "tickets": 1, "orders": 1}
    assert await second.get_json() == {"items": 0, "entries": 0, "tickets": 0, "orders": 0}
    assert await lines_of(db, user_id=1) == {basket["loaf"].id: 2, basket["rye"].id: 1}


async def test_concurrent_internal_adoptions_give_the_same_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    basket = await anonymous_basket(db)
    await f.cart_item(db, basket["loaf"], user_id=1, quantity=1)
    body = {"user_id": 1, "session_id": SID}

    responses = await asyncio.gather(
        *(
            app.test_client().post("/internal/cart/adopt", json=body, headers=internal_headers(app))
            for _ in range(5)
        )
    )

    results = [await r.get_json() for r in responses]
    assert sorted(r["items"] for r in results) == [0, 0, 0, 0, 3]
    assert await lines_of(db, user_id=1) == {basket["loaf"].id: 3, basket["rye"].id: 1}


async def test_adoption_never_takes_another_users_rows(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db)
    loaf = await f.product(db, page)
    await f.cart_item(db, loaf, user_id=2, quantity=4)
    order = await f.order(db, user_id=2, session_id=SID)

    response = await client.post(
        "/internal/cart/adopt",
        json={"user_id": 1, "session_id": SID},
        headers=internal_headers(app),
    )

    assert await response.get_json() == {"items": 0, "entries": 0, "tickets": 0, "orders": 0}
    assert await lines_of(db, user_id=2) == {loaf.id: 4}
    assert (await owners(db, Order, order.id))[0] == 2


async def test_adopt_requires_the_internal_token(client: Any) -> None:
    response = await client.post("/internal/cart/adopt", json={"user_id": 1, "session_id": SID})
    wrong = await client.post(
        "/internal/cart/adopt",
        json={"user_id": 1, "session_id": SID},
        headers={"Authorization": "Bearer nope"},
    )
    assert response.status_code == wrong.status_code == 401
    assert (await response.get_json())["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"session_id": SID}, "MISSING_IDENTITY"),
        ({"user_id": 1}, "MISSING_IDENTITY"),
        ({"user_id": True, "session_id": SID}, "INVALID_USER_ID"),
        ({"user_id": "1", "session_id": SID}, "INVALID_USER_ID"),
        ({"user_id": 0, "session_id": SID}, "INVALID_USER_ID"),
        ({"user_id": -3, "session_id": SID}, "INVALID_USER_ID"),
        # (1.0 is the integer 1 in JSON, as the document's schema reads it: accepted.)
        ({"user_id": 1.5, "session_id": SID}, "INVALID_USER_ID"),
        ({"user_id": 2**63, "session_id": SID}, "INVALID_USER_ID"),
        ({"user_id": 1, "session_id": ""}, "INVALID_SESSION_ID"),
        ({"user_id": 1, "session_id": "x" * 65}, "INVALID_SESSION_ID"),
        ({"user_id": 1, "session_id": "a b"}, "INVALID_SESSION_ID"),
        ({"user_id": 1, "session_id": 12}, "INVALID_SESSION_ID"),
        ([1, SID], "INVALID_JSON"),
    ],
)
async def test_adopt_refuses_malformed_bodies(
    app: Quart, client: Any, body: Any, code: str
) -> None:
    response = await client.post("/internal/cart/adopt", json=body, headers=internal_headers(app))
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["code"] == code and error["message"]


async def test_adopt_refuses_a_body_that_is_not_json(app: Quart, client: Any) -> None:
    response = await client.post(
        "/internal/cart/adopt",
        data="user_id=1&session_id=abc",
        headers={**internal_headers(app), "Content-Type": "application/x-www-form-urlencoded"},
    )
    broken = await client.post(
        "/internal/cart/adopt",
        data="{not json",
        headers={**internal_headers(app), "Content-Type": "application/json"},
    )
    assert response.status_code == broken.status_code == 400
    assert (await broken.get_json())["error"]["code"] == "INVALID_JSON"
