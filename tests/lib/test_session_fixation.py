"""The cart never stores a session id it did not mint (nor one the account app did not write)."""

from __future__ import annotations

from typing import Any

from quart import Quart
from sqlalchemy.ext.asyncio import AsyncSession

from bp.runtime import runtime
from lib.sessions import session_key
from tests.bp.cart.helpers import lines_of
from tests.support import factories as f
from tests.support.http import (
    TEST_HOST,
    cookie_of,
    read_shared_session,
    settings_of,
    token_from_page,
    write_shared_session,
)

CHOSEN = "attacker-chosen-session-id"


def cookie_name(app: Quart) -> str:
    return settings_of(app).session_cookie_name


async def stored_session_keys(app: Quart) -> list[str]:
    return sorted(str(key) for key in await runtime(app).redis.auth.keys("session:*"))


async def test_a_session_id_the_client_chose_is_not_stored(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    client.set_cookie(TEST_HOST, cookie_name(app), CHOSEN)
    token = await token_from_page(client)

    response = await client.post(f"/add/{product.id}/", form={"csrf_token": token})

    assert response.status_code == 303
    assert await runtime(app).redis.auth.exists(session_key(CHOSEN)) == 0
    minted = cookie_of(client, cookie_name(app))
    assert minted is not None and minted != CHOSEN
    stored = await read_shared_session(app, minted)
    assert stored is not None and set(stored) == {"cart_sid"}
    assert await lines_of(db, session_id=stored["cart_sid"]) == {product.id: 1}


async def test_a_planted_session_cookie_is_never_written(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    # A sibling app (or an XSS on it) plants a session id in the victim's browser after the
    # victim opened a page: the cart must not start using the planted id.
    product = await f.product(db, await f.page(db))
    token = await token_from_page(client)
    client.set_cookie(TEST_HOST, cookie_name(app), CHOSEN)

    await client.post(f"/add/{product.id}/", form={"csrf_token": token})

    assert await runtime(app).redis.auth.exists(session_key(CHOSEN)) == 0


async def test_a_forged_signature_is_not_accepted(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    await token_from_page(client)
    minted = cookie_of(client, cookie_name(app))
    assert minted is not None
    forged = minted[:-1] + ("A" if minted[-1] != "A" else "B")
    client.set_cookie(TEST_HOST, cookie_name(app), forged)
    token = await token_from_page(client)

    await client.post(f"/add/{product.id}/", form={"csrf_token": token})

    assert await runtime(app).redis.auth.exists(session_key(forged)) == 0
    assert cookie_of(client, cookie_name(app)) != forged


async def test_a_page_view_hands_out_a_session_without_writing_redis(
    app: Quart, client: Any
) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    minted = cookie_of(client, cookie_name(app))
    assert minted is not None
    assert await stored_session_keys(app) == []
    cookies = response.headers.getlist("Set-Cookie")
    header = next(h for h in cookies if h.startswith(cookie_name(app)))
    assert "HttpOnly" in header and "SameSite=Lax" in header


async def test_the_cart_s_own_id_is_stored_on_the_first_write(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    token = await token_from_page(client)
    minted = cookie_of(client, cookie_name(app))

    response = await client.post(f"/add/{product.id}/", form={"csrf_token": token})

    assert response.status_code == 303
    assert cookie_of(client, cookie_name(app)) == minted
    assert await stored_session_keys(app) == [session_key(str(minted))]


async def test_a_session_the_account_app_wrote_is_kept_with_what_it_holds(
    app: Quart, client: Any, db: AsyncSession
) -> None:
    product = await f.product(db, await f.page(db))
    sid = await write_shared_session(app, {"blog_theme": "dark"})
    client.set_cookie(TEST_HOST, cookie_name(app), sid)
    token = await token_from_page(client)

    response = await client.post(f"/add/{product.id}/", form={"csrf_token": token})

    assert response.status_code == 303
    assert cookie_of(client, cookie_name(app)) == sid
    stored = await read_shared_session(app, sid)
    assert stored is not None and stored["blog_theme"] == "dark"
    assert await lines_of(db, session_id=stored["cart_sid"]) == {product.id: 1}
