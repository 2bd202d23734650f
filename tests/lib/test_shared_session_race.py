"""A cart write never erases what the account app writes in the shared session meanwhile.

The account app is played by another Redis client (its own connections) that signs shoppers in
as a well-behaved app does: it changes only its own keys, in a WATCH/MULTI transaction.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from quart import Quart
from redis.asyncio import Redis
from redis.exceptions import WatchError
from sqlalchemy.ext.asyncio import AsyncSession

from lib.redis import url_with_db
from lib.sessions import session_key
from tests.bp.cart.helpers import badge_counts, text
from tests.conftest import TEST_AUTH_DB, redis_url
from tests.support import factories as f
from tests.support.http import TEST_HOST, read_shared_session, settings_of, token_from_page
from tests.support.http import write_shared_session as account_app_writes

# At most the app's pool in tests (5 connections, 5 overflow): every add holds one while blocked.
SHOPPERS = 8


@pytest.fixture
async def account_app() -> AsyncIterator[Redis]:
    """The account app's own Redis client on the shared sign-in index."""
    client = Redis.from_url(url_with_db(redis_url(), TEST_AUTH_DB), decode_responses=True)
    yield client
    await client.aclose()


async def sign_in_as_the_account_app(account: Redis, sid: str, user_id: int) -> None:
    """Set `user_id` in the session, keeping every other key (WATCH/MULTI, retried)."""
    key = session_key(sid)
    async with account.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                data = json.loads(await pipe.get(key) or "{}")
                data["user_id"] = user_id
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.set(key, json.dumps(data), keepttl=True)
                await pipe.execute()
                return
            except WatchError:
                continue


async def shoppers_with_sessions(app: Quart, count: int) -> list[tuple[Any, str, str]]:
    """Browsers the account app already knows (an anonymous session), each with its token."""
    shoppers = []
    for _ in range(count):
        client = app.test_client()
        sid = await account_app_writes(app, {"visits": 1})
        client.set_cookie(TEST_HOST, settings_of(app).session_cookie_name, sid)
        shoppers.append((client, sid, await token_from_page(client)))
    return shoppers


async def lock_waiters(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            )
        )
    finally:
        await connection.close()


async def test_a_sign_in_during_a_cart_write_is_kept(
    app: Quart, db: AsyncSession, database_url: str, account_app: Redis
) -> None:
    product = await f.product(db, await f.page(db))
    await db.commit()
    shoppers = await shoppers_with_sessions(app, SHOPPERS)
    # Hold every add in the middle of its request: the cart has read the session, and its
    # insert waits for this lock while the account app signs the shoppers in.
    blocker = await asyncpg.connect(database_url)
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE cart_items IN SHARE MODE")
    adds = [
        asyncio.create_task(client.post(f"/add/{product.id}/", form={"csrf_token": token}))
        for client, _, token in shoppers
    ]
    try:
        for _ in range(200):
            if await lock_waiters(database_url) >= SHOPPERS:
                break
            await asyncio.sleep(0.05)
        assert await lock_waiters(database_url) >= SHOPPERS
        await asyncio.gather(
            *(
                sign_in_as_the_account_app(account_app, sid, user_id)
                for user_id, (_, sid, _) in enumerate(shoppers, start=100)
            )
        )
    finally:
        await transaction.rollback()
        await blocker.close()
    answers = await asyncio.gather(*adds)

    assert [a.status_code for a in answers] == [303] * SHOPPERS
    for user_id, (client, sid, _) in enumerate(shoppers, start=100):
        stored = await read_shared_session(app, sid)
        assert stored is not None
        assert stored.get("user_id") == user_id, stored
        assert stored.get("visits") == 1
        # Signed in, the shopper finds the item added just before: it was adopted.
        page = await text(await client.get("/"))
        assert badge_counts(page)[0] == 1


async def test_cart_writes_and_sign_ins_racing_freely_lose_nothing(
    app: Quart, db: AsyncSession, account_app: Redis
) -> None:
    product = await f.product(db, await f.page(db))
    await db.commit()
    shoppers = await shoppers_with_sessions(app, 24)
    chance = random.Random(9)

    async def sign_in_later(sid: str, user_id: int) -> None:
        await asyncio.sleep(chance.uniform(0, 0.05))
        await sign_in_as_the_account_app(account_app, sid, user_id)

    await asyncio.gather(
        *(
            client.post(f"/add/{product.id}/", form={"csrf_token": token})
            for client, _, token in shoppers
        ),
        *(sign_in_later(sid, user_id) for user_id, (_, sid, _) in enumerate(shoppers, start=200)),
    )

    for user_id, (_, sid, _) in enumerate(shoppers, start=200):
        stored = await read_shared_session(app, sid)
        assert stored is not None and stored.get("user_id") == user_id, stored
        assert stored.get("visits") == 1
