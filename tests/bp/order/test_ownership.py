"""An order is its owner's alone: another identity gets a 404 on its page, list, pay and recheck.

The adopted order: an anonymous browser checks out, signs in (the order becomes the user's),
signs out, and its next anonymous cart carries the same cart id again (a new cart's id is
random, so the test puts the old one back, as anyone who learnt it could). The order belongs to
the user now, so that anonymous cart must not reach it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.sessions import session_key
from models import Order
from tests.bp.cart.helpers import visit_as
from tests.support import factories as f
from tests.support.checkout import fresh, only_order, payments_config, text
from tests.support.http import (
    TEST_HOST,
    csrf_token,
    read_shared_session,
    settings_of,
    write_shared_session,
)


@pytest.fixture
def app_config(app_config: dict[str, Any], sumup_standin: str) -> dict[str, Any]:
    return payments_config(app_config, sumup_standin)


async def change_shared_session(app: Quart, session_id: str, **changes: Any) -> dict[str, Any]:
    """What the account app does at sign-in and sign-out: the same session, `user_id` changed."""
    data = await read_shared_session(app, session_id) or {}
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return await _store(app, session_id, data)


async def _store(app: Quart, session_id: str, data: dict[str, Any]) -> dict[str, Any]:
    await runtime(app).redis.auth.set(session_key(session_id), json.dumps(data), ex=3600)
    return data


async def test_an_adopted_order_is_not_the_next_anonymous_carts(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db, "bakery", "The Bakery")
    loaf = await f.product(db, page, "Sourdough loaf", "4.50")
    session_id = await write_shared_session(app, {})
    client.set_cookie(TEST_HOST, settings_of(app).session_cookie_name, session_id)
    # One session for the whole visit, so one CSRF token.
    token = csrf_token(app, client)

    added = await client.post(f"/add/{loaf.id}/", form={"csrf_token": token})
    checked_out = await client.post(
        "/bakery/checkout/", form={"csrf_token": token, "email": "guest@example.org"}
    )
    assert (added.status_code, checked_out.status_code) == (303, 303), await text(checked_out)
    order = await only_order(db)
    first_cart = order.session_id
    assert first_cart is not None and order.user_id is None

    await change_shared_session(app, session_id, user_id=7)
    assert (await client.get("/")).status_code == 200
    assert (await fresh(db, Order, order.id)).user_id == 7
    await change_shared_session(app, session_id, user_id=None, cart_sid=first_cart)
    again = await client.post(f"/add/{loaf.id}/", form={"csrf_token": token})
    assert again.status_code == 303
    assert (await read_shared_session(app, session_id) or {}).get("cart_sid") == first_cart

    listed = await client.get("/orders/")
    page_of_order = await client.get(f"/orders/{order.id}/")

    assert listed.status_code == 200
    assert f'data-order-id="{order.id}"' not in await text(listed)
    assert page_of_order.status_code == 404


OWNERS: dict[str, dict[str, Any]] = {
    "a user's": {"user_id": 2},
    "an anonymous cart's": {"session_id": "their-cart"},
    "an adopted": {"user_id": 2, "session_id": "my-cart"},
}


@pytest.mark.parametrize("who", ["user", "anonymous"])
@pytest.mark.parametrize("owner", list(OWNERS))
async def test_another_identitys_order_is_not_found_anywhere(
    app: Quart, client: Any, db: AsyncSession, owner: str, who: str
) -> None:
    order = await f.order(db, status="failed", **OWNERS[owner])
    await visit_as(app, client, who)
    token = csrf_token(app, client)

    page = await client.get(f"/orders/{order.id}/")
    listed = await client.get("/orders/")
    paid = await client.post(f"/orders/{order.id}/pay/", form={"csrf_token": token})
    checked = await client.post(f"/orders/{order.id}/recheck/", form={"csrf_token": token})

    assert (page.status_code, paid.status_code, checked.status_code) == (404, 404, 404)
    assert f'data-order-id="{order.id}"' not in await text(listed)
    assert (await fresh(db, Order, order.id)).status == "failed"
