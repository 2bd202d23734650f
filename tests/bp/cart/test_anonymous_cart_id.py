"""The anonymous cart's id: random, kept in the session, never derived from a cookie's value."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.sessions import session_key
from tests.bp.cart.helpers import text
from tests.support import factories as f
from tests.support.http import TEST_HOST, cookie_of, settings_of, token_from_page

PLANTED = "planted-by-a-sibling-app"
ANONYMOUS_TTL = 120


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "session_anonymous_ttl_seconds": ANONYMOUS_TTL}


async def test_browsers_sharing_planted_cookies_still_get_separate_carts(
    app: Quart, db: AsyncSession
) -> None:
    page = await f.page(db)
    bread, buns = await f.product(db, page, "Bread"), await f.product(db, page, "Buns")
    victim, attacker = app.test_client(), app.test_client()
    for client in (victim, attacker):
        client.set_cookie(TEST_HOST, "cart_csrf", PLANTED)
        client.set_cookie(TEST_HOST, "__Host-cart_csrf", PLANTED)

    await victim.post(f"/add/{bread.id}/", form={"csrf_token": await token_from_page(victim)})
    await attacker.post(f"/add/{buns.id}/", form={"csrf_token": await token_from_page(attacker)})

    seen_by_attacker = await text(await attacker.get(f"/{page.slug}/"))
    assert "Buns" in seen_by_attacker
    assert "Bread" not in seen_by_attacker


async def ttl_of_session(app: Quart, client: Any) -> int:
    sid = cookie_of(client, settings_of(app).session_cookie_name)
    assert sid is not None
    return int(await runtime(app).redis.auth.ttl(session_key(sid)))


async def test_a_session_made_for_a_cart_that_stays_empty_lives_briefly(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    token = await token_from_page(client)

    response = await client.post("/add/999999/", form={"csrf_token": token})

    assert response.status_code == 404
    ttl = await ttl_of_session(app, client)
    # Gone already (never stored), or stored for the short anonymous lifetime only.
    assert ttl == -2 or 0 < ttl <= ANONYMOUS_TTL


async def test_a_session_whose_cart_holds_something_lives_the_normal_time(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    await client.post("/add/999999/", form={"csrf_token": await token_from_page(client)})

    await client.post(f"/add/{product.id}/", form={"csrf_token": await token_from_page(client)})

    ttl = await ttl_of_session(app, client)
    assert ttl > settings_of(app).session_ttl_seconds - 60
