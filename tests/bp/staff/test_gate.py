"""Who is staff is the account domain's answer, asked on every request (tests/test_route_policy.py
proves that everyone else gets a 404 on every staff route)."""

from __future__ import annotations

from quart import Quart

from bp.runtime import runtime
from tests.support import factories as f
from tests.support.http import sign_in

STAFF = 30


async def test_staff_is_asked_on_every_request(app: Quart) -> None:
    async with runtime(app).databases.sessionmaker() as db:
        member = await f.user(db, STAFF, is_staff=True)
        await db.commit()
        client = app.test_client()
        await sign_in(app, client, STAFF)
        assert (await client.get("/staff/orders/")).status_code == 200
        member.is_staff = False
        await db.commit()
        assert (await client.get("/staff/orders/")).status_code == 404


async def test_a_user_the_account_domain_does_not_know_is_not_staff(app: Quart) -> None:
    client = app.test_client()
    await sign_in(app, client, 12345)
    assert (await client.get("/staff/")).status_code == 404
