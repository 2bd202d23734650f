"""Fixtures for the stand-in's own tests: an API client with a key, and a checkout factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

API_KEY = "sup_sk_standin_tests"
MERCHANT_CODE = "MSTANDIN"

MakeCheckout = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def sumup_api(sumup_standin: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the stand-in's SumUp API, authenticated with API_KEY."""
    async with httpx.AsyncClient(
        base_url=sumup_standin, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def shopper(sumup_standin: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the hosted pages that follows redirects, as a shopper's browser does."""
    async with httpx.AsyncClient(
        base_url=sumup_standin, follow_redirects=True, timeout=10
    ) as client:
        yield client


@pytest.fixture
def make_checkout(sumup_api: httpx.AsyncClient) -> MakeCheckout:
    """Create a hosted checkout through the API (fields override the defaults) and return it."""
    counter = iter(range(1, 1_000_000))

    async def make(**fields: Any) -> dict[str, Any]:
        body = {
            "checkout_reference": f"ref-{next(counter)}",
            "amount": 12.5,
            "currency": "EUR",
            "merchant_code": MERCHANT_CODE,
            "description": "Two jars of honey",
            "hosted_checkout": {"enabled": True},
            **fields,
        }
        response = await sumup_api.post("/v0.1/checkouts", json=body)
        assert response.status_code == 201, response.text
        checkout: dict[str, Any] = response.json()
        return checkout

    return make
