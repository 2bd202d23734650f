"""CSRF: shopper POSTs need the token bound to the browser's cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Blueprint, Quart, render_template_string
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from tests.bp.cart.helpers import lines_of
from tests.support import factories as f
from tests.support.http import (
    TEST_HOST,
    cookie_of,
    csrf_token,
    settings_of,
    sign_in,
    token_from_page,
)

probe = Blueprint("csrf_probe", __name__)


@probe.post("/probe/action")
async def action() -> str:
    return "done"


@probe.get("/probe/form")
async def form() -> str:
    return await render_template_string("{{ csrf_token() }}")


@pytest.fixture
async def probe_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app(app_config)
    application.register_blueprint(probe)
    async with application.test_app():
        yield application


async def test_a_form_token_matching_the_cookie_is_accepted(probe_app: Quart) -> None:
    client = probe_app.test_client()
    token = csrf_token(probe_app, client)
    response = await client.post("/probe/action", form={"csrf_token": token})
    assert response.status_code == 200


async def test_the_htmx_header_is_accepted(probe_app: Quart) -> None:
    client = probe_app.test_client()
    token = csrf_token(probe_app, client)
    response = await client.post("/probe/action", headers={"X-CSRF-Token": token})
    assert response.status_code == 200


async def test_a_missing_token_is_a_403_with_a_message(probe_app: Quart) -> None:
    client = probe_app.test_client()
    csrf_token(probe_app, client)
    response = await client.post("/probe/action")
    assert response.status_code == 403
    assert "This form has expired" in await response.get_data(as_text=True)


async def test_a_token_from_another_browser_is_refused(probe_app: Quart) -> None:
    other = probe_app.test_client()
    stolen = csrf_token(probe_app, other)
    client = probe_app.test_client()
    csrf_token(probe_app, client)
    response = await client.post("/probe/action", form={"csrf_token": stolen})
    assert response.status_code == 403


async def test_the_first_page_view_sets_the_cookie_its_token_is_made_for(probe_app: Quart) -> None:
    client = probe_app.test_client()
    page = await client.get("/probe/form")
    token = await page.get_data(as_text=True)
    assert cookie_of(client, settings_of(probe_app).session_cookie_name) is not None
    response = await client.post("/probe/action", form={"csrf_token": token})
    assert response.status_code == 200


async def test_a_token_planted_with_its_cookies_does_not_act_for_the_victim(
    app: Quart, db: AsyncSession
) -> None:
    # The attacker opens a page, then plants its cookies (all but the session: replacing that
    # would sign the victim out) in the victim's browser and forges a POST with its token.
    product = await f.product(db, await f.page(db))
    attacker = app.test_client()
    token = await token_from_page(attacker)
    victim = app.test_client()
    await sign_in(app, victim, 5)
    session_cookie = settings_of(app).session_cookie_name
    for cookie in attacker.cookie_jar or ():
        if cookie.name != session_cookie:
            victim.set_cookie(TEST_HOST, cookie.name, str(cookie.value))

    response = await victim.post(f"/add/{product.id}/", form={"csrf_token": token})

    assert response.status_code == 403
    assert await lines_of(db, user_id=5) == {}


async def test_a_token_for_one_session_is_refused_in_another(app: Quart, db: AsyncSession) -> None:
    product = await f.product(db, await f.page(db))
    client = app.test_client()
    await sign_in(app, client, 5)
    token = await token_from_page(client)
    await sign_in(app, client, 5)  # the account app handed out a new session id

    response = await client.post(f"/add/{product.id}/", form={"csrf_token": token})

    assert response.status_code == 403
    assert await lines_of(db, user_id=5) == {}


@pytest.mark.parametrize("token", ["é" * 20, "☃", "токен", "\x00" * 8])
async def test_a_non_ascii_token_is_a_403(probe_app: Quart, token: str) -> None:
    client = probe_app.test_client()
    csrf_token(probe_app, client)
    by_form = await client.post("/probe/action", form={"csrf_token": token})
    assert by_form.status_code == 403
    assert "This form has expired" in await by_form.get_data(as_text=True)
    if token.isprintable() and all(ord(ch) < 256 for ch in token):
        by_header = await client.post("/probe/action", headers={"X-CSRF-Token": token})
        assert by_header.status_code == 403
