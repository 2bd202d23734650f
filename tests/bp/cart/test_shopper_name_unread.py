"""A page whose header cannot read the shopper's name from the account domain still shows:
"Signed in" instead of the name, whatever the driver raised."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from quart import Quart

from bp.cart import template_helpers
from tests.support.http import sign_in

FAILURES = [
    asyncpg.exceptions.InternalClientError("cannot switch to state 11; another operation"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
    asyncpg.exceptions.AdminShutdownError("terminating connection"),
    ConnectionResetError(104, "Connection reset by peer"),
]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda e: type(e).__name__)
async def test_the_header_says_signed_in_when_the_name_cannot_be_read(
    app: Quart, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    async def unreadable(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(template_helpers, "page_shopper_contact", unreadable)
    client = app.test_client()
    await sign_in(app, client, 9)

    # An unknown page: the framework's 404 page, with the site's header.
    response = await client.get("/no-such-page/")

    page = await response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Signed in" in page
