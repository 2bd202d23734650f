"""The internal token: an empty expected token opens nothing, and guessing is slowed down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from app import create_app
from lib.error_handlers import register_error_handlers
from lib.internal_auth import install_internal_auth, require_internal_token
from tests.support.http import internal_headers

INTERNAL_GETS = [
    "/internal/cart/summary?user_id=1",
    "/internal/fragments/cart-mini?user_id=1",
    "/metrics",
]


def bare_app(token: str) -> Quart:
    application = Quart(__name__)
    register_error_handlers(application)
    install_internal_auth(application, token=token)

    @application.get("/internal/cart/probe")
    @require_internal_token
    async def probe() -> str:
        return "inside"

    return application


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer  ", "bearer \t", ""])
async def test_an_empty_expected_token_lets_nobody_in(header: str) -> None:
    application = bare_app("")
    response = await application.test_client().get(
        "/internal/cart/probe", headers={"Authorization": header}
    )
    assert response.status_code == 401


async def test_the_right_token_still_opens_the_door() -> None:
    application = bare_app("t" * 40)
    client = application.test_client()
    assert (
        await client.get("/internal/cart/probe", headers={"Authorization": "Bearer " + "t" * 40})
    ).status_code == 200
    assert (
        await client.get("/internal/cart/probe", headers={"Authorization": "Bearer " + "t" * 39})
    ).status_code == 401


@pytest.fixture
async def blank_token_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app({**app_config, "internal_api_token": ""})
    async with application.test_app():
        yield application


@pytest.mark.parametrize("path", INTERNAL_GETS)
async def test_a_blank_configured_token_does_not_open_the_internal_api(
    blank_token_app: Quart, path: str
) -> None:
    client = blank_token_app.test_client()
    response = await client.get(path, headers={"Authorization": "Bearer "})
    assert response.status_code == 401


async def test_a_blank_adopt_token_moves_nobody_s_cart(blank_token_app: Quart) -> None:
    response = await blank_token_app.test_client().post(
        "/internal/cart/adopt",
        json={"user_id": 2, "session_id": "victim"},
        headers={"Authorization": "Bearer "},
    )
    assert response.status_code == 401


@pytest.fixture
async def guarded_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app(
        {**app_config, "rate_limit_enabled": True, "rate_limit_failed_tokens": "3/minute"}
    )
    async with application.test_app():
        yield application


async def test_wrong_tokens_are_slowed_down_with_429_and_retry_after(guarded_app: Quart) -> None:
    client = guarded_app.test_client()
    wrong = {"Authorization": "Bearer " + "w" * 40}
    answers = [
        await client.get("/internal/cart/summary?user_id=1", headers=wrong) for _ in range(6)
    ]
    assert [r.status_code for r in answers[:3]] == [401, 401, 401]
    assert [r.status_code for r in answers[3:]] == [429, 429, 429]
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    body = await refused.get_json()
    assert body["error"]["code"] == "TOO_MANY_REQUESTS"
    assert "try again" in body["error"]["message"]


async def test_the_right_token_is_never_slowed_down_by_someone_s_guessing(
    guarded_app: Quart,
) -> None:
    client = guarded_app.test_client()
    wrong = {"Authorization": "Bearer " + "w" * 40}
    for _ in range(5):
        await client.get("/internal/cart/summary?user_id=1", headers=wrong)
    for _ in range(10):
        response = await client.get(
            "/internal/cart/summary?user_id=1", headers=internal_headers(guarded_app)
        )
        assert response.status_code == 200


async def test_wrong_tokens_are_counted_per_client_across_routes(guarded_app: Quart) -> None:
    client = guarded_app.test_client()
    wrong = {"Authorization": "Bearer " + "w" * 40}
    routes = [
        "/internal/cart/summary?user_id=1",
        "/internal/fragments/cart-mini?user_id=1",
        "/metrics",
        "/internal/openapi.json",
        "/internal/fragments/account-nav-item",
    ]
    answers = [await client.get(path, headers=wrong) for path in routes]
    adopt = await client.post(
        "/internal/cart/adopt", json={"user_id": 1, "session_id": "s"}, headers=wrong
    )
    elsewhere = await client.get("/no/such/route", headers=wrong)

    assert [r.status_code for r in answers] == [401, 401, 401, 429, 429]
    assert adopt.status_code == 429
    assert elsewhere.status_code == 429


async def test_another_authorization_scheme_is_no_guess(guarded_app: Quart) -> None:
    # A staging site behind Basic auth sends it with every page.
    client = guarded_app.test_client()
    basic = {"Authorization": "Basic c3RhZ2luZzpzZWNyZXQ="}
    statuses = [(await client.get("/", headers=basic)).status_code for _ in range(8)]
    assert statuses == [200] * 8
