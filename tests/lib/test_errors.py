"""One error mapping: JSON for internal callers, a fragment for HTMX, a page for browsers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Blueprint, Quart

from app import create_app
from lib.csrf import csrf_exempt
from lib.error_codes import ErrorCode
from lib.errors import NotFound, ServiceError

probe = Blueprint("probe", __name__)


@probe.get("/probe/conflict")
async def conflict() -> str:
    raise ServiceError(409, ErrorCode.CART_CHANGED)


@probe.get("/internal/cart/probe")
async def internal_probe() -> str:
    raise NotFound(ErrorCode.ORDER_NOT_FOUND)


@probe.get("/probe/crash")
async def crash() -> str:
    raise RuntimeError("secret stack detail")


@probe.post("/probe/exempt")
@csrf_exempt
async def exempt() -> str:
    return "ok"


@pytest.fixture
async def probe_app(app_config: dict[str, Any], clean_state: None) -> AsyncIterator[Quart]:
    application = create_app(app_config)
    application.register_blueprint(probe)
    async with application.test_app():
        yield application


async def test_a_page_request_gets_an_error_page(probe_app: Quart) -> None:
    response = await probe_app.test_client().get("/probe/conflict")
    body = await response.get_data(as_text=True)
    assert response.status_code == 409
    assert "<html" in body and "Your cart changed, please review it." in body
    assert 'data-error-code="CART_CHANGED"' in body


async def test_an_htmx_request_gets_a_fragment_aimed_at_the_error_toasts(probe_app: Quart) -> None:
    response = await probe_app.test_client().get("/probe/conflict", headers={"HX-Request": "true"})
    body = await response.get_data(as_text=True)
    assert response.status_code == 409
    assert "<html" not in body and "Your cart changed, please review it." in body
    assert response.headers["HX-Retarget"] == "#alerts"


async def test_an_internal_call_gets_json(probe_app: Quart) -> None:
    response = await probe_app.test_client().get("/internal/cart/probe")
    assert response.status_code == 404
    assert await response.get_json() == {
        "error": {
            "code": "ORDER_NOT_FOUND",
            "message": "We could not find that order. It may belong to another account.",
        }
    }


async def test_an_unknown_route_is_a_404_page(client: Any) -> None:
    response = await client.get("/no/such/page/here")
    body = await response.get_data(as_text=True)
    assert response.status_code == 404
    assert "We could not find that page" in body


async def test_an_unexpected_error_shows_no_stack_trace(probe_app: Quart) -> None:
    response = await probe_app.test_client().get("/probe/crash")
    body = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "secret stack detail" not in body and "Traceback" not in body


async def test_a_wrong_method_is_a_405_with_a_message(client: Any) -> None:
    response = await client.post("/healthz")
    assert response.status_code == 405
    assert "That action is not available here." in await response.get_data(as_text=True)


async def test_an_exempt_view_takes_a_post_without_token(probe_app: Quart) -> None:
    response = await probe_app.test_client().post("/probe/exempt")
    assert response.status_code == 200
