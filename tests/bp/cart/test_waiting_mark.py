"""A page asks Redis for waiting notices and refused values only when something can be
waiting: a request that leaves them marks the browser, and the page that shows them clears
the mark."""

from __future__ import annotations

from typing import Any

from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.cart.services.notices import push_notices
from bp.cart.waiting_mark import COOKIE_NAME
from bp.runtime import runtime
from tests.bp.cart.helpers import form_with_token, text
from tests.support import factories as f
from tests.support.http import TEST_HOST, cookie_of, sign_in


async def test_what_a_post_left_is_shown_once_and_the_mark_cleared(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    page = await f.page(db, "bakery", "The Bakery")
    item = await f.cart_item(db, await f.product(db, page), user_id=1, quantity=2)
    await sign_in(app, client, 1)

    refused = await client.post(
        f"/items/{item.id}/quantity/?next=/bakery/",
        form=form_with_token(app, client, quantity="0.5"),
    )
    marked = cookie_of(client, COOKIE_NAME)
    first = await text(await client.get("/bakery/"))
    second = await text(await client.get("/bakery/"))

    assert refused.status_code == 303
    assert marked == "1"
    assert 'data-testid="field-error"' in first
    assert cookie_of(client, COOKIE_NAME) is None
    assert 'data-testid="field-error"' not in second


async def test_a_browser_without_the_mark_is_not_looked_up(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    await f.page(db, "bakery", "The Bakery")
    shared_sid = await sign_in(app, client, 1)
    # Left without the mark (as only the cart's own requests leave them, this is not done):
    # a page does not look, so it waits in Redis until a marked page reads it.
    await push_notices(runtime(app).redis.cart, session_sid=shared_sid, messages=["Unseen."])

    unmarked = await text(await client.get("/bakery/"))
    client.set_cookie(TEST_HOST, COOKIE_NAME, "1")
    marked = await text(await client.get("/bakery/"))

    assert "Unseen." not in unmarked
    assert "Unseen." in marked
