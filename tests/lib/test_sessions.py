"""The session is shared with the account app through Redis index 15 (here the test auth index)."""

from __future__ import annotations

import json
from typing import Any

from quart import Quart

from bp.runtime import runtime
from lib.sessions import session_key
from tests.support.http import read_shared_session, sign_in, write_shared_session


async def test_a_session_written_by_the_account_app_signs_the_shopper_in_here(
    app_config: dict[str, Any], clean_state: None
) -> None:
    from app import create_app

    app = create_app({**app_config, "app_env": "development"})
    async with app.test_app():
        client = app.test_client()
        await sign_in(app, client, 7, user_name="Dana Lee")
        page = await (await client.get("/dev/sign-in")).get_data(as_text=True)
    assert "Dana Lee" in page
    assert "Sign out" in page


async def test_the_session_lives_in_the_configured_auth_index_not_the_cart_index(
    app_config: dict[str, Any], clean_state: None
) -> None:
    from app import create_app

    app = create_app({**app_config, "app_env": "development"})
    async with app.test_app():
        client = app.test_client()
        page = await client.get("/dev/sign-in")
        token = _form_token(await page.get_data(as_text=True))
        response = await client.post("/dev/sign-in", form={"user_id": "1", "csrf_token": token})
        assert response.status_code == 303
        cookie = _cookie(response, runtime(app).settings.session_cookie_name)
        stored = await read_shared_session(app, cookie)
        in_cart_index = await runtime(app).redis.cart.get(session_key(cookie))
    assert stored == {"user_id": 1, "user_name": "Alice Baker"}
    assert in_cart_index is None


async def test_the_cookie_carries_the_configured_name_and_domain(
    app_config: dict[str, Any], clean_state: None
) -> None:
    from app import create_app

    config = {
        **app_config,
        "app_env": "development",
        "session_cookie_name": "rose_sso",
        "session_cookie_domain": ".rose-ash.test",
    }
    app = create_app(config)
    async with app.test_app():
        client = app.test_client()
        token = _form_token(await (await client.get("/dev/sign-in")).get_data(as_text=True))
        response = await client.post("/dev/sign-in", form={"user_id": "2", "csrf_token": token})
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("rose_sso="))
    assert "Domain=rose-ash.test" in header or "Domain=.rose-ash.test" in header
    assert "HttpOnly" in header and "SameSite=Lax" in header


async def test_signing_out_keeps_what_other_apps_stored_in_the_session(
    app_config: dict[str, Any], clean_state: None
) -> None:
    from app import create_app

    app = create_app({**app_config, "app_env": "development"})
    async with app.test_app():
        client = app.test_client()
        sid = await sign_in(app, client, 3, blog_theme="dark")
        token = _form_token(await (await client.get("/dev/sign-in")).get_data(as_text=True))
        response = await client.post("/dev/sign-out", form={"csrf_token": token})
        stored = await read_shared_session(app, sid)
    assert response.status_code == 303
    assert stored == {"blog_theme": "dark"}


async def test_a_corrupt_session_value_is_treated_as_signed_out(app: Quart, client: Any) -> None:
    await runtime(app).redis.auth.set(session_key("broken"), "not json{")
    client.set_cookie("localhost", runtime(app).settings.session_cookie_name, "broken")
    response = await client.get("/healthz")
    assert response.status_code == 200


async def test_reading_a_page_does_not_write_the_session(app: Quart, client: Any) -> None:
    sid = await write_shared_session(app, {"user_id": 4})
    client.set_cookie("localhost", runtime(app).settings.session_cookie_name, sid)
    before = await runtime(app).redis.auth.ttl(session_key(sid))
    response = await client.get("/healthz")
    assert "Set-Cookie" not in response.headers or "coop_session" not in response.headers.get(
        "Set-Cookie", ""
    )
    assert json.loads(await runtime(app).redis.auth.get(session_key(sid)) or "{}") == {"user_id": 4}
    assert await runtime(app).redis.auth.ttl(session_key(sid)) <= before


def _form_token(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def _cookie(response: Any, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return str(header.split(";", 1)[0].split("=", 1)[1])
    raise AssertionError(f"no {name} cookie set")


async def pages_without_session_store(app_config: dict[str, Any], *paths: str) -> list[Any]:
    """The answers to `paths` of a browser with a session cookie while Redis is unreachable."""
    from app import create_app

    app = create_app({**app_config, "redis_url": "redis://127.0.0.1:9/0"})
    async with app.test_app():
        client = app.test_client()
        client.set_cookie("localhost", runtime(app).settings.session_cookie_name, "abc")
        return [await client.get(path) for path in paths]


async def test_a_page_answers_503_when_the_session_store_is_unreachable(
    app_config: dict[str, Any], clean_state: None
) -> None:
    page, probe = await pages_without_session_store(app_config, "/orders/", "/healthz")
    assert page.status_code == 503
    assert "We are having trouble right now" in await page.get_data(as_text=True)
    # Probes and other apps' calls do not depend on the shopper's session.
    assert probe.status_code == 200


async def test_an_unreachable_session_store_is_said_one_way_with_when_to_retry(
    app_config: dict[str, Any], clean_state: None
) -> None:
    (page,) = await pages_without_session_store(app_config, "/orders/")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    body = await page.get_data(as_text=True)
    assert "We are having trouble right now: we cannot reach our session store." in body
    assert "Please try again in a moment." in body
