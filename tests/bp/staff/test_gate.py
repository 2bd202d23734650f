"""The staff console exists only for the account domain's staff: everyone else gets the
answer a path that does not exist gets, on every staff route, GET or POST."""

from __future__ import annotations

import re
from typing import Any

from quart import Quart

from bp.runtime import runtime
from tests.support import factories as f
from tests.support.http import csrf_token, sign_in
from tests.test_route_policy import sample_path

TOKEN = re.compile(r"[0-9a-f]{64}")
UNKNOWN = "/staff/no-such-thing/"
STAFF = 30
SHOPPER = 31


def without_tokens(html: str) -> str:
    """The page without its CSRF token (each browser session has its own); the caller takes
    out the path, which the page's sign-in link names."""
    return TOKEN.sub("", html)


def staff_rules(app: Quart) -> list[Any]:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/staff/")]


async def test_the_staff_console_answers_only_staff(app: Quart) -> None:
    async with runtime(app).databases.sessionmaker() as db:
        await f.user(db, STAFF, is_staff=True)
        await f.user(db, SHOPPER)
        await db.commit()
    rules = staff_rules(app)
    assert len(rules) >= 15
    for who in (None, SHOPPER):
        client = app.test_client()
        if who is not None:
            await sign_in(app, client, who)
        unknown = await client.get(UNKNOWN)
        assert unknown.status_code == 404
        expected = without_tokens(await unknown.get_data(as_text=True)).replace(UNKNOWN, "")
        for rule in rules:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                path = sample_path(app, rule, method)
                if method == "GET":
                    response = await client.get(path)
                else:
                    # With a valid token and without: neither tells that the route exists.
                    token = csrf_token(app, client)
                    response = await client.post(path, form={"csrf_token": token})
                    bare = await client.post(path)
                    assert bare.status_code == 404, (who, method, path)
                assert response.status_code == 404, (who, method, path)
                body = without_tokens(await response.get_data(as_text=True)).replace(path, "")
                assert body == expected, (who, path)
    staff = app.test_client()
    await sign_in(app, staff, STAFF)
    assert (await staff.get("/staff/orders/")).status_code == 200


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
