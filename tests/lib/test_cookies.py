"""The session cookie: `Secure` (and `__Host-` when it may be) over HTTPS, forced in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from quart import Quart
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from bp.runtime import runtime
from models import CartItem
from tests.bp.cart.helpers import lines_of
from tests.support import factories as f
from tests.support.http import token_from_page

PRODUCTION_SECRETS = {
    "app_env": "production",
    "secret_key": "s" * 40,
    "internal_api_token": "t" * 40,
    "page_config_encryption_key": "a2V5LWZvci1zZWFsaW5nLXBhZ2UtYXBpLWtleXMtMzI=",
}


@asynccontextmanager
async def serving(config: dict[str, Any]) -> AsyncIterator[Quart]:
    application = create_app(config)
    async with application.test_app():
        yield application


def session_cookie_header(response: Any) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if "session" in h.split("=")[0]]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return str(headers[0])


async def test_over_https_without_a_domain_the_cookie_is_host_prefixed(
    app_config: dict[str, Any], clean_state: None
) -> None:
    async with serving({**app_config, "session_cookie_secure": True}) as app:
        async with runtime(app).databases.sessionmaker() as db:
            product = await f.product(db, await f.page(db))
        client = app.test_client()
        page = await client.get("/")
        header = session_cookie_header(page)
        token = await token_from_page(client)
        added = await client.post(f"/add/{product.id}/", form={"csrf_token": token})
        async with runtime(app).databases.sessionmaker() as db:
            carts = await lines_of_any_anonymous(db)

    assert header.startswith("__Host-coop_session=")
    assert "Secure" in header and "Path=/" in header and "Domain" not in header
    # The prefixed cookie is the one read back: the add lands in the cart it names.
    assert added.status_code == 303
    assert carts == [{product.id: 1}]


async def lines_of_any_anonymous(db: AsyncSession) -> list[dict[int, int]]:
    sids = list(await db.scalars(select(CartItem.session_id).distinct()))
    return [await lines_of(db, session_id=sid) for sid in sids]


async def test_with_a_shared_domain_the_cookie_keeps_its_contract_name(
    app_config: dict[str, Any], clean_state: None
) -> None:
    config = {
        **app_config,
        "session_cookie_secure": True,
        "session_cookie_domain": ".rose-ash.test",
    }
    async with serving(config) as app:
        header = session_cookie_header(await app.test_client().get("/"))

    assert header.startswith("coop_session=")
    assert "Secure" in header and "rose-ash.test" in header


async def test_production_cookies_are_secure_even_when_not_asked(
    app_config: dict[str, Any], clean_state: None
) -> None:
    config = {**app_config, **PRODUCTION_SECRETS, "session_cookie_secure": False}
    async with serving(config) as app:
        response = await app.test_client().get("/")

    assert "Secure" in session_cookie_header(response)
    assert "max-age" in response.headers.get("Strict-Transport-Security", "")


async def test_production_over_plain_http_must_be_said_explicitly(
    app_config: dict[str, Any], clean_state: None
) -> None:
    config = {**app_config, **PRODUCTION_SECRETS, "allow_insecure_http": True}
    async with serving(config) as app:
        response = await app.test_client().get("/")

    header = session_cookie_header(response)
    assert header.startswith("coop_session=") and "Secure" not in header
    assert "Strict-Transport-Security" not in response.headers
