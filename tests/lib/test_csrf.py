"""CSRF: shopper POSTs need the token bound to the browser's cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Blueprint, Quart, render_template_string

from app import create_app
from lib.csrf import COOKIE_NAME
from tests.support.http import csrf_token

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
    assert COOKIE_NAME in page.headers.get("Set-Cookie", "")
    response = await client.post("/probe/action", form={"csrf_token": token})
    assert response.status_code == 200
