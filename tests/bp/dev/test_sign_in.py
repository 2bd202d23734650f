"""The development sign-in follows the account app's contract: a new session id at sign-in,
the anonymous cart carried over and adopted, the old id and its CSRF token worth nothing."""

from __future__ import annotations

from typing import Any

from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from models import CartItem
from tests.bp.cart.helpers import badge_counts, text
from tests.support import factories as f
from tests.support.http import cookie_of, read_shared_session, token_in


async def test_signing_in_issues_a_new_session_id_and_keeps_the_cart(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db, "bakery"))
    name = runtime(app).settings.session_cookie_key
    first_page = await text(await client.get("/bakery/"))
    before, old_token = cookie_of(client, name), token_in(first_page)
    added = await client.post(
        f"/add/{product.id}/", form={"csrf_token": old_token, "quantity": "2"}
    )
    assert added.status_code == 303 and before is not None
    carried = (await read_shared_session(app, before) or {}).get("cart_sid")
    assert carried

    signed_in = await client.post("/dev/sign-in", form={"user_id": "1", "csrf_token": old_token})

    after = cookie_of(client, name)
    assert signed_in.status_code == 303
    assert after is not None and after != before
    assert await read_shared_session(app, before) is None
    assert await read_shared_session(app, after) == {
        "user_id": 1,
        "user_name": "Alice Baker",
        "cart_sid": carried,
    }
    # The next page adopts the anonymous cart under the new id.
    overview = await text(await client.get("/"))
    assert "We kept the 2 items from before you signed in." in overview
    assert badge_counts(overview) == [2]
    line = (await db.execute(select(CartItem))).scalar_one()
    await db.refresh(line)
    assert (line.user_id, line.session_id) == (1, None)
    # The token of the old id is refused; the page's new one works.
    refused = await client.post(f"/add/{product.id}/", form={"csrf_token": old_token})
    new_token = token_in(overview)
    accepted = await client.post(f"/add/{product.id}/", form={"csrf_token": new_token})
    assert refused.status_code == 403
    assert accepted.status_code == 303
    assert badge_counts(await text(await client.get("/"))) == [3]


async def test_an_id_fixed_before_sign_in_is_not_signed_in_afterwards(
    app: Quart, client: Any
) -> None:
    # Someone who can set a cookie on the coop's domain gives the victim an id they know.
    name = runtime(app).settings.session_cookie_key
    await client.get("/")
    planted = cookie_of(client, name)
    assert planted is not None
    token = token_in(await text(await client.get("/")))
    await client.post("/dev/sign-in", form={"user_id": "2", "csrf_token": token})

    attacker = app.test_client()
    attacker.set_cookie("localhost", name, planted)
    seen = await text(await attacker.get("/orders/"))

    assert cookie_of(client, name) != planted
    assert "Ben Carter" not in seen
    assert 'href="/dev/sign-in' in seen
